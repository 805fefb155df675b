// Embedding lookup: a gather of rows, and its backward, a scatter-add.
//
//   forward:  out[n, e] = weight[idx[n], e]
//   backward: dweight[v, e] = beta * dweight[v, e] + sum_{n : idx[n] == v} dout[n, e]
//             for v != padding_idx; the padding row is only scaled by beta
//             (it gets no gradient). padding_idx < 0 means none.
//
// Layout: weight [V, E] and dweight [V, E] contiguous, indices [N] (any
// index shape flattened), out / dout [N, E]. Indices must already be
// validated to lie in [0, V).
//
// Backward determinism: the rows n are bucketed by index (a stable counting
// sort), then each dweight row is owned by one thread and sums its
// contributions in increasing n: no atomics, bit-identical results for any
// thread count.
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void embedding_forward_cpu(const T* weight,        // [V, E]
                           const int64_t* idx,     // [N]
                           int64_t N, int64_t E,
                           T* out);                // [N, E], overwritten

// beta = 0 overwrites dweight (its old contents are never read), 1 accumulates.
template <class T>
void embedding_backward_cpu(const T* dout,         // [N, E]
                            const int64_t* idx,    // [N]
                            int64_t N, int64_t E, int64_t V, int64_t padding_idx,
                            T* dweight,            // [V, E]
                            T beta);

}  // namespace sirs
