// Differentiable adaptive pooling (kernels: kernels/adaptive_pool.h).
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// x [B, C, H, W] -> [B, C, out_h, out_w]; output cell (i, j) pools rows
// [floor(i*H/out_h), ceil((i+1)*H/out_h)) and the same for columns, so sizes
// need not divide and out may exceed in. PyTorch's adaptive_avg_pool2d.
Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

// Same windows, maximum; backward routes dout to the first maximum of each
// window (row-major). PyTorch's adaptive_max_pool2d (values only).
Tensor adaptive_max_pool2d(const Tensor& x, int64_t out_h, int64_t out_w);

}  // namespace sirs
