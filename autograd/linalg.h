// Matrix products with autograd. CPU (OpenBLAS) or CUDA (cuBLAS,
// kernels/cuda/matmul_cuda.h); float32
// and float64. Inputs may be any view: a transposed operand is handed to
// BLAS as a transpose flag, other layouts are made contiguous first.
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// PyTorch semantics:
//   [M, K] x [K, N]             -> [M, N]
//   [..., M, K] x [..., K, N]   -> [..., M, N], batch dims broadcast
//                                  (e.g. [B, M, K] x [K, N], [2, 1, M, K] x [3, K, N])
//   1-D a [K]: treated as [1, K] and that dim dropped from the result;
//   1-D b [K]: treated as [K, 1] and that dim dropped; both 1-D: the dot product (0-d).
// Backward: dA = dC B^T, dB = A^T dC, summed over the batch dims each operand
// was broadcast along.
Tensor matmul(const Tensor& a, const Tensor& b);

// y = x W^T + bias with x [..., in], weight [out, in], bias [out] (optional):
// one GEMM over the flattened leading dims of x.
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());

}  // namespace sirs
