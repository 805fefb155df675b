// Embedding forward (row gather) and backward (row scatter-add) on CUDA
// (contract: kernels/embedding.h; launchers: kernels/cuda/embedding_cuda.h).
//
//   out[n, :]     = weight[idx[n], :]
//   dweight[v, :] = beta * dweight[v, :] + sum_{idx[n] == v} dout[n, :]   (v != padding_idx)
//
// Forward. Both versions check the index in the same pass: a bad one sets
// the check's flag (a store of 1 to mapped host memory,
// kernels/cuda/deferred_check.h) and its row of out gets zeros. The host
// reads the flag later, without a sync, and finds the first bad element
// itself.
//   embedding_forward_kernel_v1: one block per row n in a grid-stride loop
//     over rows, its threads striding over E with loads of one element. A
//     row of E = 300 floats keeps 300 of the block's 256 threads busy over
//     two steps, and each block waits for two dependent DRAM round trips
//     (its index, then its weight row): at 4096 rows, about four waves of
//     those latencies (11 us on an H200 where PyTorch takes 7).
//   embedding_forward_kernel_v2 (live): one warp per row, 8 rows per block,
//     a grid-stride loop over rows by warps, so a batch of token ids is one
//     wave. The row is copied as raw words of the widest size (16, 8 or 4
//     bytes) that divides the row's bytes and the alignment of both
//     pointers: E = 300 floats are 75 16-byte words, and each lane issues
//     its (up to 4) loads before its stores, so a warp has its whole row in
//     flight at once. 7.1 us on the H200 (PyTorch 7.2 us), docs/PERF.md.
//
// Backward, deterministic without float atomics (a float atomicAdd would
// make repeated indices sum in a run-dependent order):
//   1. embedding_keys_kernel_v1: keys = idx with every out-of-range index
//      replaced by V, values = n (iota); cub::DeviceRadixSort::SortPairs on
//      the low ceil(log2 (V + 1)) bits. Radix sort is stable, so equal
//      indices keep increasing n. A bad index can exist here: the forward's
//      check is reported later (deferred_check.h), and the backward may run
//      first. As key V it sorts after every real row, belongs to no
//      segment, and adds nothing; sorting the raw value on the low bits
//      instead would interleave it with a real row sharing those bits.
//   2. embedding_segments_kernel_v1: seg_start[v] = first position j of key
//      v in the sorted order (or -1: nobody uses row v).
//   3. embedding_backward_kernel_v1 (live): one block per row v, threads
//      over E; each dweight[v, e] is written once: beta * old (or 0) plus the
//      dout rows of its segment in sorted, i.e. increasing-n, order. That is
//      exactly the CPU's summation order: same bits for beta = 0 and 1.
// A very frequent index makes one long serial segment (its row's threads
// loop over all its occurrences); with vocabulary-sized V and batch-sized N
// that is a few hundred adds, cheaper than any tree for such sizes.
//
// Tests: make test GTEST_FILTER='CudaEmbedding*:NNEmbedding*'
#include <cuda_runtime.h>

#include <cstdint>
#include <cub/device/device_radix_sort.cuh>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/deferred_check.h"
#include "kernels/cuda/embedding_cuda.h"
#include "kernels/cuda/launch.h"

namespace sirs {

namespace {

// Threads for a block that strides over a row of E elements: a multiple of
// 32 from 32 to 256, no more than the row needs.
int row_threads(int64_t E) {
  int64_t t = (E + 31) / 32 * 32;
  if (t < 32) t = 32;
  if (t > 256) t = 256;
  return static_cast<int>(t);
}

// Blocks for one-block-per-row grid-stride loops over `rows` rows.
int row_blocks(int64_t rows) {
  int64_t b = rows < 1 ? 1 : rows;
  if (b > 65535 * 8) b = 65535 * 8;
  return static_cast<int>(b);
}

// a * b rounded once, never fused with a following add (nvcc contracts
// a * b + c into an FMA by default; the CPU scales first, then adds).
__device__ __forceinline__ float mul_rn(float a, float b) { return __fmul_rn(a, b); }
__device__ __forceinline__ double mul_rn(double a, double b) { return __dmul_rn(a, b); }

}  // namespace

template <class T>
static __global__ void embedding_forward_kernel_v1(const T* weight, const int64_t* idx, int64_t N,
                                                   int64_t E, int64_t V, T* out, int32_t* flag) {
  for (int64_t n = blockIdx.x; n < N; n += gridDim.x) {
    int64_t v = idx[n];
    T* dst = out + n * E;
    if (v < 0 || v >= V) {  // uniform over the block: every thread read the same v
      if (threadIdx.x == 0) device_check_fail(flag);
      // Zeros, not stale memory: later ops run on this row before the
      // error is reported.
      for (int64_t e = threadIdx.x; e < E; e += blockDim.x) dst[e] = T(0);
      continue;
    }
    const T* src = weight + v * E;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) dst[e] = src[e];
  }
}

// Row copies in words of type W (uint4, uint2, or unsigned int: the row's
// bytes are a whole number of them); Ew = words per row.
template <class W>
static __global__ void embedding_forward_kernel_v2(const W* __restrict__ weight,
                                                   const int64_t* __restrict__ idx, int64_t N,
                                                   int64_t Ew, int64_t V, W* __restrict__ out,
                                                   int32_t* flag) {
  constexpr int kUnroll = 4;
  const int lane = threadIdx.x & 31;
  const int64_t warps = static_cast<int64_t>(gridDim.x) * (blockDim.x / 32);
  for (int64_t n = static_cast<int64_t>(blockIdx.x) * (blockDim.x / 32) + threadIdx.x / 32; n < N;
       n += warps) {
    const int64_t v = idx[n];  // one address for the whole warp: a broadcast
    W* dst = out + n * Ew;
    if (v < 0 || v >= V) {  // uniform over the warp
      if (lane == 0) device_check_fail(flag);
      for (int64_t e = lane; e < Ew; e += 32) dst[e] = W{};  // all-zero bits: 0.0
      continue;
    }
    const W* src = weight + v * Ew;
    for (int64_t base = lane; base < Ew; base += 32 * kUnroll) {
      W r[kUnroll];
#pragma unroll
      for (int k = 0; k < kUnroll; ++k)
        if (base + 32 * k < Ew) r[k] = __ldg(src + base + 32 * k);
#pragma unroll
      for (int k = 0; k < kUnroll; ++k)
        if (base + 32 * k < Ew) dst[base + 32 * k] = r[k];
    }
  }
}

template <class W>
static void launch_embedding_forward_v2(const void* weight, const int64_t* idx, int64_t N,
                                        int64_t row_bytes, int64_t V, void* out, int32_t* flag,
                                        cudaStream_t stream) {
  constexpr int kThreads = 256;  // 8 warps, 8 rows at a time
  embedding_forward_kernel_v2<W><<<cuda_blocks(N, kThreads / 32), kThreads, 0, stream>>>(
      static_cast<const W*>(weight), idx, N, row_bytes / static_cast<int64_t>(sizeof(W)), V,
      static_cast<W*>(out), flag);
}

// keys[i] = idx[i], or V when idx[i] is outside [0, V); values[i] = i.
static __global__ void embedding_keys_kernel_v1(const int64_t* idx, int64_t N, int64_t V,
                                                unsigned long long* keys, int64_t* values) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < N;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t v = idx[i];
    keys[i] = static_cast<unsigned long long>(v >= 0 && v < V ? v : V);
    values[i] = i;
  }
}

// seg_start[v] = j for the first j of each run of equal sorted keys; the
// run of key V (the out-of-range indices, sorted last) gets none.
static __global__ void embedding_segments_kernel_v1(const unsigned long long* keys, int64_t N,
                                                    int64_t V, int64_t* seg_start) {
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < N;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x)
    if ((j == 0 || keys[j] != keys[j - 1]) && keys[j] < static_cast<unsigned long long>(V))
      seg_start[keys[j]] = j;
}

template <class T>
static __global__ void embedding_backward_kernel_v1(const T* dout,
                                                    const unsigned long long* keys,  // sorted
                                                    const int64_t* rows,  // n of each key
                                                    const int64_t* seg_start, int64_t N, int64_t E,
                                                    int64_t V, int64_t padding_idx, T* dweight,
                                                    T beta) {
  for (int64_t v = blockIdx.x; v < V; v += gridDim.x) {
    int64_t s = v == padding_idx ? -1 : seg_start[v];
    T* dw = dweight + v * E;
    for (int64_t e = threadIdx.x; e < E; e += blockDim.x) {
      T acc = beta == T(0) ? T(0) : (beta == T(1) ? dw[e] : mul_rn(beta, dw[e]));
      if (s >= 0)
        for (int64_t j = s; j < N && keys[j] == static_cast<unsigned long long>(v); ++j)
          acc += dout[rows[j] * E + e];
      dw[e] = acc;
    }
  }
}

template <class T>
void embedding_forward_cuda(const T* weight, const int64_t* idx, int64_t N, int64_t E, int64_t V,
                            T* out, int32_t* flag, cudaStream_t stream, int version) {
  SIRS_CHECK(version >= 1 && version <= kEmbeddingForwardCudaVersions, ValueError,
             "embedding_forward_cuda: version ", version, " is not in [1, ",
             kEmbeddingForwardCudaVersions, "]");
  if (N <= 0) return;
  if (version == 1) {
    embedding_forward_kernel_v1<T>
        <<<row_blocks(N), row_threads(E), 0, stream>>>(weight, idx, N, E, V, out, flag);
  } else {
    // The widest word that divides the row's bytes and both addresses.
    const int64_t row_bytes = E * static_cast<int64_t>(sizeof(T));
    const auto fits = [&](int64_t w) {
      return row_bytes % w == 0 && reinterpret_cast<uintptr_t>(weight) % w == 0 &&
             reinterpret_cast<uintptr_t>(out) % w == 0;
    };
    if (fits(16))
      launch_embedding_forward_v2<uint4>(weight, idx, N, row_bytes, V, out, flag, stream);
    else if (fits(8))
      launch_embedding_forward_v2<uint2>(weight, idx, N, row_bytes, V, out, flag, stream);
    else
      launch_embedding_forward_v2<unsigned int>(weight, idx, N, row_bytes, V, out, flag, stream);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void embedding_backward_cuda(const T* dout, const int64_t* idx, int64_t N, int64_t E, int64_t V,
                             int64_t padding_idx, T* dweight, T beta, int device,
                             cudaStream_t stream) {
  if (V <= 0) return;
  CudaBuffer seg(static_cast<size_t>(V) * sizeof(int64_t), device);
  SIRS_CUDA_CHECK(cudaMemsetAsync(seg.get(), 0xFF, seg.size(), stream));  // -1: unused row
  // Declared here so the sorted arrays outlive the backward kernel's launch
  // (released to the cache afterwards; later users queue behind it on the
  // same stream).
  CudaBuffer pairs(static_cast<size_t>(N > 0 ? N : 0) * 4 * sizeof(int64_t), device);
  const unsigned long long* keys_sorted = nullptr;
  const int64_t* rows_sorted = nullptr;
  if (N > 0) {
    constexpr int kThreads = 256;
    int64_t* values = pairs.as<int64_t>();
    unsigned long long* keys_out = reinterpret_cast<unsigned long long*>(values + N);
    int64_t* values_out = values + 2 * N;
    unsigned long long* keys_in = reinterpret_cast<unsigned long long*>(values + 3 * N);
    embedding_keys_kernel_v1<<<cuda_blocks(N, kThreads), kThreads, 0, stream>>>(idx, N, V, keys_in,
                                                                               values);
    SIRS_CUDA_CHECK(cudaGetLastError());
    // Keys are in [0, V]: only the bits below 2^end_bit > V differ.
    int end_bit = 1;
    while (end_bit < 64 && (1ULL << end_bit) <= static_cast<unsigned long long>(V)) ++end_bit;
    size_t temp_bytes = 0;
    SIRS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(nullptr, temp_bytes, keys_in, keys_out, values,
                                                    values_out, N, 0, end_bit, stream));
    CudaBuffer temp(temp_bytes, device);
    SIRS_CUDA_CHECK(cub::DeviceRadixSort::SortPairs(temp.get(), temp_bytes, keys_in, keys_out,
                                                    values, values_out, N, 0, end_bit, stream));
    embedding_segments_kernel_v1<<<cuda_blocks(N, kThreads), kThreads, 0, stream>>>(
        keys_out, N, V, seg.as<int64_t>());
    SIRS_CUDA_CHECK(cudaGetLastError());
    keys_sorted = keys_out;
    rows_sorted = values_out;
  }
  embedding_backward_kernel_v1<T><<<row_blocks(V), row_threads(E), 0, stream>>>(
      dout, keys_sorted, rows_sorted, seg.as<int64_t>(), N, E, V, padding_idx, dweight, beta);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template void embedding_forward_cuda<float>(const float*, const int64_t*, int64_t, int64_t, int64_t,
                                            float*, int32_t*, cudaStream_t, int);
template void embedding_forward_cuda<double>(const double*, const int64_t*, int64_t, int64_t,
                                             int64_t, double*, int32_t*, cudaStream_t, int);
template void embedding_backward_cuda<float>(const float*, const int64_t*, int64_t, int64_t,
                                             int64_t, int64_t, float*, float, int, cudaStream_t);
template void embedding_backward_cuda<double>(const double*, const int64_t*, int64_t, int64_t,
                                              int64_t, int64_t, double*, double, int, cudaStream_t);

}  // namespace sirs
