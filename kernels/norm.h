// Normalisation layers: batch norm, group norm and layer norm (PyTorch
// semantics), forward and backward.
//
// Statistics are computed two-pass (mean, then the mean of squared
// deviations) with double accumulators, for every T; every backward
// reduction also sums in double. The variance is the biased one
// (divide by n); invstd = 1 / sqrt(var + eps) is computed by the caller
// (batch norm) or by the forward kernel (group norm).
//
// Batch norm. x is [B, C, S] (S = product of the spatial dims, 1 for a
// [B, C] input); the statistics of channel c run over its n = B * S values.
//   y = (x - mean[c]) * invstd[c] * weight[c] + bias[c]
// Training uses the batch mean / invstd; eval passes the running ones.
// Backward with xhat = (x - mean) * invstd, sums over the n values of c:
//   dbias[c]   = sum(dout)
//   dweight[c] = sum(dout * xhat)
//   training:  dx = weight * invstd * (dout - dbias[c] / n - xhat * dweight[c] / n)
//   eval:      dx = weight * invstd * dout          (the statistics are constants)
//
// Group norm. x is [B, C, S], C = G * K; the statistics of (b, g) run over
// the m = K * S values of channels g*K .. g*K+K-1 of sample b.
//   y = (x - mean[b, g]) * invstd[b, g] * weight[c] + bias[c]
// Backward, with gw = dout * weight[c] and sums over the m values of (b, g):
//   dx = invstd * (gw - sum(gw) / m - xhat * sum(gw * xhat) / m)
//   dweight[c] = sum over b, s of dout * xhat,  dbias[c] = sum over b, s of dout
// Layer norm over trailing dims of total size N is group norm with
// B = rows, C = N, S = 1, G = 1 (the affine is then per element of a row).
//
// weight / bias may be null: weight 1, bias 0 (affine off). A null output
// gradient pointer is skipped. Output gradients: d = beta * d + result;
// beta = 0 overwrites without reading.
#pragma once

#include <cstdint>

namespace sirs {

// mean[c] and biased var[c] over the B * S values of each channel.
template <class T>
void batch_norm_stats_cpu(const T* x,  // [B, C, S]
                          T* mean,     // [C], overwritten
                          T* var,      // [C], overwritten
                          int64_t B, int64_t C, int64_t S);

template <class T>
void batch_norm_forward_cpu(const T* x,       // [B, C, S]
                            const T* mean,    // [C]
                            const T* invstd,  // [C]
                            const T* weight,  // [C] or null
                            const T* bias,    // [C] or null
                            T* out,           // [B, C, S], overwritten
                            int64_t B, int64_t C, int64_t S);

template <class T>
void batch_norm_backward_cpu(const T* dout,    // [B, C, S]
                             const T* x,       // [B, C, S]
                             const T* mean,    // [C] as used in the forward
                             const T* invstd,  // [C] as used in the forward
                             const T* weight,  // [C] or null
                             T* dx,            // [B, C, S] or null
                             T* dweight,       // [C] or null
                             T* dbias,         // [C] or null
                             int64_t B, int64_t C, int64_t S, bool training, double beta);

template <class T>
void group_norm_forward_cpu(const T* x,       // [B, C, S]
                            const T* weight,  // [C] or null
                            const T* bias,    // [C] or null
                            T* out,           // [B, C, S], overwritten
                            T* mean,          // [B, G], overwritten
                            T* invstd,        // [B, G], overwritten
                            int64_t B, int64_t C, int64_t S, int64_t G, double eps);

template <class T>
void group_norm_backward_cpu(const T* dout,    // [B, C, S]
                             const T* x,       // [B, C, S]
                             const T* mean,    // [B, G]
                             const T* invstd,  // [B, G]
                             const T* weight,  // [C] or null
                             T* dx,            // [B, C, S] or null
                             T* dweight,       // [C] or null
                             T* dbias,         // [C] or null
                             int64_t B, int64_t C, int64_t S, int64_t G, double beta);

}  // namespace sirs
