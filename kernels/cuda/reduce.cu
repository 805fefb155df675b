// Reductions on CUDA (contract: kernels/reduce.h; launchers:
// kernels/cuda/reduce_cuda.h).
//
//   sum:  out[o, j] = sum_r in[o, r, j]   (mean scales by 1/reduce, norm
//         sums squares then takes sqrt), accumulated in double like the CPU
//         (float32 sums of 1e7 elements stay at float rounding, ~1e-7)
//   max:  out[o, j] = max_r in[o, r, j] and the first r attaining it; NaN
//         beats every number and the first NaN is selected
//
// Layout: input [outer, reduce, inner] contiguous, output [outer, inner].
// One reduction skeleton serves every op: an Op supplies the accumulator
// (double for sums, value + index for max / min), visit, combine and store.
// The max combine is a selection under a total order (NaN first, then the
// better value, then the smaller index), so the order in which threads
// combine never changes the result; sums change only in double rounding.
// Nothing uses atomics: results are deterministic run to run.
//
// Kernels (all live):
//   - reduce_rows_warp_kernel_v1: inner == 1 and reduce <= kWarpRowMax. One
//     warp per row, lanes stride over the contiguous row, warp shuffles.
//   - reduce_rows_block_kernel_v1: inner == 1, longer rows. One block per
//     (row, piece of the row), block reduction through shared memory.
//   - reduce_cols_kernel_v2: inner > 1. Block (bx, by): bx adjacent threads
//     of W columns each (coalesced 16-byte reads of one input row when the
//     layout allows, W = 1 otherwise), by threads stepping over r, combined
//     through a shared-memory tree over threadIdx.y.
//   - reduce_finish_kernel_v1: when outer * (column tiles) cannot fill the
//     GPU, the reduced dim is split into pieces across blocks (each thread
//     still gets >= kMinPerThread elements); the pieces' accumulators go to
//     scratch [nsplit, outer * inner] and this second pass combines them,
//     one warp per output. A 1e7-element full reduction thus runs on every
//     SM.
//   - max_backward_kernel_v1: dinp zeroed by cudaMemsetAsync, then one
//     thread per output writes dout at its index.
// Loads: each thread keeps four independent loads in flight (sweep()); the
// double adds are far below the FP64 rate, so the kernels are bound by
// memory bandwidth.
//
// Tests: make test GTEST_FILTER='CudaReduce*'
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/reduce_cuda.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;  // threads per block of every reduction kernel
constexpr int kWarpsPerBlock = kThreads / 32;
constexpr int64_t kWarpRowMax = 1024;  // contiguous rows up to this length get one warp
constexpr int64_t kMinPerThread = 16;  // a split piece gives each thread at least this many
constexpr int64_t kMaxGrid = int64_t{1} << 20;  // blocks per launch; kernels loop beyond it

__device__ __forceinline__ int64_t min64(int64_t a, int64_t b) { return a < b ? a : b; }

template <class T>
__device__ __forceinline__ bool is_nan(T v) {
  return v != v;
}

__device__ __forceinline__ double shfl_xor(double v, int o) {
  return __shfl_xor_sync(0xffffffffu, v, o);
}

// ------------------------------------------------------------------ ops

template <class T>
struct SumOp {
  using Acc = double;
  SumKind kind;
  int64_t reduce;
  T* out;  // [outer, inner]

  __device__ Acc identity() const { return 0.0; }
  __device__ Acc visit(Acc a, T x, int64_t) const {
    double v = static_cast<double>(x);
    return kind == SumKind::Norm ? a + v * v : a + v;
  }
  __device__ Acc combine(Acc a, Acc b) const { return a + b; }
  __device__ void store(int64_t k, Acc a) const {
    switch (kind) {
      case SumKind::Sum:
        out[k] = static_cast<T>(a);
        break;
      case SumKind::Mean:
        out[k] = static_cast<T>(a / static_cast<double>(reduce));
        break;
      case SumKind::Norm:
        out[k] = static_cast<T>(sqrt(a));
        break;
    }
  }
};

template <class T>
struct ValueIndex {
  T v;
  int64_t i;
};

template <class T>
__device__ __forceinline__ ValueIndex<T> shfl_xor(ValueIndex<T> a, int o) {
  ValueIndex<T> r;
  r.v = __shfl_xor_sync(0xffffffffu, a.v, o);
  r.i = static_cast<int64_t>(__shfl_xor_sync(0xffffffffu, static_cast<long long>(a.i), o));
  return r;
}

template <class T>
struct MaxOp {
  using Acc = ValueIndex<T>;
  bool is_min;
  T* values;         // [outer, inner] or null
  int64_t* indices;  // [outer, inner]

  // -inf (+inf for min) at an index past every real one: any element ties
  // or beats it and wins the tie by index, so it is never stored (reduce >= 1).
  __device__ Acc identity() const {
    return Acc{is_min ? static_cast<T>(INFINITY) : static_cast<T>(-INFINITY), INT64_MAX};
  }
  // The smaller of a and b in the order: NaN first (smaller index among
  // NaNs), then the larger value (smaller for min), then the smaller index.
  __device__ Acc combine(Acc a, Acc b) const {
    bool an = is_nan(a.v), bn = is_nan(b.v);
    if (an || bn) {
      if (an && bn) return a.i <= b.i ? a : b;
      return an ? a : b;
    }
    if (a.v == b.v) return a.i <= b.i ? a : b;
    bool b_wins = is_min ? b.v < a.v : b.v > a.v;
    return b_wins ? b : a;
  }
  __device__ Acc visit(Acc a, T x, int64_t r) const { return combine(a, Acc{x, r}); }
  __device__ void store(int64_t k, Acc a) const {
    if (values) values[k] = a.v;
    indices[k] = a.i;
  }
};

// ------------------------------------------------------------------ building blocks

// Folds p[r * ld] for r = begin, begin + step, ... < end into a fresh
// accumulator, in increasing r, four loads in flight per thread.
template <class Op, class T>
__device__ __forceinline__ typename Op::Acc sweep(const Op& op, const T* __restrict__ p,
                                                  int64_t begin, int64_t end, int64_t step,
                                                  int64_t ld) {
  typename Op::Acc acc = op.identity();
  int64_t r = begin;
  for (; r + 3 * step < end; r += 4 * step) {
    T x0 = p[r * ld], x1 = p[(r + step) * ld], x2 = p[(r + 2 * step) * ld],
      x3 = p[(r + 3 * step) * ld];
    acc = op.visit(acc, x0, r);
    acc = op.visit(acc, x1, r + step);
    acc = op.visit(acc, x2, r + 2 * step);
    acc = op.visit(acc, x3, r + 3 * step);
  }
  for (; r < end; r += step) acc = op.visit(acc, p[r * ld], r);
  return acc;
}

// Combine over the 32 lanes of a warp (all lanes must call it); every lane
// gets the same result because combine is commutative.
template <class Op, class Acc>
__device__ __forceinline__ Acc warp_reduce(const Op& op, Acc a) {
  for (int o = 16; o > 0; o >>= 1) a = op.combine(a, shfl_xor(a, o));
  return a;
}

// Combine over a 1-d block (blockDim.x a multiple of 32); thread 0 holds the
// result. Starts with __syncthreads so a block looping over several rows
// can call it again without racing the previous call's readers of sh.
template <class Op, class Acc>
__device__ Acc block_reduce(const Op& op, Acc a, Acc* sh /* [32] */) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = blockDim.x >> 5;
  a = warp_reduce(op, a);
  __syncthreads();
  if (lane == 0) sh[warp] = a;
  __syncthreads();
  Acc r = lane < nwarps ? sh[lane] : op.identity();
  return warp_reduce(op, r);
}

// ------------------------------------------------------------------ kernels

// inner == 1, short rows: warp w of the grid reduces rows w, w + warps, ...
template <class Op, class T>
static __global__ void reduce_rows_warp_kernel_v1(Op op,
                                                  const T* __restrict__ in,  // [outer, reduce]
                                                  int64_t outer, int64_t reduce) {
  int lane = threadIdx.x & 31;
  // row is the same for the 32 lanes of a warp, so whole warps enter and
  // leave the loop together and the full-mask shuffles are safe.
  for (int64_t row = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5);
       row < outer; row += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    typename Op::Acc acc = sweep(op, in + row * reduce, lane, reduce, 32, 1);
    acc = warp_reduce(op, acc);
    if (lane == 0) op.store(row, acc);
  }
}

// inner == 1, long rows: block b handles row b / nsplit, piece b % nsplit
// ([s * piece, (s + 1) * piece) of the row). With one piece it stores the
// result; otherwise it writes its accumulator to partial[s, row].
template <class Op, class T>
static __global__ void reduce_rows_block_kernel_v1(Op op,
                                                   typename Op::Acc* partial,  // [nsplit, outer]
                                                   const T* __restrict__ in,   // [outer, reduce]
                                                   int64_t outer, int64_t reduce, int64_t piece,
                                                   int64_t nsplit) {
  __shared__ typename Op::Acc sh[32];
  // b is uniform over the block, so every thread reaches block_reduce's
  // barriers the same number of times.
  for (int64_t b = blockIdx.x; b < outer * nsplit; b += gridDim.x) {
    int64_t o = b / nsplit, s = b % nsplit;
    int64_t r0 = s * piece, r1 = min64(reduce, r0 + piece);
    typename Op::Acc acc = sweep(op, in + o * reduce, r0 + threadIdx.x, r1, blockDim.x, 1);
    acc = block_reduce(op, acc, sh);
    if (threadIdx.x == 0) {
      if (nsplit == 1)
        op.store(o, acc);
      else
        partial[s * outer + o] = acc;
    }
  }
}

// inner > 1: block (bx, by), powers of two with bx * by = kThreads.
// Block b handles piece s = b % nsplit of the reduced dim for column tile
// `tile` of outer slice o, (o, tile) = divmod(b / nsplit, tiles). Thread
// (tx, ty) owns the W adjacent columns j = (tile * bx + tx) * W + w and
// folds rows r0 + ty, r0 + ty + by, ... of them, one W-wide load per row
// (W > 1 needs inner % W == 0 and a 16-byte aligned input, so each load is
// aligned and inside the row); the by partial results of a column meet in
// a shared-memory tree. v1 was W = 1 only: 68 % of the copy bandwidth on
// an H200 for a sum over dim 0 of 8192 x 8192 (a warp moved 128 bytes per
// row load); W = 16 bytes' worth moves 512.
template <class T, int W>
struct alignas(sizeof(T) * W) ColVec {
  T v[W];
};

template <class Op, class T, int W>
static __global__ void reduce_cols_kernel_v2(Op op,
                                             typename Op::Acc* partial,  // [nsplit, outer, inner]
                                             const T* __restrict__ in,   // [outer, reduce, inner]
                                             int64_t outer, int64_t reduce, int64_t inner,
                                             int64_t piece, int64_t nsplit, int64_t tiles) {
  using Acc = typename Op::Acc;
  __shared__ Acc sh[kThreads * W];  // [by, bx, W]
  const int tx = threadIdx.x, ty = threadIdx.y, bx = blockDim.x, by = blockDim.y;
  for (int64_t b = blockIdx.x; b < outer * tiles * nsplit; b += gridDim.x) {
    int64_t s = b % nsplit, t = b / nsplit;
    int64_t o = t / tiles, j = ((t % tiles) * bx + tx) * W;
    int64_t r0 = s * piece, r1 = min64(reduce, r0 + piece);
    Acc acc[W];
#pragma unroll
    for (int w = 0; w < W; ++w) acc[w] = op.identity();
    if (j < inner) {
      const T* p = in + o * reduce * inner + j;
      int64_t r = r0 + ty;
      for (; r + 3 * by < r1; r += 4 * by) {  // four loads in flight
        ColVec<T, W> v[4];
#pragma unroll
        for (int u = 0; u < 4; ++u) v[u] = *reinterpret_cast<const ColVec<T, W>*>(p + (r + u * by) * inner);
#pragma unroll
        for (int u = 0; u < 4; ++u)
#pragma unroll
          for (int w = 0; w < W; ++w) acc[w] = op.visit(acc[w], v[u].v[w], r + u * by);
      }
      for (; r < r1; r += by) {
        const ColVec<T, W> v = *reinterpret_cast<const ColVec<T, W>*>(p + r * inner);
#pragma unroll
        for (int w = 0; w < W; ++w) acc[w] = op.visit(acc[w], v.v[w], r);
      }
    }
    __syncthreads();  // the previous iteration's reads of sh are done
#pragma unroll
    for (int w = 0; w < W; ++w) sh[(ty * bx + tx) * W + w] = acc[w];
    __syncthreads();
    for (int h = by / 2; h > 0; h >>= 1) {
      if (ty < h)
#pragma unroll
        for (int w = 0; w < W; ++w)
          sh[(ty * bx + tx) * W + w] =
              op.combine(sh[(ty * bx + tx) * W + w], sh[((ty + h) * bx + tx) * W + w]);
      __syncthreads();
    }
    if (ty == 0 && j < inner) {
#pragma unroll
      for (int w = 0; w < W; ++w) {
        if (nsplit == 1)
          op.store(o * inner + j + w, sh[tx * W + w]);
        else
          partial[(s * outer + o) * inner + j + w] = sh[tx * W + w];
      }
    }
  }
}

// Second pass of a split reduction: output k combines partial[s, k] over s,
// one warp per output.
template <class Op>
static __global__ void reduce_finish_kernel_v1(Op op,
                                               const typename Op::Acc* partial,  // [nsplit, n]
                                               int64_t n, int64_t nsplit) {
  int lane = threadIdx.x & 31;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * kWarpsPerBlock + (threadIdx.x >> 5); k < n;
       k += static_cast<int64_t>(gridDim.x) * kWarpsPerBlock) {
    typename Op::Acc acc = op.identity();
    for (int64_t s = lane; s < nsplit; s += 32) acc = op.combine(acc, partial[s * n + k]);
    acc = warp_reduce(op, acc);
    if (lane == 0) op.store(k, acc);
  }
}

template <class T>
static __global__ void max_backward_kernel_v1(T* __restrict__ dinp,        // [outer, reduce, inner]
                                              const T* __restrict__ dout,  // [outer, inner]
                                              const int64_t* __restrict__ idx,  // [outer, inner]
                                              int64_t outer, int64_t reduce, int64_t inner) {
  int64_t n = outer * inner;
  for (int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; k < n;
       k += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = k / inner, j = k % inner;
    dinp[(o * reduce + idx[k]) * inner + j] = dout[k];
  }
}

int grid_for(int64_t blocks) {
  if (blocks < 1) blocks = 1;
  return static_cast<int>(blocks < kMaxGrid ? blocks : kMaxGrid);
}

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

// Picks the kernel shape, the split of the reduced dim and runs it.
template <class Op, class T>
void reduce_launch(const Op& op, const T* in, int64_t outer, int64_t reduce, int64_t inner,
                   int device, cudaStream_t stream) {
  using Acc = typename Op::Acc;
  int64_t n_out = outer * inner;
  if (n_out == 0) return;
  if (inner == 1 && reduce <= kWarpRowMax) {
    reduce_rows_warp_kernel_v1<Op, T>
        <<<grid_for(ceil_div(outer, kWarpsPerBlock)), kThreads, 0, stream>>>(op, in, outer, reduce);
    SIRS_CUDA_CHECK(cudaGetLastError());
    return;
  }
  // Column kernel: W-wide loads when the rows allow (see the kernel), so a
  // thread owns W columns and `cols` counts threads' worth of columns.
  constexpr int W = 16 / static_cast<int>(sizeof(T));
  const bool vec = inner > 1 && inner % W == 0 && reinterpret_cast<uintptr_t>(in) % 16 == 0;
  const int64_t cols = vec ? inner / W : inner;
  // Block geometry: bx columns by by reduced rows (bx = 1: the row kernel).
  // Columns: bx the smallest power of two >= cols up to 32 (a warp reads
  // 32 contiguous loads of a row); when the reduced dim is short, threads
  // move from rows to more columns (up to 256) so few of them idle.
  int bx = 1;
  if (inner > 1) {
    bx = 2;
    while (bx < 32 && bx < cols) bx *= 2;
  }
  int by = kThreads / bx;
  if (inner > 1)
    while (by > 1 && by / 2 >= reduce && bx < cols) {
      by /= 2;
      bx *= 2;
    }
  int64_t tiles = ceil_div(cols, bx);
  int64_t base = outer * tiles;  // blocks without splitting
  // Split so that all blocks fit in one wave of resident blocks: every
  // block carries the same work, so a second, partial wave would cost a
  // whole block's time. The split used to assume 8 resident blocks per SM
  // and launched 1088 blocks for 8192 x 8192 over dim 0 on an H200 (66 %
  // of the copy bandwidth); sized from the runtime's occupancy answer, 82 %.
  int per_sm = 0;
  if (inner == 1)
    per_sm = cuda_blocks_per_sm(reduce_rows_block_kernel_v1<Op, T>, kThreads);
  else if (vec)
    per_sm = cuda_blocks_per_sm(reduce_cols_kernel_v2<Op, T, W>, kThreads);
  else
    per_sm = cuda_blocks_per_sm(reduce_cols_kernel_v2<Op, T, 1>, kThreads);
  int64_t target = static_cast<int64_t>(cuda_sm_count(device)) * per_sm;
  int64_t min_piece = static_cast<int64_t>(by) * kMinPerThread;
  int64_t nsplit = 1;
  if (base * 2 <= target && reduce > min_piece) {
    nsplit = target / base;
    int64_t most = ceil_div(reduce, min_piece);
    if (nsplit > most) nsplit = most;
  }
  int64_t piece = ceil_div(reduce, nsplit);
  if (piece < 1) piece = 1;                           // reduce == 0: one empty piece
  nsplit = reduce > 0 ? ceil_div(reduce, piece) : 1;  // no empty trailing pieces
  CudaBuffer scratch(nsplit > 1 ? static_cast<size_t>(nsplit * n_out) * sizeof(Acc) : 0, device);
  Acc* partial = scratch.as<Acc>();
  int grid = grid_for(base * nsplit);
  if (inner == 1) {
    reduce_rows_block_kernel_v1<Op, T>
        <<<grid, kThreads, 0, stream>>>(op, partial, in, outer, reduce, piece, nsplit);
  } else {
    if (vec)
      reduce_cols_kernel_v2<Op, T, W><<<grid, dim3(bx, by), 0, stream>>>(
          op, partial, in, outer, reduce, inner, piece, nsplit, tiles);
    else
      reduce_cols_kernel_v2<Op, T, 1><<<grid, dim3(bx, by), 0, stream>>>(
          op, partial, in, outer, reduce, inner, piece, nsplit, tiles);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
  if (nsplit > 1) {
    reduce_finish_kernel_v1<Op><<<grid_for(ceil_div(n_out, kWarpsPerBlock)), kThreads, 0, stream>>>(
        op, partial, n_out, nsplit);
    SIRS_CUDA_CHECK(cudaGetLastError());
  }
}

}  // namespace

template <class T>
void sum_forward_cuda(SumKind kind, T* out, const T* in, int64_t outer, int64_t reduce,
                      int64_t inner, int device, cudaStream_t stream) {
  SumOp<T> op{kind, reduce, out};
  reduce_launch(op, in, outer, reduce, inner, device, stream);
}

template <class T>
void max_forward_cuda(bool is_min, T* values, int64_t* indices, const T* in, int64_t outer,
                      int64_t reduce, int64_t inner, int device, cudaStream_t stream) {
  SIRS_CHECK(reduce >= 1 || outer * inner == 0, ValueError, "max_forward_cuda: empty reduced dim");
  MaxOp<T> op{is_min, values, indices};
  reduce_launch(op, in, outer, reduce, inner, device, stream);
}

template <class T>
void max_backward_cuda(T* dinp, const T* dout, const int64_t* indices, int64_t outer,
                       int64_t reduce, int64_t inner, cudaStream_t stream) {
  int64_t n_in = outer * reduce * inner;
  if (n_in == 0) return;
  SIRS_CUDA_CHECK(cudaMemsetAsync(dinp, 0, static_cast<size_t>(n_in) * sizeof(T), stream));
  max_backward_kernel_v1<T><<<cuda_blocks(outer * inner, kThreads), kThreads, 0, stream>>>(
      dinp, dout, indices, outer, reduce, inner);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void max_all_cuda(bool is_min, T* out, const T* in, int64_t n, int device, cudaStream_t stream) {
  SIRS_CHECK(n >= 1, ValueError, "max_all_cuda: no elements");
  CudaBuffer index(sizeof(int64_t), device);
  max_forward_cuda<T>(is_min, out, index.as<int64_t>(), in, 1, n, 1, device, stream);
}

#define SIRS_REDUCE_CUDA(T)                                                                       \
  template void sum_forward_cuda<T>(SumKind, T*, const T*, int64_t, int64_t, int64_t, int,        \
                                    cudaStream_t);                                                \
  template void max_forward_cuda<T>(bool, T*, int64_t*, const T*, int64_t, int64_t, int64_t, int, \
                                    cudaStream_t);                                                \
  template void max_backward_cuda<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t,     \
                                     cudaStream_t);                                               \
  template void max_all_cuda<T>(bool, T*, const T*, int64_t, int, cudaStream_t);
SIRS_REDUCE_CUDA(float)
SIRS_REDUCE_CUDA(double)
#undef SIRS_REDUCE_CUDA

}  // namespace sirs
