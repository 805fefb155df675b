// 2-D max pooling, PyTorch semantics (floor mode, padding counts as -inf so
// a padded position never wins).
//
//   y[b,c,oh,ow]   = max over r, s < kernel of x[b, c, oh*stride - pad + r, ow*stride - pad + s]
//   idx[b,c,oh,ow] = ih * W + iw of that maximum (the first one in r-major,
//                    then s order on ties)
//   Ho = floor((H + 2 pad - kernel) / stride) + 1, Wo alike.
//
// Backward routes each dy to the saved argmax:
//   dx = beta * dx;  dx[b, c, idx[b,c,oh,ow]] += dy[b,c,oh,ow]
// (beta = 0 overwrites, 1 accumulates). Windows that overlap (stride <
// kernel) may send several dy to one dx element; they are summed.
//
// Layouts: contiguous x [B, C, H, W], y / idx / dy [B, C, Ho, Wo]; the
// planes (b, c) run in parallel. Requires pad <= kernel / 2 (as PyTorch), so
// every window holds at least one real element.
#pragma once

#include <cstdint>

namespace sirs {

struct Pool2dGeom {
  int64_t B, C, H, W;
  int64_t Ho, Wo;
  int64_t kernel, stride, pad;
};

inline int64_t pool2d_out_size(int64_t in, int64_t kernel, int64_t stride, int64_t pad) {
  return (in + 2 * pad - kernel) / stride + 1;
}

template <class T>
void max_pool2d_forward_cpu(const Pool2dGeom& g,
                            const T* x,    // [B, C, H, W]
                            T* y,          // [B, C, Ho, Wo]
                            int64_t* idx); // [B, C, Ho, Wo]: ih * W + iw within the plane

template <class T>
void max_pool2d_backward_cpu(const Pool2dGeom& g,
                             const T* dy,         // [B, C, Ho, Wo]
                             const int64_t* idx,  // [B, C, Ho, Wo] from the forward
                             T beta,
                             T* dx);  // [B, C, H, W]

}  // namespace sirs
