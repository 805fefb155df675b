// Softmax / log-softmax forward and backward on CUDA (contract:
// kernels/softmax.h; launchers: kernels/cuda/softmax_cuda.h).
//
//   m = max_d x, s = sum_d exp(x - m) (in double),
//   softmax = exp(x - m) * (1 / s),  log_softmax = (x - m) - log s
//   backward: softmax      dx = y * (dy - sum_d y * dy)
//             log_softmax  dx = dy - exp(y) * sum_d dy
//
// Layout [outer, D, inner] contiguous; the D values of one softmax "row"
// (o, i) sit inner apart. A group of threads shares a row: each folds
// every size-th element, then the group combines (max, then sum) so all its
// threads hold the same m and s, and each writes its own elements. The
// arithmetic per element is the CPU's (same T operations, double sums).
//
// Kernels (the same three shapes forward and backward; all live):
//   - *_warp_kernel_v2: inner == 1, D <= kWarpRowMax: one warp per
//     contiguous row, the row held in registers (kVecs vectors of W values
//     per lane, W = 16 bytes' worth when D and the pointers allow, else 1),
//     so each element is read once and its exp computed once; shuffles
//     only. v1 (the rows kernel below with a warp as the group) re-read the
//     row for every pass with scalar loads: 47 % of the copy bandwidth on
//     an H200 at 8192 x 1000, 1.45x PyTorch's time.
//   - *_rows_kernel_v1: inner == 1, longer rows: one block per row,
//     shuffles then a shared-memory pass over the warps.
//   - *_cols_kernel_v1: inner > 1. Block (bx, by): bx adjacent columns i
//     (coalesced reads along inner; bx * by = 256, bx up to 32, more when D
//     is short), by threads per column stepping over d,
//     combined through a shared-memory tree over threadIdx.y.
// Rows are re-read after the reductions; a row (or a block's bx columns)
// is small enough to stay in L1/L2 between the passes.
//
// Tests: make test GTEST_FILTER='CudaSoftmax*'
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <type_traits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/softmax_cuda.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;   // block size of the warp-per-row and column kernels
constexpr int kRowBlock = 512;  // block size (= group) for rows longer than kWarpRowMax
constexpr int64_t kWarpRowMax = 1024;
constexpr int64_t kMaxGrid = int64_t{1} << 20;  // blocks per launch; kernels loop beyond it

__device__ __forceinline__ float dev_exp(float v) { return expf(v); }
__device__ __forceinline__ double dev_exp(double v) { return exp(v); }

// NaN-propagating max (either NaN gives NaN), so every thread of a group
// sees a NaN row alike; the row's sum is NaN then and so is every output,
// as on the CPU.
struct MaxF {
  template <class V>
  __device__ V operator()(V a, V b) const {
    return (a > b || a != a) ? a : b;
  }
};
struct SumF {
  template <class V>
  __device__ V operator()(V a, V b) const {
    return a + b;
  }
};

// kGroup consecutive threads of a 1-d block share a row (kGroup = 32: a
// warp; otherwise the whole block). all() returns the same value to every
// thread of the group: the shuffle butterfly is symmetric and the
// cross-warp pass reads the same shared values in the same order.
template <int kGroup>
struct RowGroup {
  double* sh;  // [32]
  template <class V, class F>
  __device__ V all(V v, F f) const {
    for (int o = 16; o > 0; o >>= 1) v = f(v, __shfl_xor_sync(0xffffffffu, v, o));
    if constexpr (kGroup == 32) {
      return v;
    } else {
      __syncthreads();  // earlier readers of sh are done
      if ((threadIdx.x & 31) == 0) sh[threadIdx.x >> 5] = static_cast<double>(v);
      __syncthreads();
      V r = static_cast<V>(sh[0]);
      for (int w = 1; w < kGroup / 32; ++w) r = f(r, static_cast<V>(sh[w]));
      return r;
    }
  }
};

// The blockDim.y threads with the same threadIdx.x share a column (a
// power of two of them). Values pass through double in shared memory,
// exactly for float and double.
struct ColGroup {
  double* sh;  // [blockDim.y, blockDim.x]
  template <class V, class F>
  __device__ V all(V v, F f) const {
    const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x;
    __syncthreads();  // earlier readers of sh are done
    sh[ty * bx + tx] = static_cast<double>(v);
    __syncthreads();
    for (int h = blockDim.y / 2; h > 0; h >>= 1) {
      if (ty < h)
        sh[ty * bx + tx] = static_cast<double>(
            f(static_cast<V>(sh[ty * bx + tx]), static_cast<V>(sh[(ty + h) * bx + tx])));
      __syncthreads();
    }
    return static_cast<V>(sh[tx]);
  }
};

// One row of D elements ld apart; this thread handles d = rank, rank +
// size, ... Every thread of the group must call it (the group reductions
// hold barriers); a thread with no row passes D = 0.
template <class T, class G>
__device__ void softmax_forward_row(const T* __restrict__ x, T* __restrict__ y, int64_t D,
                                    int64_t ld, int rank, int size, bool is_log, const G& g) {
  T m = static_cast<T>(-INFINITY);
#pragma unroll 4
  for (int64_t d = rank; d < D; d += size) m = MaxF()(m, x[d * ld]);
  m = g.all(m, MaxF());
  double s = 0;
#pragma unroll 4
  for (int64_t d = rank; d < D; d += size) s += static_cast<double>(dev_exp(x[d * ld] - m));
  s = g.all(s, SumF());
  if (is_log) {
    // (x - m) - log s, as on the CPU: x - (m + log s) would round m + log s
    // to the coarse spacing of a large m.
    T ls = static_cast<T>(::log(s));
#pragma unroll 4
    for (int64_t d = rank; d < D; d += size) y[d * ld] = (x[d * ld] - m) - ls;
  } else {
    T r = static_cast<T>(1.0 / s);
#pragma unroll 4
    for (int64_t d = rank; d < D; d += size) y[d * ld] = dev_exp(x[d * ld] - m) * r;
  }
}

template <class T, class G>
__device__ void softmax_backward_row(const T* __restrict__ y, const T* __restrict__ dy,
                                     T* __restrict__ dx, int64_t D, int64_t ld, int rank, int size,
                                     bool is_log, const G& g) {
  double s = 0;
  if (is_log) {
#pragma unroll 4
    for (int64_t d = rank; d < D; d += size) s += static_cast<double>(dy[d * ld]);
  } else {
#pragma unroll 4
    for (int64_t d = rank; d < D; d += size) s += static_cast<double>(y[d * ld] * dy[d * ld]);
  }
  s = g.all(s, SumF());
  T st = static_cast<T>(s);
  if (is_log) {
    // d/dx_j of sum_d dy_d (x_d - lse) = dy_j - softmax_j * sum_d dy_d.
#pragma unroll 4
    for (int64_t d = rank; d < D; d += size) dx[d * ld] = dy[d * ld] - dev_exp(y[d * ld]) * st;
  } else {
#pragma unroll 4
    for (int64_t d = rank; d < D; d += size) dx[d * ld] = y[d * ld] * (dy[d * ld] - st);
  }
}

// inner == 1: kBlock / kGroup rows per block, row r at x + r * D. The row
// index is uniform over a group, so a group enters and leaves the loop
// whole (with kGroup = kBlock: the block, as the barriers need).
template <class T, int kGroup, int kBlock>
static __global__ void softmax_forward_rows_kernel_v1(const T* __restrict__ x,  // [rows, D]
                                                      T* __restrict__ y,        // [rows, D]
                                                      int64_t rows, int64_t D, bool is_log) {
  __shared__ double sh[32];
  constexpr int kRows = kBlock / kGroup;
  RowGroup<kGroup> g{sh};
  int rank = threadIdx.x % kGroup;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kRows + threadIdx.x / kGroup; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kRows)
    softmax_forward_row(x + row * D, y + row * D, D, 1, rank, kGroup, is_log, g);
}

template <class T, int kGroup, int kBlock>
static __global__ void softmax_backward_rows_kernel_v1(const T* __restrict__ y,   // [rows, D]
                                                       const T* __restrict__ dy,  // [rows, D]
                                                       T* __restrict__ dx,        // [rows, D]
                                                       int64_t rows, int64_t D, bool is_log) {
  __shared__ double sh[32];
  constexpr int kRows = kBlock / kGroup;
  RowGroup<kGroup> g{sh};
  int rank = threadIdx.x % kGroup;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kRows + threadIdx.x / kGroup; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kRows)
    softmax_backward_row(y + row * D, dy + row * D, dx + row * D, D, 1, rank, kGroup, is_log, g);
}

// inner == 1, D <= 32 * kVecs * W: warp w of the grid takes rows w, w +
// warps, ... Lane l holds the row's values d = (j * 32 + l) * W + t for
// j < kVecs, t < W (coalesced W-wide loads); positions past D are padding
// that no pass reads (the `d < D` tests are on compile-time-unrolled j).
// W > 1 requires D % W == 0 and 16-byte aligned rows, so a vector is
// either wholly inside the row or wholly past it.
template <class T, int W>
struct alignas(sizeof(T) * W) RowVec {
  T v[W];
};

template <class T, int kVecs, int W>
__device__ __forceinline__ void load_row(const T* __restrict__ p, int64_t D, int lane,
                                         T (&v)[kVecs * W]) {
#pragma unroll
  for (int j = 0; j < kVecs; ++j) {
    const int64_t d = (static_cast<int64_t>(j) * 32 + lane) * W;
    if (d < D) {
      const RowVec<T, W> r = *reinterpret_cast<const RowVec<T, W>*>(p + d);
#pragma unroll
      for (int t = 0; t < W; ++t) v[j * W + t] = r.v[t];
    } else {
#pragma unroll
      for (int t = 0; t < W; ++t) v[j * W + t] = T(0);  // padding, never stored
    }
  }
}

template <class T, int kVecs, int W>
__device__ __forceinline__ void store_row(T* __restrict__ p, int64_t D, int lane,
                                          const T (&v)[kVecs * W]) {
#pragma unroll
  for (int j = 0; j < kVecs; ++j) {
    const int64_t d = (static_cast<int64_t>(j) * 32 + lane) * W;
    if (d < D) {
      RowVec<T, W> r;
#pragma unroll
      for (int t = 0; t < W; ++t) r.v[t] = v[j * W + t];
      *reinterpret_cast<RowVec<T, W>*>(p + d) = r;
    }
  }
}

template <int kVecs, int W>
__device__ __forceinline__ bool in_row(int j, int lane, int64_t D) {
  return (static_cast<int64_t>(j) * 32 + lane) * W < D;
}

template <class T, int kVecs, int W>
static __global__ void softmax_forward_warp_kernel_v2(const T* __restrict__ x,  // [rows, D]
                                                      T* __restrict__ y,        // [rows, D]
                                                      int64_t rows, int64_t D, bool is_log) {
  constexpr int kWarps = kThreads / 32;
  const RowGroup<32> g{nullptr};
  const int lane = threadIdx.x & 31;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kWarps) {
    T v[kVecs * W];
    load_row<T, kVecs, W>(x + row * D, D, lane, v);
    T m = static_cast<T>(-INFINITY);
#pragma unroll
    for (int j = 0; j < kVecs; ++j)
      if (in_row<kVecs, W>(j, lane, D))
#pragma unroll
        for (int t = 0; t < W; ++t) m = MaxF()(m, v[j * W + t]);
    m = g.all(m, MaxF());
    double s = 0;
#pragma unroll
    for (int j = 0; j < kVecs; ++j)
      if (in_row<kVecs, W>(j, lane, D))
#pragma unroll
        for (int t = 0; t < W; ++t) {
          const T e = dev_exp(v[j * W + t] - m);
          s += static_cast<double>(e);
          if (!is_log) v[j * W + t] = e;  // softmax keeps exp(x - m) for the store
        }
    s = g.all(s, SumF());
    if (is_log) {
      const T ls = static_cast<T>(::log(s));  // (x - m) - log s, as the CPU
#pragma unroll
      for (int k = 0; k < kVecs * W; ++k) v[k] = (v[k] - m) - ls;
    } else {
      const T r = static_cast<T>(1.0 / s);
#pragma unroll
      for (int k = 0; k < kVecs * W; ++k) v[k] = v[k] * r;
    }
    store_row<T, kVecs, W>(y + row * D, D, lane, v);
  }
}

template <class T, int kVecs, int W>
static __global__ void softmax_backward_warp_kernel_v2(const T* __restrict__ y,   // [rows, D]
                                                       const T* __restrict__ dy,  // [rows, D]
                                                       T* __restrict__ dx,        // [rows, D]
                                                       int64_t rows, int64_t D, bool is_log) {
  constexpr int kWarps = kThreads / 32;
  const RowGroup<32> g{nullptr};
  const int lane = threadIdx.x & 31;
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarps + threadIdx.x / 32; row < rows;
       row += static_cast<int64_t>(gridDim.x) * kWarps) {
    T yv[kVecs * W], gv[kVecs * W];
    load_row<T, kVecs, W>(y + row * D, D, lane, yv);
    load_row<T, kVecs, W>(dy + row * D, D, lane, gv);
    double s = 0;
#pragma unroll
    for (int j = 0; j < kVecs; ++j)
      if (in_row<kVecs, W>(j, lane, D))
#pragma unroll
        for (int t = 0; t < W; ++t)
          s += static_cast<double>(is_log ? gv[j * W + t] : yv[j * W + t] * gv[j * W + t]);
    s = g.all(s, SumF());
    const T st = static_cast<T>(s);
#pragma unroll
    for (int k = 0; k < kVecs * W; ++k)
      yv[k] = is_log ? gv[k] - dev_exp(yv[k]) * st : yv[k] * (gv[k] - st);
    store_row<T, kVecs, W>(dx + row * D, D, lane, yv);
  }
}

// inner > 1: block b covers columns [tile * bx, tile * bx + bx) of slice o,
// (o, tile) = divmod(b, tiles); b is uniform over the block.
template <class T>
static __global__ void softmax_forward_cols_kernel_v1(const T* __restrict__ x,  // [outer, D, inner]
                                                      T* __restrict__ y,        // [outer, D, inner]
                                                      int64_t outer, int64_t D, int64_t inner,
                                                      int64_t tiles, bool is_log) {
  __shared__ double sh[kThreads];
  ColGroup g{sh};
  for (int64_t b = blockIdx.x; b < outer * tiles; b += gridDim.x) {
    int64_t o = b / tiles, i = (b % tiles) * blockDim.x + threadIdx.x;
    bool live = i < inner;
    int64_t base = o * D * inner + (live ? i : 0);
    softmax_forward_row(x + base, y + base, live ? D : 0, inner, threadIdx.y, blockDim.y, is_log,
                        g);
  }
}

template <class T>
static __global__ void softmax_backward_cols_kernel_v1(
    const T* __restrict__ y,   // [outer, D, inner]
    const T* __restrict__ dy,  // [outer, D, inner]
    T* __restrict__ dx,        // [outer, D, inner]
    int64_t outer, int64_t D, int64_t inner, int64_t tiles, bool is_log) {
  __shared__ double sh[kThreads];
  ColGroup g{sh};
  for (int64_t b = blockIdx.x; b < outer * tiles; b += gridDim.x) {
    int64_t o = b / tiles, i = (b % tiles) * blockDim.x + threadIdx.x;
    bool live = i < inner;
    int64_t base = o * D * inner + (live ? i : 0);
    softmax_backward_row(y + base, dy + base, dx + base, live ? D : 0, inner, threadIdx.y,
                         blockDim.y, is_log, g);
  }
}

int grid_for(int64_t blocks) {
  if (blocks < 1) blocks = 1;
  return static_cast<int>(blocks < kMaxGrid ? blocks : kMaxGrid);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Column-kernel geometry for inner > 1: bx the smallest power of two >=
// inner, at most 32 (a warp reads 128 contiguous bytes of a row), by =
// kThreads / bx threads per column; for short rows (small D) threads move
// from rows to more columns (up to kThreads) so few of them idle.
struct ColGeometry {
  int bx, by;
  int64_t tiles;
};
ColGeometry col_geometry(int64_t D, int64_t inner) {
  ColGeometry c{2, 0, 0};
  while (c.bx < 32 && c.bx < inner) c.bx *= 2;
  c.by = kThreads / c.bx;
  while (c.by > 1 && c.by / 2 >= D && c.bx < inner) {
    c.by /= 2;
    c.bx *= 2;
  }
  c.tiles = ceil_div(inner, c.bx);
  return c;
}

// Warp-per-row geometry for rows of D <= kWarpRowMax: W = 16 bytes' worth
// of T when D is a multiple of it and every pointer is 16-byte aligned,
// else 1; kVecs (vecs_for) the smallest power of two with 32 * kVecs * W
// >= D (lanes past the row stay idle).
bool all_aligned16(std::initializer_list<const void*> ps) {
  for (const void* p : ps)
    if (reinterpret_cast<uintptr_t>(p) % 16 != 0) return false;
  return true;
}

int vecs_for(int64_t D, int W) {
  int k = 1;
  while (static_cast<int64_t>(k) * 32 * W < D) k *= 2;
  return k;
}

template <class T, int W, class Launch>
void by_vecs(int vecs, Launch&& launch) {
  constexpr int kMax = static_cast<int>(kWarpRowMax) / 32 / W;
  static_assert(kMax >= 1 && (kMax & (kMax - 1)) == 0, "kWarpRowMax / 32 / W: a power of two");
  switch (vecs) {
    case 1: launch(std::integral_constant<int, 1>{}); return;
    case 2: launch(std::integral_constant<int, 2 <= kMax ? 2 : 1>{}); return;
    case 4: launch(std::integral_constant<int, 4 <= kMax ? 4 : 1>{}); return;
    case 8: launch(std::integral_constant<int, 8 <= kMax ? 8 : 1>{}); return;
    case 16: launch(std::integral_constant<int, 16 <= kMax ? 16 : 1>{}); return;
    default: launch(std::integral_constant<int, kMax>{}); return;
  }
}

}  // namespace

template <class T>
void softmax_forward_cuda(const T* x, T* y, int64_t outer, int64_t D, int64_t inner, bool is_log,
                          cudaStream_t stream) {
  if (outer * D * inner == 0) return;
  if (inner == 1 && D <= kWarpRowMax) {
    constexpr int V = 16 / static_cast<int>(sizeof(T));
    const int grid = grid_for(ceil_div(outer, kThreads / 32));
    if (D % V == 0 && all_aligned16({x, y})) {
      by_vecs<T, V>(vecs_for(D, V), [&](auto k) {
        softmax_forward_warp_kernel_v2<T, decltype(k)::value, V>
            <<<grid, kThreads, 0, stream>>>(x, y, outer, D, is_log);
      });
    } else {
      by_vecs<T, 1>(vecs_for(D, 1), [&](auto k) {
        softmax_forward_warp_kernel_v2<T, decltype(k)::value, 1>
            <<<grid, kThreads, 0, stream>>>(x, y, outer, D, is_log);
      });
    }
  } else if (inner == 1) {
    softmax_forward_rows_kernel_v1<T, kRowBlock, kRowBlock>
        <<<grid_for(outer), kRowBlock, 0, stream>>>(x, y, outer, D, is_log);
  } else {
    ColGeometry c = col_geometry(D, inner);
    softmax_forward_cols_kernel_v1<T><<<grid_for(outer * c.tiles), dim3(c.bx, c.by), 0, stream>>>(
        x, y, outer, D, inner, c.tiles, is_log);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void softmax_backward_cuda(const T* y, const T* dy, T* dx, int64_t outer, int64_t D, int64_t inner,
                           bool is_log, cudaStream_t stream) {
  if (outer * D * inner == 0) return;
  if (inner == 1 && D <= kWarpRowMax) {
    constexpr int V = 16 / static_cast<int>(sizeof(T));
    const int grid = grid_for(ceil_div(outer, kThreads / 32));
    if (D % V == 0 && all_aligned16({y, dy, dx})) {
      by_vecs<T, V>(vecs_for(D, V), [&](auto k) {
        softmax_backward_warp_kernel_v2<T, decltype(k)::value, V>
            <<<grid, kThreads, 0, stream>>>(y, dy, dx, outer, D, is_log);
      });
    } else {
      by_vecs<T, 1>(vecs_for(D, 1), [&](auto k) {
        softmax_backward_warp_kernel_v2<T, decltype(k)::value, 1>
            <<<grid, kThreads, 0, stream>>>(y, dy, dx, outer, D, is_log);
      });
    }
  } else if (inner == 1) {
    softmax_backward_rows_kernel_v1<T, kRowBlock, kRowBlock>
        <<<grid_for(outer), kRowBlock, 0, stream>>>(y, dy, dx, outer, D, is_log);
  } else {
    ColGeometry c = col_geometry(D, inner);
    softmax_backward_cols_kernel_v1<T><<<grid_for(outer * c.tiles), dim3(c.bx, c.by), 0, stream>>>(
        y, dy, dx, outer, D, inner, c.tiles, is_log);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template void softmax_forward_cuda<float>(const float*, float*, int64_t, int64_t, int64_t, bool,
                                          cudaStream_t);
template void softmax_forward_cuda<double>(const double*, double*, int64_t, int64_t, int64_t, bool,
                                           cudaStream_t);
template void softmax_backward_cuda<float>(const float*, const float*, float*, int64_t, int64_t,
                                           int64_t, bool, cudaStream_t);
template void softmax_backward_cuda<double>(const double*, const double*, double*, int64_t, int64_t,
                                            int64_t, bool, cudaStream_t);

}  // namespace sirs
