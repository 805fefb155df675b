// Batch / group / layer norm on CUDA (contract and formulas: kernels/norm.h;
// launchers: kernels/cuda/norm_cuda.h). Layer norm is group norm with
// B = rows, C = N, S = 1, G = 1, as on the CPU.
//
// Layouts. x is [B, C, S] contiguous. The reductions run over "segments":
// segment i is `rows` rows of `cols` contiguous values, row r at
// i * seg_stride + r * row_stride.
//   batch norm channel c / group norm dweight, dbias of channel c:
//     seg_stride = S, rows = B, row_stride = C * S, cols = S
//   group norm statistics and dx sums of (b, g): the m = K * S values at
//     (b * G + g) * m, one row.
//
// Statistics (one read of x): shifted sums in double. With k the first
// value of the segment, s = sum(x - k) and q = sum((x - k)^2) over its n
// values, mean = k + s / n and var = (q - s * s / n) / n (biased). The shift
// keeps the cancellation in q - s^2/n at the size of (mean - k)^2 / var,
// i.e. a few units of var for any k drawn from the data (a mean of 100 with
// std 1 costs nothing, where unshifted sums in float would lose everything);
// double accumulators make it exact to ~1e-13 relative. Any split of a
// segment uses the same k, so partial sums just add.
// Backward sums, per segment, also in double:
//   s0 = sum(g), s1 = sum(g * (x - mean) * invstd), g = dout (* weight[c] for
//   the group norm dx sums, where the weight varies inside a segment).
// Then, per element, with w = weight[c] (1 when null), cnt = values per segment:
//   group norm:          dx = invstd * (w * dout - s0 / cnt - xhat * s1 / cnt)
//   batch norm training: the same with s0, s1 scaled by w (they were summed
//                        without it), which is kernels/norm.h's
//                        weight * invstd * (dout - dbias / n - xhat * dweight / n)
//   batch norm eval:     dx = invstd * w * dout
//   dweight[c] = s1, dbias[c] = s0 of the per-channel segments.
// Forward: y = (x - mean) * (invstd * w) + bias in T (x - mean is exact for
// x near a large mean, unlike x * a + (bias - mean * a)).
//
// Group norm forward has versions (kernels/cuda/norm_cuda.h lists them,
// kGroupNormForwardCudaVersion is live): the split path below (1), a
// segment of up to 2048 vectors held in one block's registers (2: one read
// of x; group_norm_forward_resident_kernel_v1), one block per segment
// reading it twice, the second time from L2 (3), the resident kernel
// walking segments with the next one loaded ahead (4), a grid of resident
// blocks streaming segments through a ring in shared memory with cp.async
// (5: 3 stages, 512 threads; 7, live: 2 stages, 256 threads) or with bulk
// copies of the tensor memory accelerator (8), a segment split over a
// thread-block cluster that meets in distributed shared memory (6),
// two fine-grained passes, the second re-reading x from L2 (9), and
// version 7 with one barrier for the block's sums (10), also adding each
// vector's values in T first (11), version 6 with small blocks of 8 loads a
// thread and one waited cluster barrier (12), and the same kernel with one
// 256-thread block per 32 KB segment (13; 10-13 have not run on a GPU yet).
// On the
// H200 at [32, 256, 32, 32], G = 32 (32 KB segments), as a share of copy
// bandwidth: 1: 39 %, 2: 59 %, 3: 57 %, 4: 54 %, 5: 62 %, 6: 46 %, 7: 64 %,
// 8: 53 %, 9: 42 % (docs/PERF.md, third sitting). The group norm dx runs
// resident (group_norm_backward_dx_resident_kernel_v1) when the segment
// fits.
//
// Kernels (all v1, live): a split segment reduction (grid = segments x
// splits, splits chosen to fill the GPU when there are few segments, e.g.
// 64 channels of 32 * 112 * 112) writing per-block partials, a finalize
// kernel that adds a segment's partials in a fixed order (deterministic, no
// atomics), and grid-stride elementwise kernels for y and dx. Contiguous
// runs use 16-byte loads (float4 / double2) when the pointers are aligned and
// a vector never straddles two rows (S % V == 0), or, for S == 1, covers V
// consecutive channels of one statistics segment.
//
// Tests: make test GTEST_FILTER='CudaBatchNorm*:CudaGroupNorm*:CudaLayerNorm*'
#include <cooperative_groups.h>
#include <cuda_pipeline.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>
#include <type_traits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/norm_cuda.h"

namespace sirs {

namespace {

namespace cg = cooperative_groups;

// Elements of T in one 16-byte load.
template <class T>
constexpr int kVec = 16 / static_cast<int>(sizeof(T));

template <class T, int V>
struct alignas(sizeof(T) * V) Pack {
  T v[V];
};

template <class T, int V>
__device__ __forceinline__ Pack<T, V> load_pack(const T* p) {
  return *reinterpret_cast<const Pack<T, V>*>(p);
}

template <class T, int V>
__device__ __forceinline__ void store_pack(T* p, const Pack<T, V>& v) {
  *reinterpret_cast<Pack<T, V>*>(p) = v;
}

// a / b for a >= 0, b > 0; 32-bit division (several times cheaper) when
// both fit.
__device__ __forceinline__ int64_t div_fast(int64_t a, int64_t b) {
  if (((static_cast<uint64_t>(a) | static_cast<uint64_t>(b)) >> 32) == 0)
    return static_cast<int64_t>(static_cast<uint32_t>(a) / static_cast<uint32_t>(b));
  return a / b;
}

template <class T>
__device__ __forceinline__ void store_beta(T* p, double v, double beta) {
  *p = beta == 0.0 ? static_cast<T>(v) : static_cast<T>(v + beta * static_cast<double>(*p));
}

// Segments of a reduction (see the file comment), in elements.
struct SegLayout {
  int64_t nseg;
  int64_t seg_stride;
  int64_t rows;
  int64_t row_stride;
  int64_t cols;
};

// Where the backward sums find their statistics and weight: the mean /
// invstd of row r of segment i are at r * stat_row + i / stat_div; the
// weight of column col of segment i is weight[(i % G) * K + col / S].
struct StatMap {
  int64_t stat_row;
  int64_t stat_div;
  int64_t G, K, S;
};

// ------------------------------------------------------------ reductions

// Vector j of a segment: row j / colsv, column (j % colsv) * V.
struct VecPos {
  int64_t off;  // elements from the tensor's start
  int64_t row;
  int64_t col;
};

__device__ __forceinline__ VecPos vec_pos(const SegLayout& L, int64_t base, int64_t j,
                                          int64_t colsv, int V) {
  VecPos p;
  p.row = div_fast(j, colsv);
  p.col = (j - p.row * colsv) * V;
  p.off = base + p.row * L.row_stride + p.col;
  return p;
}

// Vectors a thread loads before using any: several 16-byte loads in flight
// per thread keep HBM busy with a single wave of blocks.
constexpr int kUnroll = 4;

template <class T, int V>
__device__ __forceinline__ void add_shifted(const Pack<T, V>& p, double k, double& s, double& q) {
#pragma unroll
  for (int t = 0; t < V; ++t) {
    const double d = static_cast<double>(p.v[t]) - k;
    s += d;
    q += d * d;
  }
}

// partial[i, split] = (sum(x - k), sum((x - k)^2)) over this block's share
// of segment i (vectors split * blockDim.x + threadIdx.x, stepping by
// splits * blockDim.x), k = the segment's first value.
template <class T, int V>
static __global__ void norm_stats_partial_kernel_v1(
    const T* __restrict__ x,  // [B, C, S]
    SegLayout L,
    double* __restrict__ partial) {  // [nseg, splits, 2]
  __shared__ double shared[32];
  const int64_t seg = blockIdx.x;
  const int64_t split = blockIdx.y, splits = gridDim.y;
  const int64_t base = seg * L.seg_stride;
  const int64_t colsv = L.cols / V, nvec = L.rows * colsv;
  const double k = nvec > 0 ? static_cast<double>(x[base]) : 0.0;
  const int64_t step = splits * blockDim.x;
  double s = 0, q = 0;
  int64_t j = split * blockDim.x + threadIdx.x;
  for (; j + (kUnroll - 1) * step < nvec; j += kUnroll * step) {
    Pack<T, V> p[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      p[u] = load_pack<T, V>(x + vec_pos(L, base, j + u * step, colsv, V).off);
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) add_shifted<T, V>(p[u], k, s, q);
  }
  for (; j < nvec; j += step)
    add_shifted<T, V>(load_pack<T, V>(x + vec_pos(L, base, j, colsv, V).off), k, s, q);
  s = block_sum(s, shared);
  q = block_sum(q, shared);
  if (threadIdx.x == 0) {
    partial[(seg * splits + split) * 2] = s;
    partial[(seg * splits + split) * 2 + 1] = q;
  }
}

// Mean and biased variance of n values from their shifted sums s = sum(x -
// k) and q = sum((x - k)^2) (see the file comment); var is clamped at 0
// (rounding only; NaN stays NaN). The one formula of every statistics path.
__device__ __forceinline__ void shifted_mean_var(double s, double q, double k, double n,
                                                 double* mean, double* var) {
  const double ds = s / n;
  double v = (q - s * ds) / n;
  if (v < 0) v = 0;
  *mean = k + ds;
  *var = v;
}

// mean[i] and var[i] (or invstd[i] = 1 / sqrt(var + eps)) from the partials,
// added in split order. An empty segment gives NaN, as 0 / 0 on the CPU.
template <class T>
static __global__ void norm_stats_finalize_kernel_v1(
    const T* __restrict__ x,  // [B, C, S]
    SegLayout L, int splits,
    const double* __restrict__ partial,  // [nseg, splits, 2]
    T* __restrict__ mean,                // [nseg]
    T* __restrict__ second,              // [nseg] var or invstd
    double eps, bool want_invstd) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < L.nseg;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double s = 0, q = 0;
    for (int k = 0; k < splits; ++k) {
      s += partial[(i * splits + k) * 2];
      q += partial[(i * splits + k) * 2 + 1];
    }
    const int64_t count = L.rows * L.cols;
    const double shift = count > 0 ? static_cast<double>(x[i * L.seg_stride]) : 0.0;
    double mu, var;
    shifted_mean_var(s, q, shift, static_cast<double>(count), &mu, &var);
    mean[i] = static_cast<T>(mu);
    second[i] = want_invstd ? static_cast<T>(1.0 / sqrt(var + eps)) : static_cast<T>(var);
  }
}

// One vector's share of the backward sums (see the kernel below).
template <class T, int V, bool kAcross>
__device__ __forceinline__ void add_backward(const Pack<T, V>& g, const Pack<T, V>& v,
                                             const VecPos& pos, const T* __restrict__ mean,
                                             const T* __restrict__ invstd,
                                             const T* __restrict__ weight, const StatMap& M,
                                             int64_t stat_seg, int64_t c0, double& s0, double& s1) {
  const int64_t si = pos.row * M.stat_row + stat_seg;
  const double mu = static_cast<double>(mean[si]), is = static_cast<double>(invstd[si]);
  const int64_t ch = weight ? c0 + div_fast(pos.col, M.S) : 0;
#pragma unroll
  for (int t = 0; t < V; ++t) {
    double gt = static_cast<double>(g.v[t]);
    if (weight) gt *= static_cast<double>(weight[kAcross ? ch + t : ch]);
    s0 += gt;
    s1 += gt * (static_cast<double>(v.v[t]) - mu) * is;
  }
}

// partial[i, split] = (sum(g), sum(g * (x - mean) * invstd)) over this
// block's share of segment i, g = dout * weight (weight null: dout).
// kAcross: the V values of a vector are V consecutive channels (S == 1);
// otherwise they share one channel.
template <class T, int V, bool kAcross>
static __global__ void norm_backward_partial_kernel_v1(
    const T* __restrict__ dout,    // [B, C, S]
    const T* __restrict__ x,       // [B, C, S]
    const T* __restrict__ mean,    // see StatMap
    const T* __restrict__ invstd,  // see StatMap
    const T* __restrict__ weight,  // [C] or null
    SegLayout L, StatMap M,
    double* __restrict__ partial) {  // [nseg, splits, 2]
  __shared__ double shared[32];
  const int64_t seg = blockIdx.x;
  const int64_t split = blockIdx.y, splits = gridDim.y;
  const int64_t base = seg * L.seg_stride;
  const int64_t colsv = L.cols / V, nvec = L.rows * colsv;
  const int64_t stat_seg = seg / M.stat_div;
  const int64_t c0 = (seg % M.G) * M.K;
  const int64_t step = splits * blockDim.x;
  double s0 = 0, s1 = 0;
  int64_t j = split * blockDim.x + threadIdx.x;
  for (; j + (kUnroll - 1) * step < nvec; j += kUnroll * step) {
    VecPos pos[kUnroll];
    Pack<T, V> g[kUnroll], v[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      pos[u] = vec_pos(L, base, j + u * step, colsv, V);
      g[u] = load_pack<T, V>(dout + pos[u].off);
      v[u] = load_pack<T, V>(x + pos[u].off);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u)
      add_backward<T, V, kAcross>(g[u], v[u], pos[u], mean, invstd, weight, M, stat_seg, c0, s0,
                                  s1);
  }
  for (; j < nvec; j += step) {
    const VecPos pos = vec_pos(L, base, j, colsv, V);
    add_backward<T, V, kAcross>(load_pack<T, V>(dout + pos.off), load_pack<T, V>(x + pos.off), pos,
                                mean, invstd, weight, M, stat_seg, c0, s0, s1);
  }
  s0 = block_sum(s0, shared);
  s1 = block_sum(s1, shared);
  if (threadIdx.x == 0) {
    partial[(seg * splits + split) * 2] = s0;
    partial[(seg * splits + split) * 2 + 1] = s1;
  }
}

// Adds each segment's partials in split order: sums[i] = (s0, s1) when
// sums is given; dweight[i] = s1, dbias[i] = s0 (with beta) when given.
template <class T>
static __global__ void norm_backward_finalize_kernel_v1(
    const double* __restrict__ partial,  // [nseg, splits, 2]
    int64_t nseg, int splits,
    double* __restrict__ sums,  // [nseg, 2] or null
    T* __restrict__ dweight,    // [nseg] or null
    T* __restrict__ dbias,      // [nseg] or null
    double beta) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < nseg;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    double s0 = 0, s1 = 0;
    for (int k = 0; k < splits; ++k) {
      s0 += partial[(i * splits + k) * 2];
      s1 += partial[(i * splits + k) * 2 + 1];
    }
    if (sums) {
      sums[2 * i] = s0;
      sums[2 * i + 1] = s1;
    }
    if (dweight) store_beta(dweight + i, s1, beta);
    if (dbias) store_beta(dbias + i, s0, beta);
  }
}

// ------------------------------------------------------------ elementwise

// Element e of [B, C, S] is in row e / S, channel c = row % C, statistics
// segment c (per_channel: batch norm) or row / K (group norm). j counts
// vectors of V values.
template <class T, int V, bool kAcross>
static __global__ void norm_forward_kernel_v1(const T* __restrict__ x,       // [B, C, S]
                                              const T* __restrict__ mean,    // [segments]
                                              const T* __restrict__ invstd,  // [segments]
                                              const T* __restrict__ weight,  // [C] or null
                                              const T* __restrict__ bias,    // [C] or null
                                              T* __restrict__ out,           // [B, C, S]
                                              int64_t nvec, int64_t C, int64_t S, int64_t K,
                                              bool per_channel) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < nvec;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t e = j * V;
    const int64_t row = div_fast(e, S);
    const int64_t c = row - div_fast(row, C) * C;
    const int64_t seg = per_channel ? c : div_fast(row, K);
    const Pack<T, V> xv = load_pack<T, V>(x + e);
    Pack<T, V> o;
    if constexpr (kAcross) {
#pragma unroll
      for (int t = 0; t < V; ++t) {
        const int64_t ct = c + t, st = per_channel ? seg + t : seg;
        const T a = invstd[st] * (weight ? weight[ct] : T(1));
        o.v[t] = (xv.v[t] - mean[st]) * a + (bias ? bias[ct] : T(0));
      }
    } else {
      const T a = invstd[seg] * (weight ? weight[c] : T(1));
      const T b = bias ? bias[c] : T(0), mu = mean[seg];
#pragma unroll
      for (int t = 0; t < V; ++t) o.v[t] = (xv.v[t] - mu) * a + b;
    }
    store_pack<T, V>(out + e, o);
  }
}

// dx = invstd * (w * dout - k0 - (x - mean) * k1), k0 = s0 / cnt, k1 =
// invstd * s1 / cnt from sums (s0, s1 first scaled by w when per_channel);
// sums null: k0 = k1 = 0 (batch norm eval). Indexing as the forward.
template <class T, int V, bool kAcross>
static __global__ void norm_backward_dx_kernel_v1(
    const T* __restrict__ dout,       // [B, C, S]
    const T* __restrict__ x,          // [B, C, S]
    const T* __restrict__ mean,       // [segments]
    const T* __restrict__ invstd,     // [segments]
    const T* __restrict__ weight,     // [C] or null
    const double* __restrict__ sums,  // [segments, 2] or null
    T* __restrict__ dx,               // [B, C, S]
    int64_t nvec, int64_t C, int64_t S, int64_t K, bool per_channel, double inv_count,
    double beta) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < nvec;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t e = j * V;
    const int64_t row = div_fast(e, S);
    const int64_t c = row - div_fast(row, C) * C;
    const int64_t seg = per_channel ? c : div_fast(row, K);
    const Pack<T, V> g = load_pack<T, V>(dout + e);
    const Pack<T, V> xv = load_pack<T, V>(x + e);
    Pack<T, V> old{};
    if (beta != 0.0) old = load_pack<T, V>(dx + e);
    Pack<T, V> o;
#pragma unroll
    for (int t = 0; t < V; ++t) {
      const int64_t ct = kAcross ? c + t : c;
      const int64_t st = kAcross && per_channel ? seg + t : seg;
      const double w = weight ? static_cast<double>(weight[ct]) : 1.0;
      const double mu = static_cast<double>(mean[st]), is = static_cast<double>(invstd[st]);
      double k0 = 0, k1 = 0;
      if (sums) {
        const double f = per_channel ? w : 1.0;
        k0 = f * sums[2 * st] * inv_count;
        k1 = is * f * sums[2 * st + 1] * inv_count;
      }
      double r =
          is * (w * static_cast<double>(g.v[t]) - k0 - (static_cast<double>(xv.v[t]) - mu) * k1);
      if (beta != 0.0) r += beta * static_cast<double>(old.v[t]);
      o.v[t] = static_cast<T>(r);
    }
    store_pack<T, V>(dx + e, o);
  }
}

// ------------------------------------------------------------ group norm, resident

// Group norm with the whole segment (b, g) of m = K * S values held in the
// registers of one block: one read of x (and dout) instead of two, and one
// launch instead of three. Vector j of the segment (V values of one
// channel: S % V == 0) sits in thread j % blockDim.x, slot j / blockDim.x;
// slots past the segment are never read. The arithmetic is the split
// path's: shifted double sums (k = the segment's first value), mean and
// invstd as norm_stats_finalize_kernel_v1, y and dx as
// norm_forward_kernel_v1 / norm_backward_dx_kernel_v1.
constexpr int kResidentThreads = 256;
constexpr int kResidentMaxVecs = 8;  // slots per thread: segments up to 2048 vectors
constexpr int64_t kRereadMaxValues = 16384;  // 64 KB of float per block between its two reads

// Mean and invstd of segment seg from the block's shifted sums s, q (k the
// shift, m values in all), through shifted_mean_var as the split path;
// every thread calls it with the same s and q and gets both; thread 0
// stores them unless `store` is false (another block of a cluster does).
template <class T>
__device__ __forceinline__ void segment_stats_from_sums(double s, double q, double k, int64_t m,
                                                        double eps, int64_t seg,
                                                        T* __restrict__ mean,
                                                        T* __restrict__ invstd, T* mu, T* is,
                                                        bool store = true) {
  double md, var;
  shifted_mean_var(s, q, k, static_cast<double>(m), &md, &var);
  *mu = static_cast<T>(md);
  *is = static_cast<T>(1.0 / sqrt(var + eps));
  if (store && threadIdx.x == 0) {
    mean[seg] = *mu;
    invstd[seg] = *is;
  }
}

// The same from this thread's own sums s, q: adds them over the block first.
template <class T>
__device__ __forceinline__ void block_segment_stats(double s, double q, double k, int64_t m,
                                                    double eps, int64_t seg, T* __restrict__ mean,
                                                    T* __restrict__ invstd, double* shared, T* mu,
                                                    T* is) {
  s = block_sum(s, shared);
  q = block_sum(q, shared);
  segment_stats_from_sums<T>(s, q, k, m, eps, seg, mean, invstd, mu, is);
}

// y for vector j of a segment whose channels start at c0 (S values per
// channel), as norm_forward_kernel_v1.
template <class T, int V>
__device__ __forceinline__ Pack<T, V> normalize_pack(const Pack<T, V>& v, int64_t j, int64_t c0,
                                                     int64_t S, T mu, T is,
                                                     const T* __restrict__ weight,
                                                     const T* __restrict__ bias) {
  const int64_t c = c0 + div_fast(j * V, S);
  const T a = is * (weight ? weight[c] : T(1));
  const T b = bias ? bias[c] : T(0);
  Pack<T, V> o;
#pragma unroll
  for (int t = 0; t < V; ++t) o.v[t] = (v.v[t] - mu) * a + b;
  return o;
}

// Segment `seg` (m values from xs) into the registers v of this block's
// threads: vector j in thread j % blockDim.x, slot j / blockDim.x.
template <class T, int V, int kVecs>
__device__ __forceinline__ void resident_load(const T* __restrict__ xs, int64_t nvec,
                                              Pack<T, V> (&v)[kVecs]) {
#pragma unroll
  for (int u = 0; u < kVecs; ++u) {
    const int64_t j = static_cast<int64_t>(u) * blockDim.x + threadIdx.x;
    if (j < nvec) v[u] = load_pack<T, V>(xs + j * V);
  }
}

// Statistics of the segment held in v (all threads of the block call it),
// then its output: mean[seg], invstd[seg] and out[seg * m ...].
template <class T, int V, int kVecs>
__device__ __forceinline__ void resident_normalize(
    const Pack<T, V> (&v)[kVecs], const T* __restrict__ xs, int64_t seg, int64_t m,
    int64_t nvec, const T* __restrict__ weight, const T* __restrict__ bias, T* __restrict__ out,
    T* __restrict__ mean, T* __restrict__ invstd, int64_t G, int64_t K, int64_t S, double eps,
    double* shared) {
  const double k = static_cast<double>(xs[0]);
  double s = 0, q = 0;
#pragma unroll
  for (int u = 0; u < kVecs; ++u)
    if (static_cast<int64_t>(u) * blockDim.x + threadIdx.x < nvec) add_shifted<T, V>(v[u], k, s, q);
  T mu, is;
  block_segment_stats<T>(s, q, k, m, eps, seg, mean, invstd, shared, &mu, &is);
  const int64_t c0 = (seg % G) * K;
#pragma unroll
  for (int u = 0; u < kVecs; ++u) {
    const int64_t j = static_cast<int64_t>(u) * blockDim.x + threadIdx.x;
    if (j < nvec)
      store_pack<T, V>(out + seg * m + j * V,
                       normalize_pack<T, V>(v[u], j, c0, S, mu, is, weight, bias));
  }
}

template <class T, int V, int kVecs>
static __global__ void group_norm_forward_resident_kernel_v1(
    const T* __restrict__ x,       // [B * G, m]
    const T* __restrict__ weight,  // [C] or null
    const T* __restrict__ bias,    // [C] or null
    T* __restrict__ out,           // [B * G, m]
    T* __restrict__ mean,          // [B * G]
    T* __restrict__ invstd,        // [B * G]
    int64_t nseg, int64_t m, int64_t G, int64_t K, int64_t S, double eps) {
  __shared__ double shared[32];
  const int64_t nvec = m / V;
  for (int64_t seg = blockIdx.x; seg < nseg; seg += gridDim.x) {
    Pack<T, V> v[kVecs];
    resident_load<T, V, kVecs>(x + seg * m, nvec, v);
    resident_normalize<T, V, kVecs>(v, x + seg * m, seg, m, nvec, weight, bias, out, mean, invstd,
                                    G, K, S, eps, shared);
  }
}

// As the resident kernel, but a grid of resident blocks walks the segments
// and loads the next segment into a second register set before working on
// the current one, so one segment's reads overlap the previous one's
// reduction and writes (with one block per segment, every block of the
// wave reads, then every block writes, and the two phases never overlap).
template <class T, int V, int kVecs>
static __global__ void group_norm_forward_pipelined_kernel_v1(
    const T* __restrict__ x,       // [B * G, m]
    const T* __restrict__ weight,  // [C] or null
    const T* __restrict__ bias,    // [C] or null
    T* __restrict__ out,           // [B * G, m]
    T* __restrict__ mean,          // [B * G]
    T* __restrict__ invstd,        // [B * G]
    int64_t nseg, int64_t m, int64_t G, int64_t K, int64_t S, double eps) {
  __shared__ double shared[32];
  const int64_t nvec = m / V, stride = gridDim.x;
  int64_t seg = blockIdx.x;  // uniform over the block: every thread takes the same branches
  if (seg >= nseg) return;
  Pack<T, V> a[kVecs], b[kVecs];
  resident_load<T, V, kVecs>(x + seg * m, nvec, a);
  while (true) {
    if (seg + stride < nseg) resident_load<T, V, kVecs>(x + (seg + stride) * m, nvec, b);
    resident_normalize<T, V, kVecs>(a, x + seg * m, seg, m, nvec, weight, bias, out, mean, invstd,
                                    G, K, S, eps, shared);
    seg += stride;
    if (seg >= nseg) break;
    if (seg + stride < nseg) resident_load<T, V, kVecs>(x + (seg + stride) * m, nvec, a);
    resident_normalize<T, V, kVecs>(b, x + seg * m, seg, m, nvec, weight, bias, out, mean, invstd,
                                    G, K, S, eps, shared);
    seg += stride;
    if (seg >= nseg) break;
  }
}

// The same result from one block per segment that reads the segment twice:
// the statistics pass (kUnroll loads in flight per thread), then the
// output pass, whose reads hit L2 because the block has just read the
// same bytes (a segment of 32 KB; all resident blocks' segments together
// stay within L2 for segments up to kRereadMaxValues). Few registers, so
// many blocks overlap their load and reduction phases, where the
// register-resident kernel above fits 3-4 blocks per SM.
template <class T, int V>
static __global__ void group_norm_forward_reread_kernel_v1(
    const T* __restrict__ x,       // [B * G, m]
    const T* __restrict__ weight,  // [C] or null
    const T* __restrict__ bias,    // [C] or null
    T* __restrict__ out,           // [B * G, m]
    T* __restrict__ mean,          // [B * G]
    T* __restrict__ invstd,        // [B * G]
    int64_t nseg, int64_t m, int64_t G, int64_t K, int64_t S, double eps) {
  __shared__ double shared[32];
  const int64_t nvec = m / V;
  const int64_t step = blockDim.x;
  for (int64_t seg = blockIdx.x; seg < nseg; seg += gridDim.x) {
    const T* xs = x + seg * m;
    const double k = static_cast<double>(xs[0]);
    double s = 0, q = 0;
    int64_t j = threadIdx.x;
    for (; j + (kUnroll - 1) * step < nvec; j += kUnroll * step) {
      Pack<T, V> p[kUnroll];
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) p[u] = load_pack<T, V>(xs + (j + u * step) * V);
#pragma unroll
      for (int u = 0; u < kUnroll; ++u) add_shifted<T, V>(p[u], k, s, q);
    }
    for (; j < nvec; j += step) add_shifted<T, V>(load_pack<T, V>(xs + j * V), k, s, q);
    T mu, is;
    block_segment_stats<T>(s, q, k, m, eps, seg, mean, invstd, shared, &mu, &is);
    const int64_t c0 = (seg % G) * K;
    for (j = threadIdx.x; j < nvec; j += step)
      store_pack<T, V>(out + seg * m + j * V,
                       normalize_pack<T, V>(load_pack<T, V>(xs + j * V), j, c0, S, mu, is, weight,
                                            bias));
  }
}

// A grid of resident blocks, each walking segments seg = blockIdx.x,
// + gridDim.x, ..., with a ring of kStages segments in shared
// memory filled by cp.async (16-byte copies that do not hold registers):
// while the block reduces and writes segment i, the loads of segments
// i + 1 .. i + kStages - 1 are in flight, so every SM reads and
// writes at the same time as a copy does. Every thread commits one copy
// group per segment (empty past the end), so waiting until at most
// kStages - 1 groups are pending means segment i's own copies have
// landed; the __syncthreads after it makes every thread's copies visible,
// and the one at the end of the step frees the stage for the load issued
// at the top of the next step. Vector j of a segment is thread
// j % blockDim.x's, read from shared memory twice (sums, then output).
// Version 5 runs 3 stages and 512 threads, version 7 2 stages and 256
// threads (more, smaller blocks per SM; one segment ahead).
// Versions 10 and 11 are version 7 with fewer steps between a segment's
// arrival and its first store. kOneBarrier (both): the block adds its two
// sums with one barrier (block_sum_pair) where two block_sum calls take
// four; the ring's barrier at the end of the step keeps the next segment
// from rewriting the pairs before every thread has read them. kPackSums
// (11): the V values of a vector are shifted and added in T first, so a
// float vector costs 2 conversions and 2 double additions where
// add_shifted takes 4 conversions and 4 subtractions, 4 additions and 4
// fused multiply-adds in double (conversions to and from 64-bit types are
// among the slower instructions in the programming guide's throughput
// table; not measured here); the price is float rounding in each vector's
// 4-value sums, ~1e-7 relative.
constexpr int64_t kStreamMaxStageBytes = 64 * 1024;  // 3 stages fit one block per SM
constexpr int64_t kStreamMinVecs = 256;  // shorter segments: the per-segment barriers dominate

template <class T, int V>
__device__ __forceinline__ void stream_issue(const T* __restrict__ x, int64_t seg, int64_t nseg,
                                             int64_t m, int64_t nvec, T* stage) {
  if (seg < nseg)
    for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x)
      __pipeline_memcpy_async(stage + j * V, x + seg * m + j * V, sizeof(T) * V);
  __pipeline_commit();
}

template <class T, int V>
__device__ __forceinline__ void add_shifted_pack(const Pack<T, V>& p, T k, double& s, double& q) {
  T ps = 0, pq = 0;
#pragma unroll
  for (int t = 0; t < V; ++t) {
    const T d = p.v[t] - k;
    ps += d;
    pq += d * d;
  }
  s += static_cast<double>(ps);
  q += static_cast<double>(pq);
}

template <class T, int V, int kStages, bool kOneBarrier, bool kPackSums>
static __global__ void group_norm_forward_stream_kernel_v1(
    const T* __restrict__ x,       // [B * G, m]
    const T* __restrict__ weight,  // [C] or null
    const T* __restrict__ bias,    // [C] or null
    T* __restrict__ out,           // [B * G, m]
    T* __restrict__ mean,          // [B * G]
    T* __restrict__ invstd,        // [B * G]
    int64_t nseg, int64_t m, int64_t G, int64_t K, int64_t S, double eps) {
  extern __shared__ __align__(16) unsigned char stream_smem[];
  T* ring = reinterpret_cast<T*>(stream_smem);  // [kStages, m]
  __shared__ double shared[kOneBarrier ? 64 : 32];  // 32 pairs or 32 block_sum partials
  const int64_t nvec = m / V, stride = gridDim.x;
  for (int st = 0; st < kStages - 1; ++st)
    stream_issue<T, V>(x, blockIdx.x + st * stride, nseg, m, nvec, ring + st * m);
  int st = 0;  // stage of segment seg
  for (int64_t seg = blockIdx.x; seg < nseg; seg += stride) {
    const int ahead = (st + kStages - 1) % kStages;
    stream_issue<T, V>(x, seg + (kStages - 1) * stride, nseg, m, nvec, ring + ahead * m);
    __pipeline_wait_prior(kStages - 1);
    __syncthreads();
    const T* xs = ring + st * m;
    const double k = static_cast<double>(xs[0]);
    double s = 0, q = 0;
    for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x) {
      if constexpr (kPackSums)
        add_shifted_pack<T, V>(load_pack<T, V>(xs + j * V), xs[0], s, q);
      else
        add_shifted<T, V>(load_pack<T, V>(xs + j * V), k, s, q);
    }
    T mu, is;
    if constexpr (kOneBarrier) {
      block_sum_pair(s, q, reinterpret_cast<double(*)[2]>(shared));
      segment_stats_from_sums<T>(s, q, k, m, eps, seg, mean, invstd, &mu, &is);
    } else {
      block_segment_stats<T>(s, q, k, m, eps, seg, mean, invstd, shared, &mu, &is);
    }
    const int64_t c0 = (seg % G) * K;
    for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x)
      store_pack<T, V>(out + seg * m + j * V, normalize_pack<T, V>(load_pack<T, V>(xs + j * V), j,
                                                                   c0, S, mu, is, weight, bias));
    __syncthreads();
    st = (st + 1) % kStages;
  }
}

// Version 6: a segment split over a thread-block cluster of CL blocks
// (Hopper: sm_90 and later), block rank r holding vectors
// [r * chunk, (r + 1) * chunk) of it in registers. Each block reduces its
// part, puts its two sums in its shared memory, and after a cluster
// barrier warp 0 of every block reads the CL pairs through distributed
// shared memory (lane r from rank r) and adds them in one fixed butterfly
// order, so all blocks of the cluster get the same bits. Small blocks
// (8 KB of x each at [32, 256, 32, 32], G = 32) finish at different times,
// so each SM reads and writes at once, as the softmax's warp rows do. A
// second barrier keeps every block alive until the others have read its
// sums. Compiled for an older architecture the body is empty and the
// launcher never picks it (it checks the binary's version).
constexpr int kClusterThreads = 256;
constexpr int kClusterMaxVecs = 4;    // register slots per thread
constexpr int kClusterMaxBlocks = 8;  // the portable cluster size
constexpr int64_t kClusterMinVecs = 512;

template <class T, int V, int kVecs>
static __global__ void __launch_bounds__(kClusterThreads, kVecs <= 2 ? 6 : 4)
    group_norm_forward_cluster_kernel_v1(const T* __restrict__ x,       // [B * G, m]
                                         const T* __restrict__ weight,  // [C] or null
                                         const T* __restrict__ bias,    // [C] or null
                                         T* __restrict__ out,           // [B * G, m]
                                         T* __restrict__ mean,          // [B * G]
                                         T* __restrict__ invstd,        // [B * G]
                                         int64_t m, int64_t G, int64_t K, int64_t S, double eps,
                                         int64_t chunk) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  __shared__ double shared[32];
  __shared__ double partial[2];
  __shared__ double total[2];
  cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank(), blocks = cluster.num_blocks();
  const int64_t seg = blockIdx.x / blocks;  // a 1-D grid: clusters are consecutive blocks
  const int64_t nvec = m / V, lo = rank * chunk, hi = min(nvec, lo + chunk);
  const T* xs = x + seg * m;
  Pack<T, V> v[kVecs];
#pragma unroll
  for (int u = 0; u < kVecs; ++u) {
    const int64_t j = lo + static_cast<int64_t>(u) * blockDim.x + threadIdx.x;
    if (j < hi) v[u] = load_pack<T, V>(xs + j * V);
  }
  const double k = static_cast<double>(xs[0]);
  double s = 0, q = 0;
#pragma unroll
  for (int u = 0; u < kVecs; ++u)
    if (lo + static_cast<int64_t>(u) * blockDim.x + threadIdx.x < hi)
      add_shifted<T, V>(v[u], k, s, q);
  s = block_sum(s, shared);
  q = block_sum(q, shared);
  if (threadIdx.x == 0) {
    partial[0] = s;
    partial[1] = q;
  }
  cluster.sync();
  if (threadIdx.x < 32) {
    double a = 0, b = 0;
    if (threadIdx.x < blocks) {
      const double* p = cluster.map_shared_rank(partial, threadIdx.x);
      a = p[0];
      b = p[1];
    }
    a = warp_sum(a);
    b = warp_sum(b);
    if (threadIdx.x == 0) {
      total[0] = a;
      total[1] = b;
    }
  }
  __syncthreads();
  double md, var;
  shifted_mean_var(total[0], total[1], k, static_cast<double>(m), &md, &var);
  const T mu = static_cast<T>(md), is = static_cast<T>(1.0 / sqrt(var + eps));
  if (rank == 0 && threadIdx.x == 0) {
    mean[seg] = mu;
    invstd[seg] = is;
  }
  const int64_t c0 = (seg % G) * K;
#pragma unroll
  for (int u = 0; u < kVecs; ++u) {
    const int64_t j = lo + static_cast<int64_t>(u) * blockDim.x + threadIdx.x;
    if (j < hi)
      store_pack<T, V>(out + seg * m + j * V,
                       normalize_pack<T, V>(v[u], j, c0, S, mu, is, weight, bias));
  }
  cluster.sync();
#endif
}

// Version 12: as version 6 (a segment split over a cluster, each block's
// part in registers), reworked where version 6 lost time. Each thread loads
// up to 8 vectors before using any (version 6: 2), in blocks of as few
// threads as that allows, so one SM holds ~16 parts in flight; the block
// adds its two sums with one barrier (block_sum_pair); and each block
// pushes its pair into every block's shared memory (slot = its rank), so
// after a single rendezvous every block reads all pairs locally, in rank
// order (the same bits everywhere), and no block touches another's shared
// memory afterwards: blocks exit without a second cluster barrier. Writing
// into another block's shared memory needs that block to be running, so a
// first cluster barrier is arrived at on entry (relaxed) and waited on only
// just before the pushes: the loads and the block's own sums hide it.
constexpr int kCluster2Vecs = 8;  // register slots per thread

// At most 64 registers a thread (__launch_bounds__ minimum of 4 blocks of
// 256): 16 blocks of 64 threads fit an SM.
template <class T, int V>
static __global__ void __launch_bounds__(kClusterThreads, 4)
    group_norm_forward_cluster_kernel_v2(const T* __restrict__ x,       // [B * G, m]
                                         const T* __restrict__ weight,  // [C] or null
                                         const T* __restrict__ bias,    // [C] or null
                                         T* __restrict__ out,           // [B * G, m]
                                         T* __restrict__ mean,          // [B * G]
                                         T* __restrict__ invstd,        // [B * G]
                                         int64_t m, int64_t G, int64_t K, int64_t S, double eps,
                                         int64_t chunk) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  __shared__ double warp_pairs[32][2];
  __shared__ double rank_pairs[kClusterMaxBlocks][2];
  __cluster_barrier_arrive_relaxed();
  cg::cluster_group cluster = cg::this_cluster();
  const unsigned rank = cluster.block_rank(), blocks = cluster.num_blocks();
  const int64_t seg = blockIdx.x / blocks;  // a 1-D grid: clusters are consecutive blocks
  // Indices inside the segment fit 32 bits (the launcher takes at most
  // kClusterMaxBlocks * kClusterThreads * kCluster2Vecs vectors).
  const int nvec = static_cast<int>(m / V), lo = static_cast<int>(rank * chunk),
            hi = min(nvec, lo + static_cast<int>(chunk));
  const int first = lo + static_cast<int>(threadIdx.x), step = static_cast<int>(blockDim.x);
  const T* xs = x + seg * m;
  Pack<T, V> v[kCluster2Vecs];
#pragma unroll
  for (int u = 0; u < kCluster2Vecs; ++u)
    if (first + u * step < hi) v[u] = load_pack<T, V>(xs + (first + u * step) * V);
  const double k = static_cast<double>(xs[0]);
  double s = 0, q = 0;
#pragma unroll
  for (int u = 0; u < kCluster2Vecs; ++u)
    if (first + u * step < hi) add_shifted<T, V>(v[u], k, s, q);
  block_sum_pair(s, q, warp_pairs);
  __cluster_barrier_wait();  // the entry barrier: every block of the cluster runs
  if (threadIdx.x < blocks) {
    double* slot = cluster.map_shared_rank(&rank_pairs[rank][0], threadIdx.x);
    slot[0] = s;
    slot[1] = q;
  }
  cluster.sync();  // every block's pushes are visible to every block
  s = 0;
  q = 0;
  for (unsigned r = 0; r < blocks; ++r) {
    s += rank_pairs[r][0];
    q += rank_pairs[r][1];
  }
  T mu, is;
  segment_stats_from_sums<T>(s, q, k, m, eps, seg, mean, invstd, &mu, &is, rank == 0);
  const int64_t c0 = (seg % G) * K;
  T* os = out + seg * m;
#pragma unroll
  for (int u = 0; u < kCluster2Vecs; ++u) {
    const int j = first + u * step;
    if (j < hi)
      store_pack<T, V>(os + j * V, normalize_pack<T, V>(v[u], j, c0, S, mu, is, weight, bias));
  }
#endif
}

// Version 8: as the stream kernels, one block per SM with a ring of
// `stages` segments in shared memory, but both directions are bulk copies
// of the Hopper tensor memory accelerator (cp.async.bulk, sm_90): thread 0
// loads a whole segment with one instruction (completion counted in bytes
// on the stage's mbarrier), the block normalises it in place, and thread 0
// writes it back with one bulk store, so no thread waits on its own loads
// or stores. Per step i (segment i of this block, stage i % stages): wait
// for the stage's load (mbarrier phase parity (i / stages) & 1), sums,
// normalise in place, fence the generic-proxy writes for the async proxy,
// barrier, bulk store; then thread 0 waits until the previous step's store
// has read its stage (wait_group.read 1) and loads segment i + stages - 1
// into it. At any time: one stage storing, one being normalised, the
// others loading. Compiled for an older architecture the body is empty and
// the launcher never picks it.
constexpr int kTmaThreads = 512;
constexpr int kTmaMaxStages = 5;

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}

template <class T, int V>
static __global__ void __launch_bounds__(kTmaThreads)
    group_norm_forward_tma_kernel_v1(const T* __restrict__ x,       // [B * G, m]
                                     const T* __restrict__ weight,  // [C] or null
                                     const T* __restrict__ bias,    // [C] or null
                                     T* __restrict__ out,           // [B * G, m]
                                     T* __restrict__ mean,          // [B * G]
                                     T* __restrict__ invstd,        // [B * G]
                                     int64_t nseg, int64_t m, int64_t G, int64_t K, int64_t S,
                                     double eps, int stages) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  extern __shared__ __align__(128) unsigned char tma_smem[];
  __shared__ __align__(8) uint64_t full[kTmaMaxStages];  // one mbarrier per stage
  __shared__ double shared[32];
  T* ring = reinterpret_cast<T*>(tma_smem);  // [stages, m]
  const uint32_t bytes = static_cast<uint32_t>(m * sizeof(T));
  const int64_t nvec = m / V, stride = gridDim.x;
  auto issue_load = [&](int64_t seg, int st) {  // thread 0 only
    const uint32_t bar = smem_addr(&full[st]);
    asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(bar), "r"(bytes)
                 : "memory");
    asm volatile(
        "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::
            "r"(smem_addr(ring + st * m)),
        "l"(x + seg * m), "r"(bytes), "r"(bar)
        : "memory");
  };
  if (threadIdx.x == 0) {
    for (int st = 0; st < stages; ++st)
      asm volatile("mbarrier.init.shared::cta.b64 [%0], 1;" ::"r"(smem_addr(&full[st])) : "memory");
    asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
    for (int st = 0; st < stages - 1; ++st)
      if (blockIdx.x + st * stride < nseg) issue_load(blockIdx.x + st * stride, st);
  }
  __syncthreads();
  int64_t i = 0;
  for (int64_t seg = blockIdx.x; seg < nseg; seg += stride, ++i) {
    const int st = static_cast<int>(i % stages);
    const uint32_t parity = static_cast<uint32_t>((i / stages) & 1);
    asm volatile(
        "{\n"
        " .reg .pred done;\n"
        "WAIT:\n"
        " mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
        " @!done bra WAIT;\n"
        "}\n" ::"r"(smem_addr(&full[st])),
        "r"(parity)
        : "memory");
    T* xs = ring + st * m;
    const double k = static_cast<double>(xs[0]);
    double s = 0, q = 0;
    for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x)
      add_shifted<T, V>(load_pack<T, V>(xs + j * V), k, s, q);
    T mu, is;
    block_segment_stats<T>(s, q, k, m, eps, seg, mean, invstd, shared, &mu, &is);
    const int64_t c0 = (seg % G) * K;
    for (int64_t j = threadIdx.x; j < nvec; j += blockDim.x)
      store_pack<T, V>(xs + j * V, normalize_pack<T, V>(load_pack<T, V>(xs + j * V), j, c0, S, mu,
                                                        is, weight, bias));
    asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
    __syncthreads();
    if (threadIdx.x == 0) {
      asm volatile(
          "cp.async.bulk.global.shared::cta.bulk_group [%0], [%1], %2;" ::"l"(out + seg * m),
          "r"(smem_addr(xs)), "r"(bytes)
          : "memory");
      asm volatile("cp.async.bulk.commit_group;" ::: "memory");
      // The stage of the previous step is free once its store has read it.
      asm volatile("cp.async.bulk.wait_group.read 1;" ::: "memory");
      const int64_t next = seg + (stages - 1) * stride;
      if (next < nseg) issue_load(next, static_cast<int>((i + stages - 1) % stages));
    }
  }
  if (threadIdx.x == 0) asm volatile("cp.async.bulk.wait_group 0;" ::: "memory");
#endif
}

// Version 9: two fine-grained passes. The first reduces parts of 512
// vectors (8 KB of float, one block each) to shifted partial sums in a
// scratch buffer; the second, with the same grid, has warp 0 of each block
// add its segment's parts (lane p from part p, one fixed butterfly order:
// every part's block gets the same bits), then re-reads its part, which
// the first pass has just brought into L2, and writes the output. Each
// pass streams like an elementwise kernel; the cost is a second launch
// and x read twice, the second time from L2 when it fits there.
constexpr int kPartThreads = 256;
constexpr int64_t kPartVecs = 512;  // 2 per thread
constexpr int kMaxParts = 32;       // one warp adds them

template <class T, int V>
static __global__ void __launch_bounds__(kPartThreads)
    group_norm_part_sums_kernel_v1(const T* __restrict__ x, int64_t m, int64_t parts,
                                   double* __restrict__ sums) {  // [nseg * parts, 2]
  __shared__ double shared[32];
  const int64_t seg = blockIdx.x / parts, part = blockIdx.x % parts;
  const int64_t nvec = m / V, lo = part * kPartVecs, hi = min(nvec, lo + kPartVecs);
  const T* xs = x + seg * m;
  const int64_t j0 = lo + threadIdx.x, j1 = j0 + kPartThreads;
  Pack<T, V> a, b;
  if (j0 < hi) a = load_pack<T, V>(xs + j0 * V);
  if (j1 < hi) b = load_pack<T, V>(xs + j1 * V);
  const double k = static_cast<double>(xs[0]);
  double s = 0, q = 0;
  if (j0 < hi) add_shifted<T, V>(a, k, s, q);
  if (j1 < hi) add_shifted<T, V>(b, k, s, q);
  s = block_sum(s, shared);
  q = block_sum(q, shared);
  if (threadIdx.x == 0) {
    sums[2 * blockIdx.x] = s;
    sums[2 * blockIdx.x + 1] = q;
  }
}

template <class T, int V>
static __global__ void __launch_bounds__(kPartThreads)
    group_norm_part_apply_kernel_v1(const T* __restrict__ x, const T* __restrict__ weight,
                                    const T* __restrict__ bias, T* __restrict__ out,
                                    T* __restrict__ mean, T* __restrict__ invstd, int64_t m,
                                    int64_t G, int64_t K, int64_t S, double eps, int64_t parts,
                                    const double* __restrict__ sums) {
  __shared__ double total[2];
  const int64_t seg = blockIdx.x / parts, part = blockIdx.x % parts;
  const int64_t nvec = m / V, lo = part * kPartVecs, hi = min(nvec, lo + kPartVecs);
  const T* xs = x + seg * m;
  const int64_t j0 = lo + threadIdx.x, j1 = j0 + kPartThreads;
  Pack<T, V> a, b;
  if (j0 < hi) a = load_pack<T, V>(xs + j0 * V);
  if (j1 < hi) b = load_pack<T, V>(xs + j1 * V);
  if (threadIdx.x < 32) {
    double ps = 0, pq = 0;
    if (threadIdx.x < parts) {
      ps = sums[2 * (seg * parts + threadIdx.x)];
      pq = sums[2 * (seg * parts + threadIdx.x) + 1];
    }
    ps = warp_sum(ps);
    pq = warp_sum(pq);
    if (threadIdx.x == 0) {
      total[0] = ps;
      total[1] = pq;
    }
  }
  __syncthreads();
  double md, var;
  shifted_mean_var(total[0], total[1], static_cast<double>(xs[0]), static_cast<double>(m), &md,
                   &var);
  const T mu = static_cast<T>(md), is = static_cast<T>(1.0 / sqrt(var + eps));
  if (part == 0 && threadIdx.x == 0) {
    mean[seg] = mu;
    invstd[seg] = is;
  }
  const int64_t c0 = (seg % G) * K;
  if (j0 < hi)
    store_pack<T, V>(out + seg * m + j0 * V,
                     normalize_pack<T, V>(a, j0, c0, S, mu, is, weight, bias));
  if (j1 < hi)
    store_pack<T, V>(out + seg * m + j1 * V,
                     normalize_pack<T, V>(b, j1, c0, S, mu, is, weight, bias));
}

template <class T, int V, int kVecs>
static __global__ void group_norm_backward_dx_resident_kernel_v1(
    const T* __restrict__ dout,    // [B * G, m]
    const T* __restrict__ x,       // [B * G, m]
    const T* __restrict__ mean,    // [B * G]
    const T* __restrict__ invstd,  // [B * G]
    const T* __restrict__ weight,  // [C] or null
    T* __restrict__ dx,            // [B * G, m]
    int64_t nseg, int64_t m, int64_t G, int64_t K, int64_t S, double beta) {
  __shared__ double shared[32];
  const int64_t nvec = m / V;
  for (int64_t seg = blockIdx.x; seg < nseg; seg += gridDim.x) {
    const int64_t base = seg * m, c0 = (seg % G) * K;
    Pack<T, V> g[kVecs], xv[kVecs];
#pragma unroll
    for (int u = 0; u < kVecs; ++u) {
      const int64_t j = static_cast<int64_t>(u) * blockDim.x + threadIdx.x;
      if (j < nvec) {
        g[u] = load_pack<T, V>(dout + base + j * V);
        xv[u] = load_pack<T, V>(x + base + j * V);
      }
    }
    const double mu = static_cast<double>(mean[seg]), is = static_cast<double>(invstd[seg]);
    double s0 = 0, s1 = 0;
#pragma unroll
    for (int u = 0; u < kVecs; ++u) {
      const int64_t j = static_cast<int64_t>(u) * blockDim.x + threadIdx.x;
      if (j < nvec) {
        const double w = weight ? static_cast<double>(weight[c0 + div_fast(j * V, S)]) : 1.0;
#pragma unroll
        for (int t = 0; t < V; ++t) {
          const double gt = static_cast<double>(g[u].v[t]) * w;
          s0 += gt;
          s1 += gt * (static_cast<double>(xv[u].v[t]) - mu) * is;
        }
      }
    }
    s0 = block_sum(s0, shared);
    s1 = block_sum(s1, shared);
    const double inv_count = 1.0 / static_cast<double>(m);
    const double k0 = s0 * inv_count, k1 = is * s1 * inv_count;
#pragma unroll
    for (int u = 0; u < kVecs; ++u) {
      const int64_t j = static_cast<int64_t>(u) * blockDim.x + threadIdx.x;
      if (j < nvec) {
        const double w = weight ? static_cast<double>(weight[c0 + div_fast(j * V, S)]) : 1.0;
        Pack<T, V> old{};
        if (beta != 0.0) old = load_pack<T, V>(dx + base + j * V);
        Pack<T, V> o;
#pragma unroll
        for (int t = 0; t < V; ++t) {
          double r = is * (w * static_cast<double>(g[u].v[t]) - k0 -
                           (static_cast<double>(xv[u].v[t]) - mu) * k1);
          if (beta != 0.0) r += beta * static_cast<double>(old.v[t]);
          o.v[t] = static_cast<T>(r);
        }
        store_pack<T, V>(dx + base + j * V, o);
      }
    }
  }
}

// ------------------------------------------------------------ batch norm stats

template <class T>
static __global__ void batch_norm_update_kernel_v1(const T* __restrict__ mean,  // [C]
                                                   const T* __restrict__ var,   // [C]
                                                   T* __restrict__ invstd,      // [C]
                                                   T* running_mean,  // [C] strided or null
                                                   int64_t rm_stride,
                                                   T* running_var,  // [C] strided or null
                                                   int64_t rv_stride, int64_t C, double unbias,
                                                   double momentum, double eps) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const double v = static_cast<double>(var[c]);
    invstd[c] = static_cast<T>(1.0 / sqrt(v + eps));
    if (running_mean) {
      T* p = running_mean + c * rm_stride;
      *p = static_cast<T>((1.0 - momentum) * static_cast<double>(*p) +
                          momentum * static_cast<double>(mean[c]));
    }
    if (running_var) {
      T* p = running_var + c * rv_stride;
      *p = static_cast<T>((1.0 - momentum) * static_cast<double>(*p) + momentum * unbias * v);
    }
  }
}

template <class T>
static __global__ void batch_norm_eval_stats_kernel_v1(
    const T* __restrict__ running_mean,  // [C] strided
    int64_t rm_stride,
    const T* __restrict__ running_var,  // [C] strided
    int64_t rv_stride,
    T* __restrict__ mean,    // [C]
    T* __restrict__ invstd,  // [C]
    int64_t C, double eps) {
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < C;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    mean[c] = running_mean[c * rm_stride];
    invstd[c] = static_cast<T>(1.0 / sqrt(static_cast<double>(running_var[c * rv_stride]) + eps));
  }
}

// ------------------------------------------------------------ host helpers

bool aligned16(const void* p) { return (reinterpret_cast<uintptr_t>(p) & 15u) == 0; }

// How the elementwise kernels load: one value, V values of one row, or V
// values of V consecutive rows (S == 1) that stay inside one channel block.
enum class VecMode { kScalar, kWithin, kAcross };

VecMode elementwise_mode(int V, bool aligned, int64_t C, int64_t S, int64_t K, bool per_channel) {
  if (!aligned || V == 1) return VecMode::kScalar;
  if (S % V == 0) return VecMode::kWithin;
  // S == 1: element e is channel e % C; a vector starting at e % V == 0
  // covers channels c .. c + V - 1 without wrapping when C % V == 0, and
  // lies in one group when K % V == 0 (C = G * K).
  if (S == 1 && (per_channel ? C : K) % V == 0) return VecMode::kAcross;
  return VecMode::kScalar;
}

// Threads per reduction block: one per vector of the segment, a multiple
// of 32 up to 256.
int reduce_threads(int64_t nvec_seg) {
  int64_t warps = (nvec_seg + 31) / 32;
  warps = std::max<int64_t>(1, std::min<int64_t>(8, warps));
  return static_cast<int>(warps * 32);
}

// Blocks per segment: as many as fit in one wave of resident blocks beside
// the other segments' (all blocks carry equal work, so a partial second
// wave would cost a whole block's time), but at least kUnroll vectors per
// thread, and at most 1024 (the finalize adds them serially).
template <class Kernel>
int reduce_splits(Kernel kernel, int64_t nseg, int64_t nvec_seg, int threads, int device) {
  const int64_t resident =
      static_cast<int64_t>(cuda_sm_count(device)) * cuda_blocks_per_sm(kernel, threads);
  const int64_t want = resident / nseg;
  const int64_t by_work = nvec_seg / (static_cast<int64_t>(threads) * kUnroll);
  return static_cast<int>(std::max<int64_t>(1, std::min<int64_t>({want, by_work, 1024})));
}

void check_segments(int64_t nseg, const char* op) {
  SIRS_CHECK(nseg <= INT_MAX, ShapeError, op, ": ", nseg,
             " reduction segments exceed the CUDA grid limit of ", INT_MAX);
}

// mean and var / invstd of every segment of x.
template <class T>
void segment_stats(const T* x, const SegLayout& L, T* mean, T* second, bool want_invstd, double eps,
                   int device, cudaStream_t stream, const char* op) {
  if (L.nseg == 0) return;
  check_segments(L.nseg, op);
  constexpr int V = kVec<T>;
  const bool vec =
      aligned16(x) && L.cols % V == 0 && L.seg_stride % V == 0 && L.row_stride % V == 0;
  auto kernel = vec ? norm_stats_partial_kernel_v1<T, V> : norm_stats_partial_kernel_v1<T, 1>;
  const int64_t nvec_seg = L.rows * (vec ? L.cols / V : L.cols);
  const int threads = reduce_threads(nvec_seg);
  const int splits = reduce_splits(kernel, L.nseg, nvec_seg, threads, device);
  CudaBuffer partial(static_cast<size_t>(L.nseg) * splits * 2 * sizeof(double), device);
  const dim3 grid(static_cast<unsigned>(L.nseg), static_cast<unsigned>(splits));
  kernel<<<grid, threads, 0, stream>>>(x, L, partial.as<double>());
  SIRS_CUDA_CHECK(cudaGetLastError());
  norm_stats_finalize_kernel_v1<T><<<cuda_blocks(L.nseg, 128), 128, 0, stream>>>(
      x, L, splits, partial.as<double>(), mean, second, eps, want_invstd);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// Backward sums of every segment into sums / dweight / dbias (see the
// finalize kernel).
template <class T>
void segment_backward_sums(const T* dout, const T* x, const T* mean, const T* invstd,
                           const T* weight, const SegLayout& L, const StatMap& M, double* sums,
                           T* dweight, T* dbias, double beta, int device, cudaStream_t stream,
                           const char* op) {
  if (L.nseg == 0) return;
  check_segments(L.nseg, op);
  constexpr int V = kVec<T>;
  bool vec = aligned16(dout) && aligned16(x) && L.cols % V == 0 && L.seg_stride % V == 0 &&
             L.row_stride % V == 0;
  // With a weight, the V values of a vector must share a channel
  // (S % V == 0) or be consecutive channels (S == 1).
  bool across = false;
  if (vec && weight && M.S % V != 0) {
    if (M.S == 1)
      across = true;
    else
      vec = false;
  }
  auto kernel = !vec     ? norm_backward_partial_kernel_v1<T, 1, false>
                : across ? norm_backward_partial_kernel_v1<T, V, true>
                         : norm_backward_partial_kernel_v1<T, V, false>;
  const int64_t nvec_seg = L.rows * (vec ? L.cols / V : L.cols);
  const int threads = reduce_threads(nvec_seg);
  const int splits = reduce_splits(kernel, L.nseg, nvec_seg, threads, device);
  CudaBuffer partial(static_cast<size_t>(L.nseg) * splits * 2 * sizeof(double), device);
  const dim3 grid(static_cast<unsigned>(L.nseg), static_cast<unsigned>(splits));
  double* pp = partial.as<double>();
  kernel<<<grid, threads, 0, stream>>>(dout, x, mean, invstd, weight, L, M, pp);
  SIRS_CUDA_CHECK(cudaGetLastError());
  norm_backward_finalize_kernel_v1<T><<<cuda_blocks(L.nseg, 128), 128, 0, stream>>>(
      pp, L.nseg, splits, sums, dweight, dbias, beta);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

constexpr int kElementwiseThreads = 256;

template <class T>
void norm_forward_launch(const T* x, const T* mean, const T* invstd, const T* weight, const T* bias,
                         T* out, int64_t numel, int64_t C, int64_t S, int64_t K, bool per_channel,
                         cudaStream_t stream) {
  if (numel == 0) return;
  constexpr int V = kVec<T>;
  const VecMode mode = elementwise_mode(V, aligned16(x) && aligned16(out), C, S, K, per_channel);
  const int th = kElementwiseThreads;
  switch (mode) {
    case VecMode::kScalar:
      norm_forward_kernel_v1<T, 1, false><<<cuda_blocks(numel, th), th, 0, stream>>>(
          x, mean, invstd, weight, bias, out, numel, C, S, K, per_channel);
      break;
    case VecMode::kWithin:
      norm_forward_kernel_v1<T, V, false><<<cuda_blocks(numel / V, th), th, 0, stream>>>(
          x, mean, invstd, weight, bias, out, numel / V, C, S, K, per_channel);
      break;
    case VecMode::kAcross:
      norm_forward_kernel_v1<T, V, true><<<cuda_blocks(numel / V, th), th, 0, stream>>>(
          x, mean, invstd, weight, bias, out, numel / V, C, S, K, per_channel);
      break;
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void norm_dx_launch(const T* dout, const T* x, const T* mean, const T* invstd, const T* weight,
                    const double* sums, T* dx, int64_t numel, int64_t C, int64_t S, int64_t K,
                    bool per_channel, double inv_count, double beta, cudaStream_t stream) {
  if (numel == 0) return;
  constexpr int V = kVec<T>;
  const VecMode mode =
      elementwise_mode(V, aligned16(dout) && aligned16(x) && aligned16(dx), C, S, K, per_channel);
  const int th = kElementwiseThreads;
  switch (mode) {
    case VecMode::kScalar:
      norm_backward_dx_kernel_v1<T, 1, false><<<cuda_blocks(numel, th), th, 0, stream>>>(
          dout, x, mean, invstd, weight, sums, dx, numel, C, S, K, per_channel, inv_count, beta);
      break;
    case VecMode::kWithin:
      norm_backward_dx_kernel_v1<T, V, false><<<cuda_blocks(numel / V, th), th, 0, stream>>>(
          dout, x, mean, invstd, weight, sums, dx, numel / V, C, S, K, per_channel, inv_count,
          beta);
      break;
    case VecMode::kAcross:
      norm_backward_dx_kernel_v1<T, V, true><<<cuda_blocks(numel / V, th), th, 0, stream>>>(
          dout, x, mean, invstd, weight, sums, dx, numel / V, C, S, K, per_channel, inv_count,
          beta);
      break;
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// Geometry of the resident group norm kernels for segments of m values
// with S values per channel: V-wide loads when the layout allows; threads
// a multiple of 32 up to kResidentThreads, vecs the power of two of slots
// per thread. ok = false: the segment is too long (the split path runs).
struct ResidentPlan {
  bool ok = false;
  bool vec = false;
  int threads = 0;
  int vecs = 0;
};

template <class T>
ResidentPlan resident_plan(int64_t m, int64_t S, bool aligned) {
  constexpr int V = kVec<T>;
  ResidentPlan p;
  p.vec = aligned && S % V == 0;
  const int64_t nvec = p.vec ? m / V : m;
  if (nvec == 0 || nvec > int64_t{kResidentThreads} * kResidentMaxVecs) return p;
  p.ok = true;
  p.vecs = 1;
  while (int64_t{kResidentThreads} * p.vecs < nvec) p.vecs *= 2;
  const int64_t per_slot = (nvec + p.vecs - 1) / p.vecs;
  p.threads = static_cast<int>(std::max<int64_t>(32, (per_slot + 31) / 32 * 32));
  return p;
}

// Calls launch(integral_constant<V>, integral_constant<vecs>) for the plan.
template <class T, class Launch>
void resident_dispatch(const ResidentPlan& p, Launch&& launch) {
  constexpr int V = kVec<T>;
  auto by_vecs = [&](auto v) {
    switch (p.vecs) {
      case 1: launch(v, std::integral_constant<int, 1>{}); break;
      case 2: launch(v, std::integral_constant<int, 2>{}); break;
      case 4: launch(v, std::integral_constant<int, 4>{}); break;
      default: launch(v, std::integral_constant<int, kResidentMaxVecs>{}); break;
    }
  };
  if (p.vec)
    by_vecs(std::integral_constant<int, V>{});
  else
    by_vecs(std::integral_constant<int, 1>{});
}

int resident_grid(int64_t nseg) { return static_cast<int>(std::min<int64_t>(nseg, 1 << 20)); }

// Version 5 (kStages 3, up to 512 threads) or 7 (2, 256) of the group norm
// forward when the segments suit it; false: the caller falls back.
// One group norm forward call as the version launchers below see it: the
// launcher's arguments, the segment count and length (nseg = B * G
// segments of m = K * S values), and whether 16-byte vectors fit (aligned
// x and out, S % V == 0).
template <class T>
struct GroupNormCall {
  const T* x;
  const T* weight;
  const T* bias;
  T* out;
  T* mean;
  T* invstd;
  int64_t nseg, m, G, K, S;
  double eps;
  bool vec;
  int device;
  cudaStream_t stream;
};

// Launches a ring kernel (versions 5, 7, 8) on one block per resident slot
// (at most nseg), with `smem` bytes of dynamic shared memory and up to
// max_threads threads (a multiple of 32 no larger than the nvec vectors
// of a segment need).
template <class Kernel, class... Args>
void launch_ring(Kernel kernel, int max_threads, int64_t nvec, size_t smem, int64_t nseg,
                 int device, cudaStream_t stream, Args... args) {
  const int threads = static_cast<int>(std::min<int64_t>(max_threads, (nvec + 31) / 32 * 32));
  cuda_allow_dynamic_smem(kernel, smem);
  const int64_t resident =
      static_cast<int64_t>(cuda_sm_count(device)) * cuda_blocks_per_sm(kernel, threads, smem);
  kernel<<<static_cast<int>(std::min(nseg, resident)), threads, smem, stream>>>(args...);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T, int kStages, bool kOneBarrier = false, bool kPackSums = false>
bool group_norm_stream_launch(const GroupNormCall<T>& c, int max_threads) {
  constexpr int V = kVec<T>;
  const int64_t stage_bytes = c.m * static_cast<int64_t>(sizeof(T));
  const size_t smem = static_cast<size_t>(stage_bytes) * kStages;
  if (!c.vec || c.nseg == 0 || c.m / V < kStreamMinVecs || stage_bytes > kStreamMaxStageBytes ||
      smem > static_cast<size_t>(cuda_max_block_smem(c.device)))
    return false;
  launch_ring(group_norm_forward_stream_kernel_v1<T, V, kStages, kOneBarrier, kPackSums>,
              max_threads, c.m / V, smem, c.nseg, c.device, c.stream, c.x, c.weight, c.bias, c.out,
              c.mean, c.invstd, c.nseg, c.m, c.G, c.K, c.S, c.eps);
  return true;
}

// Version 8 of the group norm forward when the device and this build
// support bulk copies and the segments suit it; false: the caller falls back.
template <class T>
bool group_norm_tma_launch(const GroupNormCall<T>& c) {
  constexpr int V = kVec<T>;
  const int64_t stage_bytes = c.m * static_cast<int64_t>(sizeof(T));
  // Room for the static shared memory (barriers, block sums) beside the ring.
  const int64_t stages = std::min<int64_t>(
      kTmaMaxStages, (cuda_max_block_smem(c.device) - 1024) / std::max<int64_t>(stage_bytes, 1));
  // The bulk copy moves multiples of 16 bytes; its mbarrier counts under 2^20.
  if (!c.vec || c.nseg == 0 || c.m / V < kStreamMinVecs || stage_bytes % 16 != 0 ||
      stage_bytes >= (1 << 20) || stages < 3)
    return false;
  auto kernel = group_norm_forward_tma_kernel_v1<T, V>;
  cudaFuncAttributes fa{};
  SIRS_CUDA_CHECK(cudaFuncGetAttributes(&fa, kernel));
  if (fa.binaryVersion < 90) return false;  // built for an architecture without bulk copies
  launch_ring(kernel, kTmaThreads, c.m / V, static_cast<size_t>(stage_bytes * stages), c.nseg,
              c.device, c.stream, c.x, c.weight, c.bias, c.out, c.mean, c.invstd, c.nseg, c.m, c.G,
              c.K, c.S, c.eps, static_cast<int>(stages));
  return true;
}

// Version 9 of the group norm forward when the segments suit it; false:
// the caller falls back.
template <class T>
bool group_norm_parts_launch(const GroupNormCall<T>& c) {
  constexpr int V = kVec<T>;
  const int64_t nvec = c.m / V, parts = (nvec + kPartVecs - 1) / kPartVecs;
  if (!c.vec || c.nseg == 0 || nvec < kPartVecs || parts > kMaxParts || c.nseg * parts > INT_MAX)
    return false;
  CudaBuffer sums(static_cast<size_t>(c.nseg * parts) * 2 * sizeof(double), c.device);
  const int grid = static_cast<int>(c.nseg * parts);
  group_norm_part_sums_kernel_v1<T, V>
      <<<grid, kPartThreads, 0, c.stream>>>(c.x, c.m, parts, sums.as<double>());
  SIRS_CUDA_CHECK(cudaGetLastError());
  group_norm_part_apply_kernel_v1<T, V>
      <<<grid, kPartThreads, 0, c.stream>>>(c.x, c.weight, c.bias, c.out, c.mean, c.invstd, c.m,
                                            c.G, c.K, c.S, c.eps, parts, sums.as<double>());
  SIRS_CUDA_CHECK(cudaGetLastError());
  return true;
}

// Launches a group norm cluster kernel (versions 6, 12) on `grid` blocks of
// `threads`, in clusters of `blocks`, with the call's arguments and the
// part length `chunk`; false when this build's kernel has no cluster code
// (compiled for an architecture before sm_90).
template <class T, class Kernel>
bool launch_cluster(Kernel kernel, unsigned blocks, int64_t grid, int threads,
                    const GroupNormCall<T>& c, int64_t chunk) {
  cudaFuncAttributes fa{};
  SIRS_CUDA_CHECK(cudaFuncGetAttributes(&fa, kernel));
  if (fa.binaryVersion < 90) return false;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeClusterDimension;
  attr[0].val.clusterDim.x = blocks;
  attr[0].val.clusterDim.y = 1;
  attr[0].val.clusterDim.z = 1;
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = dim3(static_cast<unsigned>(grid));
  cfg.blockDim = dim3(static_cast<unsigned>(threads));
  cfg.dynamicSmemBytes = 0;
  cfg.stream = c.stream;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  SIRS_CUDA_CHECK(cudaLaunchKernelEx(&cfg, kernel, c.x, c.weight, c.bias, c.out, c.mean, c.invstd,
                                     c.m, c.G, c.K, c.S, c.eps, chunk));
  return true;
}

// Version 6 of the group norm forward when the device and this build
// support clusters and the segments suit it; false: the caller falls back.
template <class T>
bool group_norm_cluster_launch(const GroupNormCall<T>& c) {
  constexpr int V = kVec<T>;
  const int64_t nvec = c.m / V;
  if (!c.vec || c.nseg == 0 || nvec < kClusterMinVecs ||
      nvec > int64_t{kClusterMaxBlocks} * kClusterThreads * kClusterMaxVecs)
    return false;
  // About 2 vectors per thread: blocks of 8 KB of float.
  int64_t blocks = 2;
  while (blocks < kClusterMaxBlocks && blocks * kClusterThreads * 2 < nvec) blocks *= 2;
  const int64_t chunk = (nvec + blocks - 1) / blocks;
  int vecs = 1;
  while (int64_t{kClusterThreads} * vecs < chunk) vecs *= 2;
  if (vecs > kClusterMaxVecs || c.nseg * blocks > INT_MAX) return false;
  auto launch = [&](auto kvecs) {
    return launch_cluster(group_norm_forward_cluster_kernel_v1<T, V, decltype(kvecs)::value>,
                          static_cast<unsigned>(blocks), c.nseg * blocks, kClusterThreads, c,
                          chunk);
  };
  switch (vecs) {
    case 1:
      return launch(std::integral_constant<int, 1>{});
    case 2:
      return launch(std::integral_constant<int, 2>{});
    default:
      return launch(std::integral_constant<int, kClusterMaxVecs>{});
  }
}

// Versions 12 and 13 of the group norm forward
// (group_norm_forward_cluster_kernel_v2) when the device and this build
// support clusters and the segments suit it; false: the caller falls back.
// Clusters of the fewest blocks (a power of two, at most 8) whose parts are
// at most part_vecs vectors, and blocks of the fewest threads (a multiple
// of 32) that hold a part in kCluster2Vecs slots each. Version 12 aims at
// parts of 512 vectors (four 64-thread blocks for a 32 KB segment), 13 at
// 2048 (one block of 256 threads holds a segment of up to 32 KB of float,
// as version 2, whose 111 registers a thread fit two such blocks per SM
// where the 64 of this kernel fit four).
template <class T>
bool group_norm_cluster2_launch(const GroupNormCall<T>& c, int64_t part_vecs) {
  constexpr int V = kVec<T>;
  const int64_t nvec = c.m / V;
  if (!c.vec || c.nseg == 0 || nvec < kClusterMinVecs ||
      nvec > int64_t{kClusterMaxBlocks} * kClusterThreads * kCluster2Vecs)
    return false;
  int64_t blocks = 1;
  while (blocks < kClusterMaxBlocks && (nvec + blocks - 1) / blocks > part_vecs) blocks *= 2;
  const int64_t chunk = (nvec + blocks - 1) / blocks;
  const int64_t threads = ((chunk + kCluster2Vecs - 1) / kCluster2Vecs + 31) / 32 * 32;
  if (c.nseg * blocks > INT_MAX) return false;
  return launch_cluster(group_norm_forward_cluster_kernel_v2<T, V>, static_cast<unsigned>(blocks),
                        c.nseg * blocks, static_cast<int>(threads), c, chunk);
}

}  // namespace

// ------------------------------------------------------------ launchers

template <class T>
void batch_norm_stats_cuda(const T* x, T* mean, T* var, int64_t B, int64_t C, int64_t S, int device,
                           cudaStream_t stream) {
  segment_stats<T>(x, SegLayout{C, S, B, C * S, S}, mean, var, false, 0.0, device, stream,
                   "batch_norm_stats_cuda");
}

template <class T>
void batch_norm_update_cuda(const T* mean, const T* var, T* invstd, T* running_mean,
                            int64_t running_mean_stride, T* running_var, int64_t running_var_stride,
                            int64_t C, int64_t n, double momentum, double eps,
                            cudaStream_t stream) {
  if (C == 0) return;
  const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
  batch_norm_update_kernel_v1<T><<<cuda_blocks(C, 128), 128, 0, stream>>>(
      mean, var, invstd, running_mean, running_mean_stride, running_var, running_var_stride, C,
      unbias, momentum, eps);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void batch_norm_eval_stats_cuda(const T* running_mean, int64_t running_mean_stride,
                                const T* running_var, int64_t running_var_stride, T* mean,
                                T* invstd, int64_t C, double eps, cudaStream_t stream) {
  if (C == 0) return;
  batch_norm_eval_stats_kernel_v1<T><<<cuda_blocks(C, 128), 128, 0, stream>>>(
      running_mean, running_mean_stride, running_var, running_var_stride, mean, invstd, C, eps);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void batch_norm_forward_cuda(const T* x, const T* mean, const T* invstd, const T* weight,
                             const T* bias, T* out, int64_t B, int64_t C, int64_t S,
                             cudaStream_t stream) {
  norm_forward_launch<T>(x, mean, invstd, weight, bias, out, B * C * S, C, S, 1, true, stream);
}

template <class T>
void batch_norm_backward_cuda(const T* dout, const T* x, const T* mean, const T* invstd,
                              const T* weight, T* dx, T* dweight, T* dbias, int64_t B, int64_t C,
                              int64_t S, bool training, double beta, int device,
                              cudaStream_t stream) {
  const char* op = "batch_norm_backward_cuda";
  const bool need_sums = (dx && training) || dweight || dbias;
  CudaBuffer sums(need_sums ? static_cast<size_t>(C) * 2 * sizeof(double) : 0, device);
  // The per-channel sums are taken without the weight; dx scales them.
  if (need_sums)
    segment_backward_sums<T>(dout, x, mean, invstd, nullptr, SegLayout{C, S, B, C * S, S},
                             StatMap{0, 1, 1, 1, S}, sums.as<double>(), dweight, dbias, beta,
                             device, stream, op);
  if (dx) {
    const int64_t n = B * S;
    norm_dx_launch<T>(dout, x, mean, invstd, weight, training ? sums.as<double>() : nullptr, dx,
                      B * C * S, C, S, 1, true, n > 0 ? 1.0 / static_cast<double>(n) : 0.0, beta,
                      stream);
  }
}

template <class T>
void group_norm_forward_cuda(const T* x, const T* weight, const T* bias, T* out, T* mean, T* invstd,
                             int64_t B, int64_t C, int64_t S, int64_t G, double eps, int device,
                             cudaStream_t stream, int version) {
  SIRS_CHECK(version >= 1 && version <= kGroupNormForwardCudaVersions, ValueError,
             "group_norm_forward_cuda: no version ", version);
  const int64_t K = C / G, m = K * S;
  const int64_t nseg = B * G;
  if (version == 3 && nseg >= cuda_sm_count(device) && m <= kRereadMaxValues) {
    constexpr int V = kVec<T>;
    const bool vec = aligned16(x) && aligned16(out) && S % V == 0;
    const int64_t nvec = vec ? m / V : m;
    const int threads = static_cast<int>(std::min<int64_t>(kResidentThreads, (nvec + 31) / 32 * 32));
    if (vec)
      group_norm_forward_reread_kernel_v1<T, V><<<resident_grid(nseg), threads, 0, stream>>>(
          x, weight, bias, out, mean, invstd, nseg, m, G, K, S, eps);
    else
      group_norm_forward_reread_kernel_v1<T, 1><<<resident_grid(nseg), threads, 0, stream>>>(
          x, weight, bias, out, mean, invstd, nseg, m, G, K, S, eps);
    SIRS_CUDA_CHECK(cudaGetLastError());
    return;
  }
  const ResidentPlan plan = resident_plan<T>(m, S, aligned16(x) && aligned16(out));
  const GroupNormCall<T> call{x, weight, bias, out, mean,     invstd, nseg,  m,
                              G, K,      S,    eps, plan.vec, device, stream};
  if ((version == 5 && group_norm_stream_launch<T, 3>(call, 512)) ||
      (version == 6 && group_norm_cluster_launch<T>(call)) ||
      (version == 7 && group_norm_stream_launch<T, 2>(call, 256)) ||
      (version == 8 && group_norm_tma_launch<T>(call)) ||
      (version == 9 && group_norm_parts_launch<T>(call)) ||
      (version == 10 && group_norm_stream_launch<T, 2, true>(call, 256)) ||
      (version == 11 && group_norm_stream_launch<T, 2, true, true>(call, 256)) ||
      (version == 12 && group_norm_cluster2_launch<T>(call, 512)) ||
      (version == 13 && group_norm_cluster2_launch<T>(call, 2048)))
    return;
  if (version == 4 && plan.ok && nseg > 0) {
    resident_dispatch<T>(plan, [&](auto v, auto vecs) {
      auto kernel =
          group_norm_forward_pipelined_kernel_v1<T, decltype(v)::value, decltype(vecs)::value>;
      const int64_t resident =
          static_cast<int64_t>(cuda_sm_count(device)) * cuda_blocks_per_sm(kernel, plan.threads);
      kernel<<<static_cast<int>(std::min(nseg, resident)), plan.threads, 0, stream>>>(
          x, weight, bias, out, mean, invstd, nseg, m, G, K, S, eps);
    });
    SIRS_CUDA_CHECK(cudaGetLastError());
    return;
  }
  if ((version == 2 || version >= 5) && plan.ok && nseg > 0) {
    resident_dispatch<T>(plan, [&](auto v, auto vecs) {
      group_norm_forward_resident_kernel_v1<T, decltype(v)::value, decltype(vecs)::value>
          <<<resident_grid(B * G), plan.threads, 0, stream>>>(x, weight, bias, out, mean, invstd,
                                                               B * G, m, G, K, S, eps);
    });
    SIRS_CUDA_CHECK(cudaGetLastError());
    return;
  }
  segment_stats<T>(x, SegLayout{B * G, m, 1, m, m}, mean, invstd, true, eps, device, stream,
                   "group_norm_forward_cuda");
  norm_forward_launch<T>(x, mean, invstd, weight, bias, out, B * C * S, C, S, K, false, stream);
}

template <class T>
void group_norm_backward_cuda(const T* dout, const T* x, const T* mean, const T* invstd,
                              const T* weight, T* dx, T* dweight, T* dbias, int64_t B, int64_t C,
                              int64_t S, int64_t G, double beta, int device, cudaStream_t stream) {
  const char* op = "group_norm_backward_cuda";
  const int64_t K = C / G, m = K * S;
  const ResidentPlan plan = resident_plan<T>(m, S, aligned16(dout) && aligned16(x) && aligned16(dx));
  if (dx && B * C * S > 0 && plan.ok) {
    resident_dispatch<T>(plan, [&](auto v, auto vecs) {
      group_norm_backward_dx_resident_kernel_v1<T, decltype(v)::value, decltype(vecs)::value>
          <<<resident_grid(B * G), plan.threads, 0, stream>>>(dout, x, mean, invstd, weight, dx,
                                                               B * G, m, G, K, S, beta);
    });
    SIRS_CUDA_CHECK(cudaGetLastError());
  } else if (dx && B * C * S > 0) {
    CudaBuffer sums(static_cast<size_t>(B * G) * 2 * sizeof(double), device);
    segment_backward_sums<T>(dout, x, mean, invstd, weight, SegLayout{B * G, m, 1, m, m},
                             StatMap{0, 1, G, K, S}, sums.as<double>(), nullptr, nullptr, 0.0,
                             device, stream, op);
    norm_dx_launch<T>(dout, x, mean, invstd, weight, sums.as<double>(), dx, B * C * S, C, S, K,
                      false, 1.0 / static_cast<double>(m), beta, stream);
  }
  // dweight[c], dbias[c]: channel c of every sample, each row b with the
  // statistics of its group (b, c / K).
  if (dweight || dbias)
    segment_backward_sums<T>(dout, x, mean, invstd, nullptr, SegLayout{C, S, B, C * S, S},
                             StatMap{G, K, G, K, S}, nullptr, dweight, dbias, beta, device, stream,
                             op);
}

#define SIRS_INSTANTIATE(T)                                                                       \
  template void batch_norm_stats_cuda<T>(const T*, T*, T*, int64_t, int64_t, int64_t, int,        \
                                         cudaStream_t);                                           \
  template void batch_norm_update_cuda<T>(const T*, const T*, T*, T*, int64_t, T*, int64_t,       \
                                          int64_t, int64_t, double, double, cudaStream_t);        \
  template void batch_norm_eval_stats_cuda<T>(const T*, int64_t, const T*, int64_t, T*, T*,       \
                                              int64_t, double, cudaStream_t);                     \
  template void batch_norm_forward_cuda<T>(const T*, const T*, const T*, const T*, const T*, T*,  \
                                           int64_t, int64_t, int64_t, cudaStream_t);              \
  template void batch_norm_backward_cuda<T>(const T*, const T*, const T*, const T*, const T*, T*, \
                                            T*, T*, int64_t, int64_t, int64_t, bool, double, int, \
                                            cudaStream_t);                                        \
  template void group_norm_forward_cuda<T>(const T*, const T*, const T*, T*, T*, T*, int64_t,     \
                                           int64_t, int64_t, int64_t, double, int, cudaStream_t,  \
                                           int);                                                  \
  template void group_norm_backward_cuda<T>(const T*, const T*, const T*, const T*, const T*, T*, \
                                            T*, T*, int64_t, int64_t, int64_t, int64_t, double,   \
                                            int, cudaStream_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
