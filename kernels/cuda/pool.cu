// max_pool2d on CUDA (contract and formula: kernels/pool.h; launchers:
// kernels/cuda/pool_cuda.h).
//
//   y[b,c,oh,ow]   = max over the window clipped to the image (padding is
//                    -inf, so it never wins) of x[b,c,ih,iw]
//   idx[b,c,oh,ow] = ih * W + iw of the first maximum in row-major window
//                    order; a NaN wins (the first NaN), as on the CPU.
//   dx[b,c,ih,iw]  = beta * dx + sum of dy[b,c,oh,ow] over the windows that
//                    cover (ih, iw) and whose idx is ih * W + iw
//
// Layouts: contiguous x / dx [B, C, H, W], y / idx / dy [B, C, Ho, Wo].
//
// Versions (one each, live):
//   forward_kernel_v1: one thread per output element, flat grid-stride loop
//     over B*C*Ho*Wo; neighbouring threads take neighbouring ow, so the
//     y / idx stores are coalesced and the window loads overlap in L1.
//   backward_kernel_v1: a gather, one thread per input element. Input row
//     ih lies in the windows oh of [ph0, ph1) with
//       ph0 = ih + pad < kernel ? 0 : (ih + pad - kernel) / stride + 1
//       ph1 = min((ih + pad) / stride + 1, Ho)
//     (and likewise for columns); the thread adds the dy of each covering
//     window whose saved argmax is itself. No atomics, so overlapping
//     windows (stride < kernel) sum in a fixed (oh, ow) order: the result
//     is deterministic and equals the CPU's scatter, which visits the same
//     windows in the same order.
// Index arithmetic runs in int32 when every flat index fits (well below
// 2^31, so the grid-stride step cannot overflow), else in int64.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CudaMaxPool*'
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/pool_cuda.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;
// Below this every flat index and the grid-stride step (at most
// 65535 * 8 * 256 < 2^27) stay under 2^31: int32 index arithmetic is safe.
constexpr int64_t kInt32Limit = int64_t{1} << 30;

// int32 index arithmetic is safe: flat indices of x and y below 2^30, and
// kernel, stride, pad below 2^28, so oh * stride - pad + kernel and
// ih + pad stay below 2^31.
bool fits_int32(const Pool2dGeom& g) {
  constexpr int64_t kSmall = int64_t{1} << 28;
  return g.B * g.C * g.H * g.W < kInt32Limit && g.B * g.C * g.Ho * g.Wo < kInt32Limit &&
         g.kernel < kSmall && g.stride < kSmall && g.pad < kSmall;
}

// Sizes in the kernels' index type I.
template <class I>
struct PoolDims {
  I H, W, Ho, Wo, kernel, stride, pad;
};

template <class I>
PoolDims<I> pool_dims(const Pool2dGeom& g) {
  return PoolDims<I>{static_cast<I>(g.H),  static_cast<I>(g.W),      static_cast<I>(g.Ho),
                     static_cast<I>(g.Wo), static_cast<I>(g.kernel), static_cast<I>(g.stride),
                     static_cast<I>(g.pad)};
}

// The per-element bodies are __host__ __device__ so a host program can
// check their index math against the CPU kernels without a GPU.

// Output element i = ((plane * Ho) + oh) * Wo + ow.
template <class T, class I>
__host__ __device__ __forceinline__ void max_pool2d_forward_element(const T* __restrict__ x,
                                                                    T* __restrict__ y,
                                                                    int64_t* __restrict__ idx, I i,
                                                                    const PoolDims<I>& d) {
  const I ow = i % d.Wo;
  const I t = i / d.Wo;
  const I oh = t % d.Ho;
  const I plane = t / d.Ho;
  const T* xp = x + plane * d.H * d.W;
  // pad <= kernel / 2 (checked by the caller) keeps every clipped window
  // non-empty: h0 < h1 and w0 < w1.
  const I hs = oh * d.stride - d.pad, ws = ow * d.stride - d.pad;
  const I h0 = hs > 0 ? hs : I(0), h1 = hs + d.kernel < d.H ? hs + d.kernel : d.H;
  const I w0 = ws > 0 ? ws : I(0), w1 = ws + d.kernel < d.W ? ws + d.kernel : d.W;
  I best = h0 * d.W + w0;
  T m = xp[best];
  for (I ih = h0; ih < h1; ++ih)
    for (I iw = w0; iw < w1; ++iw) {
      const T v = xp[ih * d.W + iw];
      // Strictly greater keeps the first maximum; the first NaN wins and
      // then stays (nothing compares greater than NaN).
      if (v > m || (v != v && m == m)) {
        m = v;
        best = ih * d.W + iw;
      }
    }
  y[i] = m;
  idx[i] = static_cast<int64_t>(best);
}

// Input element i = ((plane * H) + ih) * W + iw.
template <class T, class I>
__host__ __device__ __forceinline__ void max_pool2d_backward_element(
    const T* __restrict__ dy, const int64_t* __restrict__ idx, T beta, T* __restrict__ dx, I i,
    const PoolDims<I>& d) {
  const I iw = i % d.W;
  const I t = i / d.W;
  const I ih = t % d.H;
  const I plane = t / d.H;
  // Windows oh with oh * stride - pad <= ih < oh * stride - pad + kernel.
  const I ph0 = ih + d.pad < d.kernel ? I(0) : (ih + d.pad - d.kernel) / d.stride + 1;
  const I ph1 = (ih + d.pad) / d.stride + 1 < d.Ho ? (ih + d.pad) / d.stride + 1 : d.Ho;
  const I pw0 = iw + d.pad < d.kernel ? I(0) : (iw + d.pad - d.kernel) / d.stride + 1;
  const I pw1 = (iw + d.pad) / d.stride + 1 < d.Wo ? (iw + d.pad) / d.stride + 1 : d.Wo;
  const T* gp = dy + plane * d.Ho * d.Wo;
  const int64_t* ip = idx + plane * d.Ho * d.Wo;
  const int64_t self = static_cast<int64_t>(ih * d.W + iw);
  // beta == 0 must not read dx: it may hold garbage (NaN * 0 is NaN).
  T acc = beta == T(0) ? T(0) : beta * dx[i];
  for (I ph = ph0; ph < ph1; ++ph)
    for (I pw = pw0; pw < pw1; ++pw)
      if (ip[ph * d.Wo + pw] == self) acc += gp[ph * d.Wo + pw];
  dx[i] = acc;
}

template <class T, class I>
static __global__ void max_pool2d_forward_kernel_v1(const T* __restrict__ x,    // [B, C, H, W]
                                                    T* __restrict__ y,          // [B, C, Ho, Wo]
                                                    int64_t* __restrict__ idx,  // [B, C, Ho, Wo]
                                                    I total, PoolDims<I> d) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += step)
    max_pool2d_forward_element(x, y, idx, i, d);
}

template <class T, class I>
static __global__ void max_pool2d_backward_kernel_v1(
    const T* __restrict__ dy,         // [B, C, Ho, Wo]
    const int64_t* __restrict__ idx,  // [B, C, Ho, Wo]
    T beta,
    T* __restrict__ dx,  // [B, C, H, W]
    I total, PoolDims<I> d) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += step)
    max_pool2d_backward_element(dy, idx, beta, dx, i, d);
}

}  // namespace

template <class T>
void max_pool2d_forward_cuda(const Pool2dGeom& g, const T* x, T* y, int64_t* idx,
                             cudaStream_t stream) {
  const int64_t total = g.B * g.C * g.Ho * g.Wo;
  if (total == 0) return;
  const int blocks = cuda_blocks(total, kThreads);
  if (fits_int32(g))
    max_pool2d_forward_kernel_v1<T, int32_t><<<blocks, kThreads, 0, stream>>>(
        x, y, idx, static_cast<int32_t>(total), pool_dims<int32_t>(g));
  else
    max_pool2d_forward_kernel_v1<T, int64_t>
        <<<blocks, kThreads, 0, stream>>>(x, y, idx, total, pool_dims<int64_t>(g));
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void max_pool2d_backward_cuda(const Pool2dGeom& g, const T* dy, const int64_t* idx, T beta, T* dx,
                              cudaStream_t stream) {
  const int64_t total = g.B * g.C * g.H * g.W;
  if (total == 0) return;
  const int blocks = cuda_blocks(total, kThreads);
  if (fits_int32(g))
    max_pool2d_backward_kernel_v1<T, int32_t><<<blocks, kThreads, 0, stream>>>(
        dy, idx, beta, dx, static_cast<int32_t>(total), pool_dims<int32_t>(g));
  else
    max_pool2d_backward_kernel_v1<T, int64_t>
        <<<blocks, kThreads, 0, stream>>>(dy, idx, beta, dx, total, pool_dims<int64_t>(g));
  SIRS_CUDA_CHECK(cudaGetLastError());
}

#define SIRS_INSTANTIATE(T)                                                                     \
  template void max_pool2d_forward_cuda<T>(const Pool2dGeom&, const T*, T*, int64_t*,           \
                                           cudaStream_t);                                       \
  template void max_pool2d_backward_cuda<T>(const Pool2dGeom&, const T*, const int64_t*, T, T*, \
                                            cudaStream_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
