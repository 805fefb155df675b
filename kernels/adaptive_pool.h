// Adaptive 2-D average and max pooling (PyTorch's adaptive_avg_pool2d and
// adaptive_max_pool2d), forward and backward.
//
// Output cell (oh, ow) pools the window
//   rows [floor(oh * H / OH), ceil((oh + 1) * H / OH))
//   cols [floor(ow * W / OW), ceil((ow + 1) * W / OW))
// Windows may overlap when sizes do not divide, and OH > H (or OW > W) is
// allowed: windows then hold one input element that several outputs share.
//   avg: out = sum(window) / |window|
//   max: out = max(window); index = h * W + w of the FIRST maximum in
//        row-major window order (a NaN counts as the maximum). Backward
//        sends dout to that one element.
// Backward accumulates over overlapping windows within a plane; planes are
// independent and run in parallel, so there are no races.
//
// Layout: N = B * C contiguous planes, [N, H, W] and [N, OH, OW].
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void adaptive_avg_pool2d_forward_cpu(const T* x,  // [N, H, W]
                                     T* out,      // [N, OH, OW], overwritten
                                     int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW);

// dx = beta * dx + scatter(dout / |window|); beta = 0 never reads dx.
template <class T>
void adaptive_avg_pool2d_backward_cpu(const T* dout,  // [N, OH, OW]
                                      T* dx,          // [N, H, W]
                                      int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                      double beta);

template <class T>
void adaptive_max_pool2d_forward_cpu(const T* x,        // [N, H, W]
                                     T* out,            // [N, OH, OW], overwritten
                                     int64_t* indices,  // [N, OH, OW], h * W + w in the plane
                                     int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW);

// dx = beta * dx + scatter(dout at indices); beta = 0 never reads dx.
template <class T>
void adaptive_max_pool2d_backward_cpu(const T* dout,           // [N, OH, OW]
                                      const int64_t* indices,  // [N, OH, OW]
                                      T* dx,                   // [N, H, W]
                                      int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                      double beta);

}  // namespace sirs
