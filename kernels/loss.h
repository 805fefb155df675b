// Cross-entropy with fused log-softmax over the class dim.
//
//   lse[b, s]  = log sum_k exp(x[b, k, s])            (max-shifted)
//   loss[b, s] = w[y] * (lse[b, s] - x[b, y, s])      y = target[b, s]
//   loss[b, s] = 0                                    when y == ignore_index
//   w[y] = weight[y], or 1 when weight is null.
//
// Layout: logits [B, K, S] contiguous, S = H * W for dense prediction
// ([B, K, H, W]) and S = 1 for plain classification ([B, K]); target and the
// per-element outputs [B, S]. Targets must already be validated (every value
// in [0, K) or equal to ignore_index): the kernels do not check.
//
// Backward, with g[b, s] = dL/dloss[b, s] (the caller folds the reduction
// into g: 1 for sum, 1 / sum(w) for mean, dout[b, s] for none):
//   dx[b, k, s] = g[b, s] * w[y] * (exp(x[b, k, s] - lse[b, s]) - [k == y])
//   dx[b, :, s] = 0 for ignored elements.
// dx is overwritten.
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void cross_entropy_forward_cpu(const T* logits,         // [B, K, S]
                               const int64_t* target,   // [B, S]
                               const T* weight,         // [K], or null for all ones
                               int64_t ignore_index, int64_t B, int64_t K, int64_t S,
                               T* loss,                 // [B, S], overwritten
                               T* lse);                 // [B, S], overwritten

// g_stride: 1 when g holds one value per element [B, S], 0 when it is a
// single value shared by all elements (sum and mean reductions).
template <class T>
void cross_entropy_backward_cpu(const T* logits,        // [B, K, S]
                                const int64_t* target,  // [B, S]
                                const T* weight,        // [K], or null
                                int64_t ignore_index,
                                const T* lse,           // [B, S] from the forward
                                const T* g,             // [B, S] or [1]
                                int64_t g_stride, int64_t B, int64_t K, int64_t S,
                                T* dlogits);            // [B, K, S], overwritten

// Cosine similarity of M pairs of D-vectors (the SIRS formula, used by the
// retrieval similarity and its ranking loss):
//   out[m] = dot / max(|a| |b|, eps),  dot = sum_d a[m, d] b[m, d],  |a| = sqrt(sum_d a^2)
// Backward (da, db overwritten), with g = dout[m] and n = |a| |b|:
//   n > eps:  da = g * (b / n - out * a / |a|^2),  db = g * (a / n - out * b / |b|^2)
//   n <= eps: da = g * b / eps,                    db = g * a / eps
// (at n == eps the eps branch is taken: the max picks eps there). Norms and
// dot products are accumulated in double.
template <class T>
void cosine_similarity_forward_cpu(const T* a,  // [M, D]
                                   const T* b,  // [M, D]
                                   int64_t M, int64_t D, double eps,
                                   T* out);     // [M], overwritten

template <class T>
void cosine_similarity_backward_cpu(const T* a,     // [M, D]
                                    const T* b,     // [M, D]
                                    const T* dout,  // [M]
                                    int64_t M, int64_t D, double eps,
                                    T* da,          // [M, D], overwritten
                                    T* db);         // [M, D], overwritten

}  // namespace sirs
