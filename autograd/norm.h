// Differentiable normalisation layers (kernels and formulas: kernels/norm.h).
// Statistics are two-pass with double accumulators for float32 and float64;
// the variance used to normalise is the biased one. weight / bias may be
// undefined Tensors (affine off). CPU or CUDA (every tensor on x's device;
// on CUDA the running statistics are updated on the device), float32 /
// float64, any strides.
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// x [B, C] or [B, C, *]; weight, bias, running_mean, running_var [C].
// training: normalise with the batch mean and biased variance over
//   (B, *); when running_mean / running_var are defined they are updated in
//   place, outside the graph:
//     running_mean = (1 - momentum) * running_mean + momentum * mean
//     running_var  = (1 - momentum) * running_var  + momentum * var * n / (n - 1)
//   (n = B * prod(*) > 1 values per channel, else ValueError).
// eval: normalise with running_mean / running_var (both must be defined).
// Backward: x, weight, bias in both modes (training differentiates through
// the batch statistics).
Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum = 0.1, double eps = 1e-5);

// x [B, C, *], C divisible by groups; statistics per sample and group of
// C / groups consecutive channels over (C / groups, *); weight, bias [C].
Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias,
                  double eps = 1e-5);

// Normalises over the trailing dims of x that equal normalized_shape;
// weight, bias have shape normalized_shape (elementwise affine).
Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps = 1e-5);

}  // namespace sirs
