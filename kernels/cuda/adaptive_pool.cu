// Adaptive average / max pooling on CUDA (contract and formula:
// kernels/adaptive_pool.h; launchers: kernels/cuda/adaptive_pool_cuda.h).
//
//   window(o) = [floor(o * In / Out), ceil((o + 1) * In / Out))   per axis
//   avg: out = sum(window) / |window|    (sum in double, as on the CPU)
//   max: out = max(window), index = h * W + w of the first maximum in
//        row-major order; the first NaN wins, as on the CPU
// Windows overlap when the sizes do not divide, and Out > In is allowed.
//
// Layout: N = B * C contiguous planes, x / dx [N, H, W], out / indices /
// dout [N, OH, OW].
//
// Versions (forward: both live, picked per call by the largest window):
//   forward_kernel_v1: one thread per output element, flat grid-stride loop
//     (neighbouring threads take neighbouring ow). Used for small windows.
//   forward_kernel_v2: one warp per output element; the lanes stride over
//     the window's elements (coalesced along a row), then reduce with
//     shuffles. Used when the largest window holds >= kWarpWindow elements,
//     e.g. the global pool (7x7 -> 1x1 at the end of a ResNet), where v1
//     would run one long serial loop on each of only B*C threads.
//   backward_kernel_v1 (live, the only one): a gather, one thread per input
//     element. The outputs whose windows hold input row h are exactly
//       oh in [floor(h * OH / H), ceil((h + 1) * OH / H))
//     (the window formula with In and Out swapped; derivation: start(oh) <= h
//     <=> oh * H < (h + 1) * OH, and end(oh) > h <=> (oh + 1) * H > h * OH),
//     and likewise for columns. The thread sums their contributions in
//     (oh, ow) order: no atomics, deterministic, the CPU scatter's order.
// Index arithmetic runs in int32 when every flat index and window bound fits
// (well below 2^31, so the grid-stride step cannot overflow), else in int64.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CudaAdaptivePool*'
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/adaptive_pool_cuda.h"
#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;  // a multiple of 32: v2 maps whole warps to outputs
// Largest window (elements) from which the forward switches to one warp per output.
constexpr int64_t kWarpWindow = 32;

template <class I>
__host__ __device__ __forceinline__ I win_start(I o, I in, I out) {
  return (o * in) / out;
}
template <class I>
__host__ __device__ __forceinline__ I win_end(I o, I in, I out) {
  return ((o + 1) * in + out - 1) / out;
}

// int32 index arithmetic is safe: flat indices below 2^30 (the grid-stride
// step is below 2^27) and (o + 1) * In + Out - 1 below 2^31 on both axes,
// in both directions (the backward swaps In and Out).
bool fits_int32(int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  constexpr int64_t kLimit = int64_t{1} << 30;
  return N * H * W < kLimit && N * OH * OW < kLimit && (H + 1) * (OH + 1) < kLimit &&
         (W + 1) * (OW + 1) < kLimit;
}

// Upper bound on the window length along one axis: In / Out when it
// divides, else at most ceil(In / Out) + 1.
int64_t max_window(int64_t in, int64_t out) { return in % out == 0 ? in / out : in / out + 2; }

bool use_warp_per_output(int64_t H, int64_t W, int64_t OH, int64_t OW) {
  return max_window(H, OH) * max_window(W, OW) >= kWarpWindow;
}

// Sizes in the kernels' index type I.
template <class I>
struct PoolSizes {
  I H, W, OH, OW;
};

template <class I>
PoolSizes<I> sizes(int64_t H, int64_t W, int64_t OH, int64_t OW) {
  return PoolSizes<I>{static_cast<I>(H), static_cast<I>(W), static_cast<I>(OH), static_cast<I>(OW)};
}

// One output's window: rows [h0, h1), columns [w0, w1) of plane n.
template <class I>
struct Window {
  I n, h0, h1, w0, w1;
};

// Window of output element o = ((n * OH) + oh) * OW + ow.
template <class I>
__host__ __device__ __forceinline__ Window<I> output_window(I o, const PoolSizes<I>& d) {
  const I ow = o % d.OW;
  const I t = o / d.OW;
  const I oh = t % d.OH;
  return Window<I>{t / d.OH, win_start(oh, d.H, d.OH), win_end(oh, d.H, d.OH),
                   win_start(ow, d.W, d.OW), win_end(ow, d.W, d.OW)};
}

// The per-element and per-lane bodies are __host__ __device__ so a host
// program can check their index math against the CPU kernels without a GPU.

template <class T, class I>
__host__ __device__ __forceinline__ void adaptive_avg_forward_element(const T* __restrict__ x,
                                                                      T* __restrict__ out, I o,
                                                                      const PoolSizes<I>& d) {
  const Window<I> win = output_window(o, d);
  const T* xp = x + win.n * d.H * d.W;
  double s = 0;
  for (I h = win.h0; h < win.h1; ++h)
    for (I w = win.w0; w < win.w1; ++w) s += static_cast<double>(xp[h * d.W + w]);
  out[o] = static_cast<T>(s / static_cast<double>((win.h1 - win.h0) * (win.w1 - win.w0)));
}

// Lane `lane`'s share of window `win`: the elements e = lane, lane + 32, ...
// in row-major window order.
template <class T, class I>
__host__ __device__ __forceinline__ double adaptive_avg_lane_sum(const T* __restrict__ x,
                                                                 const Window<I>& win, int lane,
                                                                 const PoolSizes<I>& d) {
  const I kw = win.w1 - win.w0, area = (win.h1 - win.h0) * kw;
  const T* xp = x + win.n * d.H * d.W + win.h0 * d.W + win.w0;
  double s = 0;
  if (kw == d.W) {
    // Whole rows (the global pool among them): the window is contiguous.
    // Two loads in flight per lane before either is added (the same order
    // of additions): a 7x7 plane costs one memory latency, not two.
    for (I e = lane; e < area; e += 64) {
      const T a = xp[e];
      const T b = e + 32 < area ? xp[e + 32] : T(0);
      s += static_cast<double>(a);
      if (e + 32 < area) s += static_cast<double>(b);
    }
    return s;
  }
  for (I e = lane; e < area; e += 32) {
    const I r = e / kw;
    s += static_cast<double>(xp[r * d.W + (e - r * kw)]);
  }
  return s;
}

// Input element i = ((n * H) + h) * W + w.
template <class T, class I>
__host__ __device__ __forceinline__ void adaptive_avg_backward_element(const T* __restrict__ dout,
                                                                       T* __restrict__ dx, I i,
                                                                       const PoolSizes<I>& d,
                                                                       double beta) {
  const I w = i % d.W;
  const I t = i / d.W;
  const I h = t % d.H;
  const I n = t / d.H;
  // Outputs whose windows cover (h, w): the window formula, In and Out swapped.
  const I oh0 = win_start(h, d.OH, d.H), oh1 = win_end(h, d.OH, d.H);
  const I ow0 = win_start(w, d.OW, d.W), ow1 = win_end(w, d.OW, d.W);
  const T* gp = dout + n * d.OH * d.OW;
  // beta == 0 must not read dx (it may hold garbage); the CPU scales in double.
  T acc = beta == 0.0 ? T(0) : static_cast<T>(beta * static_cast<double>(dx[i]));
  for (I oh = oh0; oh < oh1; ++oh) {
    const I kh = win_end(oh, d.H, d.OH) - win_start(oh, d.H, d.OH);
    for (I ow = ow0; ow < ow1; ++ow) {
      const I kw = win_end(ow, d.W, d.OW) - win_start(ow, d.W, d.OW);
      acc += gp[oh * d.OW + ow] / static_cast<T>(kh * kw);
    }
  }
  dx[i] = acc;
}

// Does candidate (v, vi) beat the current maximum (m, mi)? The order the
// CPU's first-maximum scan defines: any NaN beats any number, and among
// NaNs or equal numbers the smaller index wins. A total order on distinct
// indices, so the warp's butterfly reduction gives the sequential answer.
template <class T, class I>
__host__ __device__ __forceinline__ bool beats(T v, I vi, T m, I mi) {
  if (m != m) return v != v && vi < mi;
  if (v != v) return true;
  return v > m || (v == m && vi < mi);
}

template <class T, class I>
__host__ __device__ __forceinline__ void adaptive_max_forward_element(const T* __restrict__ x,
                                                                      T* __restrict__ out,
                                                                      int64_t* __restrict__ indices,
                                                                      I o, const PoolSizes<I>& d) {
  const Window<I> win = output_window(o, d);
  const T* xp = x + win.n * d.H * d.W;
  I best = win.h0 * d.W + win.w0;
  T m = xp[best];
  for (I h = win.h0; h < win.h1; ++h)
    for (I w = win.w0; w < win.w1; ++w) {
      const T v = xp[h * d.W + w];
      // Strictly greater keeps the first maximum; the first NaN wins and stays.
      if (v > m || (v != v && m == m)) {
        m = v;
        best = h * d.W + w;
      }
    }
  out[o] = m;
  indices[o] = static_cast<int64_t>(best);
}

// Lane `lane`'s first maximum (value *m, in-plane index *mi) over its share
// of window `win`. A lane without elements returns (-inf, H * W), past every
// real index: every real element beats it, and lane 0 always has one.
template <class T, class I>
__host__ __device__ __forceinline__ void adaptive_max_lane_max(const T* __restrict__ x,
                                                               const Window<I>& win, int lane,
                                                               const PoolSizes<I>& d, T* m, I* mi) {
  const I kw = win.w1 - win.w0, area = (win.h1 - win.h0) * kw;
  const T* xp = x + win.n * d.H * d.W;
  T best = T(-INFINITY);
  I bi = d.H * d.W;
  for (I e = lane; e < area; e += 32) {
    const I r = e / kw;
    const I p = (win.h0 + r) * d.W + win.w0 + (e - r * kw);  // increases with e
    const T v = xp[p];
    if (beats(v, p, best, bi)) {
      best = v;
      bi = p;
    }
  }
  *m = best;
  *mi = bi;
}

template <class T, class I>
__host__ __device__ __forceinline__ void adaptive_max_backward_element(
    const T* __restrict__ dout, const int64_t* __restrict__ indices, T* __restrict__ dx, I i,
    const PoolSizes<I>& d, double beta) {
  const I w = i % d.W;
  const I t = i / d.W;
  const I h = t % d.H;
  const I n = t / d.H;
  const I oh0 = win_start(h, d.OH, d.H), oh1 = win_end(h, d.OH, d.H);
  const I ow0 = win_start(w, d.OW, d.W), ow1 = win_end(w, d.OW, d.W);
  const T* gp = dout + n * d.OH * d.OW;
  const int64_t* ip = indices + n * d.OH * d.OW;
  const int64_t self = static_cast<int64_t>(h * d.W + w);
  T acc = beta == 0.0 ? T(0) : static_cast<T>(beta * static_cast<double>(dx[i]));
  for (I oh = oh0; oh < oh1; ++oh)
    for (I ow = ow0; ow < ow1; ++ow)
      if (ip[oh * d.OW + ow] == self) acc += gp[oh * d.OW + ow];
  dx[i] = acc;
}

template <class T, class I>
static __global__ void adaptive_avg_pool2d_forward_kernel_v1(const T* __restrict__ x,  // [N, H, W]
                                                             T* __restrict__ out,  // [N, OH, OW]
                                                             I total, PoolSizes<I> d) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I o = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       o < total; o += step)
    adaptive_avg_forward_element(x, out, o, d);
}

template <class T, class I>
static __global__ void adaptive_avg_pool2d_forward_kernel_v2(const T* __restrict__ x,  // [N, H, W]
                                                             T* __restrict__ out,  // [N, OH, OW]
                                                             I total, PoolSizes<I> d) {
  const int lane = static_cast<int>(threadIdx.x & 31u);
  const I warp =
      (static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x)) / 32;
  const I nwarps = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x) / 32;
  // o is the same on all 32 lanes (blockDim.x is a multiple of 32), so every
  // lane reaches warp_sum together.
  for (I o = warp; o < total; o += nwarps) {
    const Window<I> win = output_window(o, d);
    const double s = warp_sum(adaptive_avg_lane_sum(x, win, lane, d));
    if (lane == 0)
      out[o] = static_cast<T>(s / static_cast<double>((win.h1 - win.h0) * (win.w1 - win.w0)));
  }
}

template <class T, class I>
static __global__ void adaptive_avg_pool2d_backward_kernel_v1(
    const T* __restrict__ dout,  // [N, OH, OW]
    T* __restrict__ dx,          // [N, H, W]
    I total, PoolSizes<I> d, double beta) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += step)
    adaptive_avg_backward_element(dout, dx, i, d, beta);
}

template <class T, class I>
static __global__ void adaptive_max_pool2d_forward_kernel_v1(
    const T* __restrict__ x,        // [N, H, W]
    T* __restrict__ out,            // [N, OH, OW]
    int64_t* __restrict__ indices,  // [N, OH, OW]
    I total, PoolSizes<I> d) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I o = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       o < total; o += step)
    adaptive_max_forward_element(x, out, indices, o, d);
}

template <class T, class I>
static __global__ void adaptive_max_pool2d_forward_kernel_v2(
    const T* __restrict__ x,        // [N, H, W]
    T* __restrict__ out,            // [N, OH, OW]
    int64_t* __restrict__ indices,  // [N, OH, OW]
    I total, PoolSizes<I> d) {
  const int lane = static_cast<int>(threadIdx.x & 31u);
  const I warp =
      (static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x)) / 32;
  const I nwarps = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x) / 32;
  // o is the same on all 32 lanes, so every lane reaches the shuffles together.
  for (I o = warp; o < total; o += nwarps) {
    const Window<I> win = output_window(o, d);
    T m;
    I mi;
    adaptive_max_lane_max(x, win, lane, d, &m, &mi);
    for (int s = 16; s > 0; s >>= 1) {
      const T v = __shfl_xor_sync(0xffffffffu, m, s);
      const I vi = __shfl_xor_sync(0xffffffffu, mi, s);
      if (beats(v, vi, m, mi)) {
        m = v;
        mi = vi;
      }
    }
    if (lane == 0) {
      out[o] = m;
      indices[o] = static_cast<int64_t>(mi);
    }
  }
}

template <class T, class I>
static __global__ void adaptive_max_pool2d_backward_kernel_v1(
    const T* __restrict__ dout,           // [N, OH, OW]
    const int64_t* __restrict__ indices,  // [N, OH, OW]
    T* __restrict__ dx,                   // [N, H, W]
    I total, PoolSizes<I> d, double beta) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += step)
    adaptive_max_backward_element(dout, indices, dx, i, d, beta);
}

}  // namespace

template <class T>
void adaptive_avg_pool2d_forward_cuda(const T* x, T* out, int64_t N, int64_t H, int64_t W,
                                      int64_t OH, int64_t OW, cudaStream_t stream) {
  const int64_t total = N * OH * OW;
  if (total == 0) return;
  const bool warp = use_warp_per_output(H, W, OH, OW);
  const int blocks = cuda_blocks(warp ? total * 32 : total, kThreads);
  auto launch = [&](auto tag) {
    using I = decltype(tag);
    const PoolSizes<I> d = sizes<I>(H, W, OH, OW);
    if (warp)
      adaptive_avg_pool2d_forward_kernel_v2<T, I>
          <<<blocks, kThreads, 0, stream>>>(x, out, static_cast<I>(total), d);
    else
      adaptive_avg_pool2d_forward_kernel_v1<T, I>
          <<<blocks, kThreads, 0, stream>>>(x, out, static_cast<I>(total), d);
  };
  if (fits_int32(N, H, W, OH, OW))
    launch(int32_t{});
  else
    launch(int64_t{});
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void adaptive_avg_pool2d_backward_cuda(const T* dout, T* dx, int64_t N, int64_t H, int64_t W,
                                       int64_t OH, int64_t OW, double beta, cudaStream_t stream) {
  const int64_t total = N * H * W;
  if (total == 0) return;
  const int blocks = cuda_blocks(total, kThreads);
  if (fits_int32(N, H, W, OH, OW))
    adaptive_avg_pool2d_backward_kernel_v1<T, int32_t><<<blocks, kThreads, 0, stream>>>(
        dout, dx, static_cast<int32_t>(total), sizes<int32_t>(H, W, OH, OW), beta);
  else
    adaptive_avg_pool2d_backward_kernel_v1<T, int64_t>
        <<<blocks, kThreads, 0, stream>>>(dout, dx, total, sizes<int64_t>(H, W, OH, OW), beta);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void adaptive_max_pool2d_forward_cuda(const T* x, T* out, int64_t* indices, int64_t N, int64_t H,
                                      int64_t W, int64_t OH, int64_t OW, cudaStream_t stream) {
  const int64_t total = N * OH * OW;
  if (total == 0) return;
  const bool warp = use_warp_per_output(H, W, OH, OW);
  const int blocks = cuda_blocks(warp ? total * 32 : total, kThreads);
  auto launch = [&](auto tag) {
    using I = decltype(tag);
    const PoolSizes<I> d = sizes<I>(H, W, OH, OW);
    if (warp)
      adaptive_max_pool2d_forward_kernel_v2<T, I>
          <<<blocks, kThreads, 0, stream>>>(x, out, indices, static_cast<I>(total), d);
    else
      adaptive_max_pool2d_forward_kernel_v1<T, I>
          <<<blocks, kThreads, 0, stream>>>(x, out, indices, static_cast<I>(total), d);
  };
  if (fits_int32(N, H, W, OH, OW))
    launch(int32_t{});
  else
    launch(int64_t{});
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void adaptive_max_pool2d_backward_cuda(const T* dout, const int64_t* indices, T* dx, int64_t N,
                                       int64_t H, int64_t W, int64_t OH, int64_t OW, double beta,
                                       cudaStream_t stream) {
  const int64_t total = N * H * W;
  if (total == 0) return;
  const int blocks = cuda_blocks(total, kThreads);
  if (fits_int32(N, H, W, OH, OW))
    adaptive_max_pool2d_backward_kernel_v1<T, int32_t><<<blocks, kThreads, 0, stream>>>(
        dout, indices, dx, static_cast<int32_t>(total), sizes<int32_t>(H, W, OH, OW), beta);
  else
    adaptive_max_pool2d_backward_kernel_v1<T, int64_t><<<blocks, kThreads, 0, stream>>>(
        dout, indices, dx, total, sizes<int64_t>(H, W, OH, OW), beta);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

#define SIRS_INSTANTIATE(T)                                                                      \
  template void adaptive_avg_pool2d_forward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t,     \
                                                    int64_t, int64_t, cudaStream_t);             \
  template void adaptive_avg_pool2d_backward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t,    \
                                                     int64_t, int64_t, double, cudaStream_t);    \
  template void adaptive_max_pool2d_forward_cuda<T>(const T*, T*, int64_t*, int64_t, int64_t,    \
                                                    int64_t, int64_t, int64_t, cudaStream_t);    \
  template void adaptive_max_pool2d_backward_cuda<T>(const T*, const int64_t*, T*, int64_t,      \
                                                     int64_t, int64_t, int64_t, int64_t, double, \
                                                     cudaStream_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
