// Bilinear resampling of image planes (PyTorch's upsample_bilinear2d with
// an explicit output size and no scale factor), forward and backward.
//
// For each output row oh (and likewise each column ow):
//   align_corners = true : src = oh * (H - 1) / (OH - 1)      (src = 0 when OH == 1)
//   align_corners = false: src = max((oh + 0.5) * H / OH - 0.5, 0)
//   h0 = floor(src), h1 = min(h0 + 1, H - 1), lh = src - h0
//   out[n, oh, ow] = (1-lh)(1-lw) x[n,h0,w0] + (1-lh) lw x[n,h0,w1]
//                  + lh (1-lw) x[n,h1,w0] + lh lw x[n,h1,w1]
// The same formula serves upsampling and downsampling (downsampling is not
// antialiased: each output still reads 4 neighbours).
// Backward scatters dout[n, oh, ow] with those 4 weights into dx. Planes
// are independent, so it runs parallel over planes with no races.
//
// Layout: N = B * C contiguous planes, row-major [N, H, W] and [N, OH, OW].
// Coordinates and weights are computed in double, then cast to T.
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void upsample_bilinear2d_forward_cpu(const T* x,  // [N, H, W]
                                     T* out,      // [N, OH, OW], overwritten
                                     int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                     bool align_corners);

// dx = beta * dx + scatter(dout); beta = 0 overwrites dx without reading it.
template <class T>
void upsample_bilinear2d_backward_cpu(const T* dout,  // [N, OH, OW]
                                      T* dx,          // [N, H, W]
                                      int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                      bool align_corners, double beta);

}  // namespace sirs
