// The index family on CUDA: cat and its backward, the index range check,
// index_select and gather forward and backward (contract: kernels/index.h;
// launchers: kernels/cuda/index_cuda.h).
//
//   cat:          out[o, col_k + c] = x_k[o, c]            x_k [outer, w_k], out [outer, W]
//   cat backward: dx_k[o, c] = dout[o, col_k + c]
//   index_select: out[o, l, i] = x[o, idx[l], i]           dx[o, idx[l], i] += dout[o, l, i]
//   gather:       out[o, l, i] = x[o, idx[o, l, i], i]     dx[o, idx[o, l, i], i] += dout[o, l, i]
//
// Versions (v1 live for all):
// - cat_{forward,backward}_kernel_v1: one launch copies up to kCatMaxInputs
//   tensors. Their pointers, widths, column offsets and first block go to
//   the kernel by value in a CatTableV1 (about 3 KB, under the 4 KB kernel
//   parameter limit every architecture has). Each input gets blocks in
//   proportion to its size (kCatBlockElems elements per block); a block finds
//   its input by binary search in the table. Reads and writes are coalesced
//   rows. Elements move as raw bits of their width, so every dtype works.
// - index_check_kernel_v1: any out-of-range index sets the check's flag (a
//   store of 1 to mapped host memory, kernels/cuda/deferred_check.h); the
//   host reads it later, without a sync, finds the first bad index itself
//   and raises the same IndexError as the CPU (autograd/index_ops.cpp).
//   Until then the kernels below run with the bad index, so each of them
//   skips an index outside [0, N): zeros in the forward, nothing added in
//   the backward.
// - *_forward_kernel_v1: one output element per thread per step of a grid
//   stride loop; consecutive threads take consecutive i (coalesced).
// - *_backward_kernel_v1: deterministic, no atomics. dx is first zeroed
//   (beta = 0, cudaMemsetAsync) or scaled by beta; then one thread owns each
//   column (o, i) of dx and adds dout[o, l, i] for l = 0, 1, ... L-1 in
//   order, exactly as the CPU reference does, so duplicate indices give the
//   same bits as the CPU and the same bits on every run. Threads of a warp
//   take consecutive i (coalesced dout and idx reads). Parallelism is
//   outer * inner columns, each a serial loop of length L: fine for the
//   model's uses (GRU row picking, inner = H; the loss's diagonal gather,
//   L = 1) but slow when outer * inner is tiny and L huge (a 1-D
//   index_select with a million indices). A v2 for that case would sort
//   (target, l) pairs stably and sum each segment per dx element.
//
// Tests: make test GTEST_FILTER='CudaIndex*:IndexOps*'
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/deferred_check.h"
#include "kernels/cuda/index_cuda.h"
#include "kernels/cuda/launch.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;

// ------------------------------------------------------------ cat

constexpr int kCatMaxInputs = 96;
constexpr int64_t kCatBlockElems = 4096;  // elements a block copies: 16 per thread

// P: const void* (forward sources) or void* (backward destinations).
template <class P>
struct CatTableV1 {
  P ptr[kCatMaxInputs];
  int64_t width[kCatMaxInputs];            // w_k > 0
  int64_t col[kCatMaxInputs];              // col_k in the wide tensor
  int64_t first_block[kCatMaxInputs + 1];  // blocks of input k: [first_block[k], first_block[k+1])
  int count;
};
// Kernel parameters are limited to 4 KB on every architecture; the table
// plus the other arguments must fit.
static_assert(sizeof(CatTableV1<void*>) + 64 <= 4096, "cat table too large for kernel parameters");

// The input block b belongs to: the largest k with first_block[k] <= b
// (first_block[0] = 0 and every input has at least one block).
template <class P>
__device__ __forceinline__ int cat_input_of(const CatTableV1<P>& t, int64_t b) {
  int lo = 0, hi = t.count - 1;
  while (lo < hi) {
    int mid = (lo + hi + 1) / 2;
    if (t.first_block[mid] <= b)
      lo = mid;
    else
      hi = mid - 1;
  }
  return lo;
}

template <class E>
static __global__ void cat_forward_kernel_v1(E* out, CatTableV1<const void*> t, int64_t outer,
                                             int64_t W) {
  const int64_t b = blockIdx.x;
  const int k = cat_input_of(t, b);
  const E* src = static_cast<const E*>(t.ptr[k]);
  const int64_t w = t.width[k], col = t.col[k];
  const int64_t begin = (b - t.first_block[k]) * kCatBlockElems;
  const int64_t end = min(outer * w, begin + kCatBlockElems);
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
    int64_t o = j / w;
    out[o * W + col + (j - o * w)] = src[j];
  }
}

template <class E>
static __global__ void cat_backward_kernel_v1(const E* dout, CatTableV1<void*> t, int64_t outer,
                                              int64_t W) {
  const int64_t b = blockIdx.x;
  const int k = cat_input_of(t, b);
  E* dst = static_cast<E*>(t.ptr[k]);
  const int64_t w = t.width[k], col = t.col[k];
  const int64_t begin = (b - t.first_block[k]) * kCatBlockElems;
  const int64_t end = min(outer * w, begin + kCatBlockElems);
  for (int64_t j = begin + threadIdx.x; j < end; j += blockDim.x) {
    int64_t o = j / w;
    dst[j] = dout[o * W + col + (j - o * w)];
  }
}

// Fills tables of at most kCatMaxInputs non-empty inputs and calls
// launch(table, blocks) for each.
template <class P, class F>
void for_each_cat_table(P const* ptrs, const int64_t* widths, int count, int64_t outer,
                        F&& launch) {
  CatTableV1<P> t{};
  int64_t blocks = 0, col = 0;
  auto flush = [&] {
    if (t.count > 0) {
      t.first_block[t.count] = blocks;
      SIRS_CHECK(blocks <= INT_MAX, ValueError, "cat (CUDA): ", blocks,
                 " blocks in one launch is more than the grid allows");
      launch(t, static_cast<int>(blocks));
    }
    t = CatTableV1<P>{};
    blocks = 0;
  };
  for (int k = 0; k < count; ++k) {
    const int64_t w = widths[k];
    if (w > 0 && outer > 0) {
      t.ptr[t.count] = ptrs[k];
      t.width[t.count] = w;
      t.col[t.count] = col;
      t.first_block[t.count] = blocks;
      blocks += (outer * w + kCatBlockElems - 1) / kCatBlockElems;
      if (++t.count == kCatMaxInputs) flush();
    }
    col += w;
  }
  flush();
}

// Calls fn(E{}) with the unsigned type of elem_bytes.
template <class F>
void dispatch_bits(int elem_bytes, const char* op, F&& fn) {
  switch (elem_bytes) {
    case 1: fn(uint8_t{}); return;
    case 2: fn(uint16_t{}); return;
    case 4: fn(uint32_t{}); return;
    case 8: fn(uint64_t{}); return;
    default: throw ValueError(str_cat(op, ": bad element size ", elem_bytes));
  }
}

int64_t total_width(const int64_t* widths, int count) {
  int64_t W = 0;
  for (int k = 0; k < count; ++k) W += widths[k];
  return W;
}

// ------------------------------------------------------------ range check

static __global__ void index_check_kernel_v1(const int64_t* idx, int64_t n, int64_t size,
                                             int32_t* flag) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < n;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t v = idx[j];
    if (v < 0 || v >= size) device_check_fail(flag);
  }
}

// x[(o * N + v) * inner + i], or 0 when v is outside [0, N) (a bad index
// whose error is reported later).
template <class T>
__device__ __forceinline__ T load_row_or_zero(const T* x, int64_t o, int64_t N, int64_t v,
                                              int64_t inner, int64_t i) {
  return v >= 0 && v < N ? x[(o * N + v) * inner + i] : T(0);
}

// ------------------------------------------------------------ index_select, gather

template <class T>
static __global__ void index_select_forward_kernel_v1(const T* x, const int64_t* idx,
                                                      int64_t N, int64_t inner, int64_t L,
                                                      int64_t n, T* out) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t r = e / inner, i = e - r * inner;  // r = o * L + l
    int64_t o = r / L, l = r - o * L;
    out[e] = load_row_or_zero(x, o, N, idx[l], inner, i);
  }
}

template <class T>
static __global__ void gather_forward_kernel_v1(const T* x, const int64_t* idx, int64_t N,
                                                int64_t inner, int64_t L, int64_t n, T* out) {
  for (int64_t e = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; e < n;
       e += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = e / (L * inner), i = e % inner;
    out[e] = load_row_or_zero(x, o, N, idx[e], inner, i);
  }
}

template <class T>
static __global__ void scale_kernel_v1(T* x, int64_t n, T beta) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < n;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x)
    x[j] *= beta;
}

// One thread per column (o, i) of dx; rows l added in increasing order.
template <class T>
static __global__ void index_select_backward_kernel_v1(const T* dout, const int64_t* idx,
                                                       int64_t outer, int64_t N, int64_t inner,
                                                       int64_t L, T* dx) {
  const int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < cols;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = c / inner, i = c - o * inner;
    const T* g = dout + o * L * inner + i;
    T* d = dx + o * N * inner + i;
    for (int64_t l = 0; l < L; ++l) {
      int64_t v = idx[l];
      if (v >= 0 && v < N) d[v * inner] += g[l * inner];  // a bad index adds nothing
    }
  }
}

template <class T>
static __global__ void gather_backward_kernel_v1(const T* dout, const int64_t* idx, int64_t outer,
                                                 int64_t N, int64_t inner, int64_t L, T* dx) {
  const int64_t cols = outer * inner;
  for (int64_t c = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; c < cols;
       c += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t o = c / inner, i = c - o * inner;
    const T* g = dout + o * L * inner + i;
    const int64_t* ip = idx + o * L * inner + i;
    T* d = dx + o * N * inner + i;
    for (int64_t l = 0; l < L; ++l) {
      int64_t v = ip[l * inner];
      if (v >= 0 && v < N) d[v * inner] += g[l * inner];  // a bad index adds nothing
    }
  }
}

// dx <- beta * dx before the backward adds into it: beta = 0 writes zeros
// without reading (stale NaN must not survive), beta = 1 leaves dx alone.
template <class T>
void prepare_dx(T* dx, int64_t n, T beta, cudaStream_t stream) {
  if (n == 0 || beta == T(1)) return;
  if (beta == T(0)) {
    // All-zero bytes are +0.0 in IEEE float and double.
    SIRS_CUDA_CHECK(cudaMemsetAsync(dx, 0, static_cast<size_t>(n) * sizeof(T), stream));
    return;
  }
  scale_kernel_v1<T><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(dx, n, beta);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace

// ------------------------------------------------------------ launchers

void cat_forward_cuda(void* out, int elem_bytes, const void* const* xs, const int64_t* widths,
                      int count, int64_t outer, cudaStream_t stream) {
  const int64_t W = total_width(widths, count);
  dispatch_bits(elem_bytes, "cat_forward_cuda", [&](auto tag) {
    using E = decltype(tag);
    for_each_cat_table(xs, widths, count, outer, [&](const CatTableV1<const void*>& t, int blocks) {
      cat_forward_kernel_v1<E><<<blocks, kThreads, 0, stream>>>(static_cast<E*>(out), t, outer, W);
      SIRS_CUDA_CHECK(cudaGetLastError());
    });
  });
}

void cat_backward_cuda(const void* dout, int elem_bytes, void* const* dxs, const int64_t* widths,
                       int count, int64_t outer, cudaStream_t stream) {
  const int64_t W = total_width(widths, count);
  dispatch_bits(elem_bytes, "cat_backward_cuda", [&](auto tag) {
    using E = decltype(tag);
    for_each_cat_table(dxs, widths, count, outer, [&](const CatTableV1<void*>& t, int blocks) {
      cat_backward_kernel_v1<E><<<blocks, kThreads, 0, stream>>>(static_cast<const E*>(dout), t,
                                                                  outer, W);
      SIRS_CUDA_CHECK(cudaGetLastError());
    });
  });
}

void index_check_cuda(const int64_t* idx, int64_t n, int64_t size, int32_t* flag,
                      cudaStream_t stream) {
  if (n <= 0) return;
  index_check_kernel_v1<<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(idx, n, size, flag);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void index_select_forward_cuda(const T* x, const int64_t* idx, int64_t outer, int64_t N,
                               int64_t inner, int64_t L, T* out, cudaStream_t stream) {
  const int64_t n = outer * L * inner;
  if (n == 0) return;
  index_select_forward_kernel_v1<T><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
      x, idx, N, inner, L, n, out);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void index_select_backward_cuda(const T* dout, const int64_t* idx, int64_t outer, int64_t N,
                                int64_t inner, int64_t L, T* dx, T beta, cudaStream_t stream) {
  prepare_dx(dx, outer * N * inner, beta, stream);
  const int64_t cols = outer * inner;
  if (cols == 0 || L == 0) return;
  index_select_backward_kernel_v1<T><<<cuda_blocks(cols, kThreads), kThreads, 0, stream>>>(
      dout, idx, outer, N, inner, L, dx);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void gather_forward_cuda(const T* x, const int64_t* idx, int64_t outer, int64_t N, int64_t inner,
                         int64_t L, T* out, cudaStream_t stream) {
  const int64_t n = outer * L * inner;
  if (n == 0) return;
  gather_forward_kernel_v1<T><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(x, idx, N, inner,
                                                                                 L, n, out);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void gather_backward_cuda(const T* dout, const int64_t* idx, int64_t outer, int64_t N,
                          int64_t inner, int64_t L, T* dx, T beta, cudaStream_t stream) {
  prepare_dx(dx, outer * N * inner, beta, stream);
  const int64_t cols = outer * inner;
  if (cols == 0 || L == 0) return;
  gather_backward_kernel_v1<T><<<cuda_blocks(cols, kThreads), kThreads, 0, stream>>>(
      dout, idx, outer, N, inner, L, dx);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

#define SIRS_INSTANTIATE_FWD(T)                                                                 \
  template void index_select_forward_cuda<T>(const T*, const int64_t*, int64_t, int64_t,        \
                                             int64_t, int64_t, T*, cudaStream_t);               \
  template void gather_forward_cuda<T>(const T*, const int64_t*, int64_t, int64_t, int64_t,     \
                                       int64_t, T*, cudaStream_t);
#define SIRS_INSTANTIATE_BWD(T)                                                                 \
  template void index_select_backward_cuda<T>(const T*, const int64_t*, int64_t, int64_t,       \
                                              int64_t, int64_t, T*, T, cudaStream_t);           \
  template void gather_backward_cuda<T>(const T*, const int64_t*, int64_t, int64_t, int64_t,    \
                                        int64_t, T*, T, cudaStream_t);
SIRS_INSTANTIATE_FWD(float)
SIRS_INSTANTIATE_FWD(double)
SIRS_INSTANTIATE_FWD(int64_t)
SIRS_INSTANTIATE_BWD(float)
SIRS_INSTANTIATE_BWD(double)
#undef SIRS_INSTANTIATE_FWD
#undef SIRS_INSTANTIATE_BWD

}  // namespace sirs
