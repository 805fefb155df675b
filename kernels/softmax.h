// Softmax and log-softmax along one dim.
//
//   softmax:      y[o, d, i] = exp(x[o, d, i] - m) / sum_d' exp(x[o, d', i] - m)
//   log_softmax:  y[o, d, i] = x[o, d, i] - m - log sum_d' exp(x[o, d', i] - m)
//   with m = max_d' x[o, d', i] (subtracting it keeps exp() from overflowing).
//
// Layout: a contiguous tensor viewed as [outer, D, inner], where D is the
// softmax dim, outer the product of the dims before it and inner the product
// of the dims after it (inner = 1 for the last dim). Element (o, d, i) sits
// at (o * D + d) * inner + i.
//
// Backward (both overwrite dx; y is the forward output):
//   softmax:      dx = y * (dy - sum_d y * dy)
//   log_softmax:  dx = dy - exp(y) * sum_d dy
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void softmax_forward_cpu(const T* x,  // [outer, D, inner]
                         T* y,        // [outer, D, inner]
                         int64_t outer, int64_t D, int64_t inner, bool log);

template <class T>
void softmax_backward_cpu(const T* y,   // [outer, D, inner]
                          const T* dy,  // [outer, D, inner]
                          T* dx,        // [outer, D, inner], overwritten
                          int64_t outer, int64_t D, int64_t inner, bool log);

}  // namespace sirs
