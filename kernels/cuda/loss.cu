// Cross-entropy with fused log-softmax, and cosine similarity, on CUDA
// (contract: kernels/loss.h; launchers: kernels/cuda/loss_cuda.h).
//
//   lse[b, s]  = m + log sum_k exp(x[b, k, s] - m),   m = max_k x[b, k, s]
//   loss[b, s] = w[y] * (lse[b, s] - x[b, y, s])      (0 when y == ignore_index)
//   dx[b, k, s] = g[b, s] * w[y] * (exp(x[b, k, s] - lse[b, s]) - [k == y])
//   cos[m] = a.b / max(|a| |b|, eps)
//
// Layout: logits [B, K, S] contiguous (S = H * W, or 1 for [B, K]).
// Numerics follow the CPU reference: the max is taken with the same
// comparison (m < v ? v : m), exp in T, the sum of exponentials and the
// log in double; cosine dots and norms in double.
//
// Versions (all v1, all live; the choice is by layout, not a tuning knob):
//   cross_entropy_{forward,backward}_kernel_v1: S > 1, one thread per pixel
//     (b, s) in a grid-stride loop, looping over K. Adjacent threads read
//     adjacent s for every k (stride S between classes): coalesced.
//   cross_entropy_{forward,backward}_rows_kernel_v1: S == 1 ([B, K]), one
//     warp per row b, lanes striding over K (coalesced), max and sum by warp
//     shuffles. A thread-per-row kernel would read rows with stride K across
//     a warp and leave the GPU idle for small B.
//   cross_entropy_partials_kernel_v1 + cross_entropy_final_kernel_v1: the
//     sum / mean. The first writes one (loss, weight) pair of double partial
//     sums per block for a grid whose size depends on N only; the second, one
//     block, adds the partials in a fixed order. Deterministic, no atomics.
//   cosine_similarity_{forward,backward}_kernel_v1: one warp per row m,
//     lanes striding over D; the three dot products reduced by shuffles.
// Deterministic: every output has one writer and a fixed summation order.
// No atomics. An invalid target sets the forward's check flag (a store of 1
// to mapped host memory, kernels/cuda/deferred_check.h; the host reads it
// later, without a sync, and finds the first invalid target itself). Until
// then later kernels see the bad target: the reduction and the backward
// treat it as contributing nothing (no weight[y] read, a zero gradient row).
//
// Tests: make test GTEST_FILTER='CudaCrossEntropy*:CudaCosine*:NNCrossEntropy*:NNCosine*'
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/deferred_check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/loss_cuda.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;  // 8 warps; a multiple of 32 as block_sum needs

__device__ __forceinline__ float dev_exp(float v) { return expf(v); }
__device__ __forceinline__ double dev_exp(double v) { return exp(v); }

// The loss of one element given its log-sum-exp l; xp points at x[b, 0, s]
// and class k sits at xy[k * stride]. A target that is neither ignored nor
// a class sets the check flag and contributes 0.
template <class T>
__device__ __forceinline__ T ce_element_loss(const T* xp, int64_t stride, T l, int64_t y,
                                             const T* weight, int64_t ignore_index, int64_t K,
                                             int32_t* flag) {
  if (y == ignore_index) return T(0);
  if (y < 0 || y >= K) {
    device_check_fail(flag);
    return T(0);
  }
  T wy = weight ? weight[y] : T(1);
  return wy * (l - xp[y * stride]);
}

// Blocks of kThreads for one warp per row over `rows` rows.
int warp_row_blocks(int64_t rows) { return cuda_blocks(rows * 32, kThreads); }

}  // namespace

// ------------------------------------------------------------ cross-entropy forward

template <class T>
static __global__ void cross_entropy_forward_kernel_v1(const T* logits, const int64_t* target,
                                                       const T* weight, int64_t ignore_index,
                                                       int64_t B, int64_t K, int64_t S, T* loss,
                                                       T* lse, int32_t* flag) {
  const int64_t N = B * S;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < N;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t b = e / S, s = e - b * S;
    const T* xp = logits + b * K * S + s;
    T m = xp[0];
    for (int64_t k = 1; k < K; ++k) {
      T v = xp[k * S];
      m = m < v ? v : m;
    }
    double sum = 0;
    for (int64_t k = 0; k < K; ++k) sum += static_cast<double>(dev_exp(xp[k * S] - m));
    T l = m + static_cast<T>(log(sum));
    lse[e] = l;
    loss[e] = ce_element_loss(xp, S, l, target[e], weight, ignore_index, K, flag);
  }
}

template <class T>
static __global__ void cross_entropy_forward_rows_kernel_v1(const T* logits, const int64_t* target,
                                                            const T* weight, int64_t ignore_index,
                                                            int64_t B, int64_t K, T* loss, T* lse,
                                                            int32_t* flag) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;
  // b is the same for the 32 lanes of a warp, so whole warps enter and leave
  // the loop together, as the full-mask shuffles require.
  for (int64_t b = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5; b < B;
       b += warps) {
    const T* xp = logits + b * K;
    T m = xp[0];
    for (int64_t k = lane; k < K; k += 32) {
      T v = xp[k];
      m = m < v ? v : m;
    }
    m = warp_max(m);
    double sum = 0;
    for (int64_t k = lane; k < K; k += 32) sum += static_cast<double>(dev_exp(xp[k] - m));
    sum = warp_sum(sum);
    if (lane == 0) {
      T l = m + static_cast<T>(log(sum));
      lse[b] = l;
      loss[b] = ce_element_loss(xp, 1, l, target[b], weight, ignore_index, K, flag);
    }
  }
}

template <class T>
void cross_entropy_forward_cuda(const T* logits, const int64_t* target, const T* weight,
                                int64_t ignore_index, int64_t B, int64_t K, int64_t S, T* loss,
                                T* lse, int32_t* flag, cudaStream_t stream) {
  if (B * S <= 0 || K <= 0) return;
  if (S == 1) {
    cross_entropy_forward_rows_kernel_v1<T><<<warp_row_blocks(B), kThreads, 0, stream>>>(
        logits, target, weight, ignore_index, B, K, loss, lse, flag);
  } else {
    cross_entropy_forward_kernel_v1<T><<<cuda_blocks(B * S, kThreads), kThreads, 0, stream>>>(
        logits, target, weight, ignore_index, B, K, S, loss, lse, flag);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// ------------------------------------------------------------ cross-entropy reduction

template <class T>
static __global__ void cross_entropy_partials_kernel_v1(const T* loss, const int64_t* target,
                                                        const T* weight, int64_t ignore_index,
                                                        int64_t N, int64_t K,
                                                        double* partials) {  // [2, gridDim.x]
  __shared__ double shared[2][32];
  double l = 0, w = 0;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < N;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    l += static_cast<double>(loss[i]);
    int64_t y = target[i];
    // A target outside [0, K) is an error the forward's check reports
    // later; here it adds no weight (and reads none).
    if (y != ignore_index && y >= 0 && y < K) w += weight ? static_cast<double>(weight[y]) : 1.0;
  }
  l = block_sum(l, shared[0]);
  w = block_sum(w, shared[1]);
  if (threadIdx.x == 0) {
    partials[blockIdx.x] = l;
    partials[gridDim.x + blockIdx.x] = w;
  }
}

template <class T>
static __global__ void cross_entropy_final_kernel_v1(const double* partials,  // [2, parts]
                                                     int parts, bool mean, T* out, double* wsum) {
  __shared__ double shared[2][32];
  double l = 0, w = 0;
  for (int i = threadIdx.x; i < parts; i += blockDim.x) {
    l += partials[i];
    w += partials[parts + i];
  }
  l = block_sum(l, shared[0]);
  w = block_sum(w, shared[1]);
  if (threadIdx.x == 0) {
    out[0] = static_cast<T>(mean ? l / w : l);  // 0 / 0 = NaN when all are ignored
    if (wsum) wsum[0] = w;
  }
}

template <class T>
static __global__ void cross_entropy_mean_grad_kernel_v1(const T* dout, const double* wsum, T* g) {
  g[0] = static_cast<T>(static_cast<double>(dout[0]) * (1.0 / wsum[0]));
}

template <class T>
void cross_entropy_reduce_cuda(const T* loss, const int64_t* target, const T* weight,
                               int64_t ignore_index, int64_t N, int64_t K, bool mean, T* out,
                               double* wsum, int device, cudaStream_t stream) {
  // At least 4 elements per thread, at most 1024 partials: the count is a
  // function of N alone, so the summation tree is the same on every run.
  constexpr int kMaxParts = 1024;
  int parts = cuda_blocks(N, kThreads * 4);
  if (parts > kMaxParts) parts = kMaxParts;
  CudaBuffer partials(2 * static_cast<size_t>(parts) * sizeof(double), device);
  cross_entropy_partials_kernel_v1<T><<<parts, kThreads, 0, stream>>>(
      loss, target, weight, ignore_index, N, K, partials.as<double>());
  SIRS_CUDA_CHECK(cudaGetLastError());
  cross_entropy_final_kernel_v1<T>
      <<<1, kThreads, 0, stream>>>(partials.as<double>(), parts, mean, out, wsum);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void cross_entropy_mean_grad_cuda(const T* dout, const double* wsum, T* g, cudaStream_t stream) {
  cross_entropy_mean_grad_kernel_v1<T><<<1, 1, 0, stream>>>(dout, wsum, g);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// ------------------------------------------------------------ cross-entropy backward

template <class T>
static __global__ void cross_entropy_backward_kernel_v1(const T* logits, const int64_t* target,
                                                        const T* weight, int64_t ignore_index,
                                                        const T* lse, const T* g, int64_t g_stride,
                                                        int64_t B, int64_t K, int64_t S,
                                                        T* dlogits) {
  const int64_t N = B * S;
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < N;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t b = e / S, s = e - b * S;
    const T* xp = logits + b * K * S + s;
    T* dp = dlogits + b * K * S + s;
    int64_t y = target[e];
    T l = lse[e];
    // c = g * w[y] scales the whole class column; 0 for ignored elements
    // and for a target outside [0, K) (an error the forward's check reports
    // later; until then its gradient is zero and weight is not read there).
    T c = T(0);
    if (y == ignore_index || y < 0 || y >= K)
      y = -1;
    else
      c = g[e * g_stride] * (weight ? weight[y] : T(1));
    for (int64_t k = 0; k < K; ++k)
      dp[k * S] = c * (dev_exp(xp[k * S] - l) - (k == y ? T(1) : T(0)));
  }
}

template <class T>
static __global__ void cross_entropy_backward_rows_kernel_v1(const T* logits, const int64_t* target,
                                                             const T* weight, int64_t ignore_index,
                                                             const T* lse, const T* g,
                                                             int64_t g_stride, int64_t B, int64_t K,
                                                             T* dlogits) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;
  for (int64_t b = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5; b < B;
       b += warps) {
    const T* xp = logits + b * K;
    T* dp = dlogits + b * K;
    int64_t y = target[b];
    T l = lse[b];
    T c = T(0);
    if (y == ignore_index || y < 0 || y >= K)  // as in the kernel above
      y = -1;
    else
      c = g[b * g_stride] * (weight ? weight[y] : T(1));
    for (int64_t k = lane; k < K; k += 32)
      dp[k] = c * (dev_exp(xp[k] - l) - (k == y ? T(1) : T(0)));
  }
}

template <class T>
void cross_entropy_backward_cuda(const T* logits, const int64_t* target, const T* weight,
                                 int64_t ignore_index, const T* lse, const T* g, int64_t g_stride,
                                 int64_t B, int64_t K, int64_t S, T* dlogits, cudaStream_t stream) {
  if (B * S <= 0 || K <= 0) return;
  if (S == 1) {
    cross_entropy_backward_rows_kernel_v1<T><<<warp_row_blocks(B), kThreads, 0, stream>>>(
        logits, target, weight, ignore_index, lse, g, g_stride, B, K, dlogits);
  } else {
    cross_entropy_backward_kernel_v1<T><<<cuda_blocks(B * S, kThreads), kThreads, 0, stream>>>(
        logits, target, weight, ignore_index, lse, g, g_stride, B, K, S, dlogits);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// ------------------------------------------------------------ cosine similarity

namespace {

struct RowDots {
  double ab, aa, bb;
};

// The three dot products of row pair (a, b) of length D, every lane of the
// warp getting the full sums (xor shuffles: the same bits in every lane).
template <class T>
__device__ __forceinline__ RowDots warp_row_dots(const T* a, const T* b, int64_t D, int lane) {
  double ab = 0, aa = 0, bb = 0;
  for (int64_t d = lane; d < D; d += 32) {
    double x = static_cast<double>(a[d]), y = static_cast<double>(b[d]);
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return RowDots{warp_sum(ab), warp_sum(aa), warp_sum(bb)};
}

}  // namespace

template <class T>
static __global__ void cosine_similarity_forward_kernel_v1(const T* a, const T* b, int64_t M,
                                                           int64_t D, double eps, T* out) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;
  for (int64_t m = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5; m < M;
       m += warps) {
    RowDots r = warp_row_dots(a + m * D, b + m * D, D, lane);
    if (lane == 0) {
      double n = sqrt(r.aa) * sqrt(r.bb);
      out[m] = static_cast<T>(r.ab / (n < eps ? eps : n));  // std::max(n, eps), NaN kept
    }
  }
}

template <class T>
static __global__ void cosine_similarity_backward_kernel_v1(const T* a, const T* b, const T* dout,
                                                            int64_t M, int64_t D, double eps, T* da,
                                                            T* db) {
  const int lane = threadIdx.x & 31;
  const int64_t warps = (static_cast<int64_t>(gridDim.x) * blockDim.x) >> 5;
  for (int64_t m = (blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x) >> 5; m < M;
       m += warps) {
    const T* ap = a + m * D;
    const T* bp = b + m * D;
    RowDots r = warp_row_dots(ap, bp, D, lane);
    double n = sqrt(r.aa) * sqrt(r.bb), g = static_cast<double>(dout[m]);
    // da = ca_b * b + ca_a * a,  db = cb_a * a + cb_b * b  (kernels/loss.h).
    double ca_b, ca_a, cb_a, cb_b;
    if (n > eps) {
      double o = r.ab / n;
      ca_b = g / n;
      ca_a = -g * o / r.aa;
      cb_a = g / n;
      cb_b = -g * o / r.bb;
    } else {
      ca_b = cb_a = g / eps;
      ca_a = cb_b = 0;
    }
    for (int64_t d = lane; d < D; d += 32) {
      double x = static_cast<double>(ap[d]), y = static_cast<double>(bp[d]);
      da[m * D + d] = static_cast<T>(ca_b * y + ca_a * x);
      db[m * D + d] = static_cast<T>(cb_a * x + cb_b * y);
    }
  }
}

template <class T>
void cosine_similarity_forward_cuda(const T* a, const T* b, int64_t M, int64_t D, double eps,
                                    T* out, cudaStream_t stream) {
  if (M <= 0) return;
  cosine_similarity_forward_kernel_v1<T>
      <<<warp_row_blocks(M), kThreads, 0, stream>>>(a, b, M, D, eps, out);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void cosine_similarity_backward_cuda(const T* a, const T* b, const T* dout, int64_t M, int64_t D,
                                     double eps, T* da, T* db, cudaStream_t stream) {
  if (M <= 0 || D <= 0) return;
  cosine_similarity_backward_kernel_v1<T>
      <<<warp_row_blocks(M), kThreads, 0, stream>>>(a, b, dout, M, D, eps, da, db);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

#define SIRS_INSTANTIATE(T)                                                                        \
  template void cross_entropy_forward_cuda<T>(const T*, const int64_t*, const T*, int64_t,         \
                                              int64_t, int64_t, int64_t, T*, T*, int32_t*,         \
                                              cudaStream_t);                                       \
  template void cross_entropy_reduce_cuda<T>(const T*, const int64_t*, const T*, int64_t, int64_t, \
                                             int64_t, bool, T*, double*, int, cudaStream_t);       \
  template void cross_entropy_mean_grad_cuda<T>(const T*, const double*, T*, cudaStream_t);        \
  template void cross_entropy_backward_cuda<T>(const T*, const int64_t*, const T*, int64_t,        \
                                               const T*, const T*, int64_t, int64_t, int64_t,      \
                                               int64_t, T*, cudaStream_t);                         \
  template void cosine_similarity_forward_cuda<T>(const T*, const T*, int64_t, int64_t, double,    \
                                                  T*, cudaStream_t);                               \
  template void cosine_similarity_backward_cuda<T>(const T*, const T*, const T*, int64_t, int64_t, \
                                                   double, T*, T*, cudaStream_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
