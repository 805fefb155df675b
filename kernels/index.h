// Index-driven copies: index_select and gather, and their backwards
// (index-add and scatter-add).
//
// index_select along a dim, the input viewed as [outer, N, inner] (N the
// size of the selected dim) and the index a list of L positions:
//   forward:  out[o, l, i] = x[o, idx[l], i]                      out [outer, L, inner]
//   backward: dx[o, n, i] = beta * dx[o, n, i] + sum_{l : idx[l] == n} dout[o, l, i]
//
// gather along a dim (PyTorch semantics), x viewed as [outer, N, inner] and
// index as [outer, L, inner] (the caller first narrows x to the index's
// sizes in the other dims, so outer and inner agree):
//   forward:  out[o, l, i] = x[o, idx[o, l, i], i]               out [outer, L, inner]
//   backward: dx[o, n, i] = beta * dx[o, n, i] + sum_{l : idx[o, l, i] == n} dout[o, l, i]
//
// Everything contiguous. Indices must already be validated to lie in
// [0, N). beta = 0 overwrites dx (old contents never read), 1 accumulates.
// Backward determinism: each (o, column tile) is owned by one thread that
// adds the l rows in increasing order, so duplicate indices accumulate
// without races and results do not depend on the thread count.
#pragma once

#include <cstdint>

namespace sirs {

// T: float, double, int64_t (forward); float, double (backward).
template <class T>
void index_select_forward_cpu(const T* x,            // [outer, N, inner]
                              const int64_t* idx,    // [L]
                              int64_t outer, int64_t N, int64_t inner, int64_t L,
                              T* out);               // [outer, L, inner], overwritten

template <class T>
void index_select_backward_cpu(const T* dout,        // [outer, L, inner]
                               const int64_t* idx,   // [L]
                               int64_t outer, int64_t N, int64_t inner, int64_t L,
                               T* dx,                // [outer, N, inner]
                               T beta);

template <class T>
void gather_forward_cpu(const T* x,                  // [outer, N, inner]
                        const int64_t* idx,          // [outer, L, inner]
                        int64_t outer, int64_t N, int64_t inner, int64_t L,
                        T* out);                     // [outer, L, inner], overwritten

template <class T>
void gather_backward_cpu(const T* dout,              // [outer, L, inner]
                         const int64_t* idx,         // [outer, L, inner]
                         int64_t outer, int64_t N, int64_t inner, int64_t L,
                         T* dx,                      // [outer, N, inner]
                         T beta);

}  // namespace sirs
