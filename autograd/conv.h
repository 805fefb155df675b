// 2-D convolution with autograd (PyTorch's conv2d without groups). CPU, or CUDA
// through cuDNN (kernels/cuda/conv2d_cuda.h); float32 and float64.
#pragma once

#include "tensor/tensor.h"

namespace sirs {

struct Conv2dOptions {
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;
};

// x [B, C, H, W], weight [K, C, R, S], bias [K] or undefined -> [B, K, Ho, Wo]
// with Ho = floor((H + 2 pad_h - dil_h (R-1) - 1) / stride_h) + 1, Wo alike.
// Zero padding. Gradients for x, weight and bias.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o);
// Same stride, padding and dilation in both directions.
Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor(),
              int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1);

}  // namespace sirs
