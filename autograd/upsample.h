// Differentiable bilinear resampling (kernels: kernels/upsample.h).
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// x [B, C, H, W] -> [B, C, out_h, out_w], PyTorch's
// F.interpolate(x, size=(out_h, out_w), mode="bilinear", align_corners=...)
// for both up- and downsampling (no antialiasing):
//   align_corners = true : src = dst * (in - 1) / (out - 1), 0 when out == 1
//   align_corners = false: src = max((dst + 0.5) * in / out - 0.5, 0)
// neighbours floor(src) and min(floor(src) + 1, in - 1). float32 / float64,
// CPU, any strides. Backward gives dx.
Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners);

}  // namespace sirs
