// 2-D max pooling with autograd (PyTorch's max_pool2d: floor mode, -inf
// padding, no dilation). CPU only for now (CUDA: issue #3); float32 and float64.
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// x [B, C, H, W] -> [B, C, Ho, Wo], Ho = floor((H + 2 padding - kernel) / stride) + 1.
// stride 0 means stride = kernel. padding <= kernel / 2. The backward sends
// each output gradient to the input element that won (the first maximum on
// ties), using the indices saved by the forward.
Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding = 0);
Tensor max_pool2d(const Tensor& x, int64_t kernel);  // stride = kernel, no padding

}  // namespace sirs
