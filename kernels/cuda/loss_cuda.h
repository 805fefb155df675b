// CUDA launchers for kernels/loss.h: cross-entropy with fused log-softmax
// (forward, the deterministic sum / mean reduction, backward) and cosine
// similarity (kernels/cuda/loss.cu). Same layouts and overwrite contract as
// the CPU functions there.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

// Per-element loss and log-sum-exp, as cross_entropy_forward_cpu. Targets
// are checked on the device in the same pass: when some target is neither
// ignore_index nor in [0, K), *flag (a flag of
// kernels/cuda/deferred_check.h) is set to 1, else left untouched; such
// elements get loss 0. The caller launches this through
// cuda_checked_launch (no sync), which raises the CPU's error. The reduction and the backward below treat
// such a target as contributing nothing, so they stay in bounds when they
// run before the error is reported.
template <class T>
void cross_entropy_forward_cuda(const T* logits,        // [B, K, S]
                                const int64_t* target,  // [B, S]
                                const T* weight,        // [K], or null for all ones
                                int64_t ignore_index, int64_t B, int64_t K, int64_t S,
                                T* loss,             // [B, S], overwritten
                                T* lse,              // [B, S], overwritten
                                int32_t* flag,       // [1], set to 1 on a bad target
                                cudaStream_t stream);

// The reduction of the per-element losses, in double:
//   total = sum_e loss[e],  wsum = sum over e with target[e] != ignore_index of w[target[e]]
//   out[0] = total (mean = false) or total / wsum (mean = true; 0 / 0 = NaN
//   when everything is ignored), rounded to T; wsum[0] = wsum when wsum is
//   not null. Both overwritten. Deterministic: a fixed number of block
//   partials (it depends on N only), summed in a fixed order by one block.
// Scratch comes from the caching allocator of `device` (the stream's).
template <class T>
void cross_entropy_reduce_cuda(const T* loss,          // [N]
                               const int64_t* target,  // [N]
                               const T* weight,        // [K], or null
                               int64_t ignore_index, int64_t N, int64_t K, bool mean,
                               T* out,        // [1], overwritten
                               double* wsum,  // [1], overwritten; or null
                               int device, cudaStream_t stream);

// g[0] = dout[0] * (1 / wsum[0]) in double, rounded to T: the mean
// reduction's gradient scale, computed as the CPU computes it.
template <class T>
void cross_entropy_mean_grad_cuda(const T* dout,       // [1]
                                  const double* wsum,  // [1]
                                  T* g,                // [1], overwritten
                                  cudaStream_t stream);

// dlogits as cross_entropy_backward_cpu (overwritten); g_stride 1 for one
// upstream value per element, 0 for a single shared value.
template <class T>
void cross_entropy_backward_cuda(const T* logits,        // [B, K, S]
                                 const int64_t* target,  // [B, S]
                                 const T* weight,        // [K], or null
                                 int64_t ignore_index,
                                 const T* lse,  // [B, S] from the forward
                                 const T* g,    // [B, S] or [1]
                                 int64_t g_stride, int64_t B, int64_t K, int64_t S,
                                 T* dlogits,  // [B, K, S], overwritten
                                 cudaStream_t stream);

// out[m] = a.b / max(|a| |b|, eps) over rows of D (kernels/loss.h), overwritten.
template <class T>
void cosine_similarity_forward_cuda(const T* a,  // [M, D]
                                    const T* b,  // [M, D]
                                    int64_t M, int64_t D, double eps,
                                    T* out,  // [M], overwritten
                                    cudaStream_t stream);

// da, db as cosine_similarity_backward_cpu, overwritten.
template <class T>
void cosine_similarity_backward_cuda(const T* a,     // [M, D]
                                     const T* b,     // [M, D]
                                     const T* dout,  // [M]
                                     int64_t M, int64_t D, double eps,
                                     T* da,  // [M, D], overwritten
                                     T* db,  // [M, D], overwritten
                                     cudaStream_t stream);

}  // namespace sirs
