// Device-side helpers shared by the CUDA kernels (include from .cu files
// only): launch sizing, strided index decoding, and warp/block reductions.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <map>
#include <mutex>
#include <tuple>

#include "kernels/cuda/check.h"
#include "tensor/error.h"

namespace sirs {

constexpr int kCudaMaxDims = 8;

// Shape and strides of a view, passed by value to kernels. Index i
// (row-major over shape) sits at offset(i) elements from the base pointer.
struct CudaStrided {
  int64_t shape[kCudaMaxDims];
  int64_t strides[kCudaMaxDims];
  int ndim;

  __host__ __device__ int64_t offset(int64_t i) const {
    int64_t off = 0;
    for (int d = ndim - 1; d >= 0; --d) {
      int64_t s = shape[d];
      off += (i % s) * strides[d];
      i /= s;
    }
    return off;
  }
};

// Packs (shape, strides) for a kernel; more than kCudaMaxDims dims is a
// ShapeError naming op.
inline CudaStrided make_cuda_strided(const int64_t* shape, const int64_t* strides, int ndim,
                                     const char* op) {
  SIRS_CHECK(ndim <= kCudaMaxDims, ShapeError, op, ": at most ", kCudaMaxDims,
             " dims on CUDA, got ", ndim);
  CudaStrided s{};
  s.ndim = ndim;
  for (int d = 0; d < ndim; ++d) {
    s.shape[d] = shape[d];
    s.strides[d] = strides[d];
  }
  return s;
}

// Blocks for a grid-stride loop over n items with `threads` per block:
// enough to fill the GPU several times over, never more than the items need.
inline int cuda_blocks(int64_t n, int threads) {
  int64_t b = (n + threads - 1) / threads;
  if (b < 1) b = 1;
  if (b > 65535 * 8) b = 65535 * 8;  // gridDim.x may go to 2^31-1; this keeps loops busy
  return static_cast<int>(b);
}

#ifdef __CUDACC__

// Resident blocks of `kernel` per SM at `threads` per block and `smem`
// bytes of dynamic shared memory (at least 1): the size of one wave, for
// launches whose blocks carry equal work. Asked of the runtime once per
// (kernel, threads, smem, current device), then cached: the reductions
// that use it run several times per training step.
// Lets `kernel` launch with `smem` bytes of dynamic shared memory on the
// current device (cudaFuncAttributeMaxDynamicSharedMemorySize; needed above
// 48 KB). The attribute stays set, so the runtime is asked once per
// (kernel, device) and again only for a larger size.
template <class Kernel>
void cuda_allow_dynamic_smem(Kernel kernel, size_t smem) {
  static std::mutex mutex;
  static std::map<std::tuple<const void*, int>, size_t> allowed;
  int device = 0;
  SIRS_CUDA_CHECK(cudaGetDevice(&device));
  const auto key = std::make_tuple(reinterpret_cast<const void*>(kernel), device);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = allowed.find(key);
  if (it != allowed.end() && it->second >= smem) return;
  SIRS_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       static_cast<int>(smem)));
  allowed[key] = smem;
}

template <class Kernel>
int cuda_blocks_per_sm(Kernel kernel, int threads, size_t smem = 0) {
  static std::mutex mutex;
  static std::map<std::tuple<const void*, int, size_t, int>, int> cache;
  int device = 0;
  SIRS_CUDA_CHECK(cudaGetDevice(&device));
  const auto key = std::make_tuple(reinterpret_cast<const void*>(kernel), threads, smem, device);
  std::lock_guard<std::mutex> lock(mutex);
  auto it = cache.find(key);
  if (it != cache.end()) return it->second;
  int n = 0;
  SIRS_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&n, kernel, threads, smem));
  return cache[key] = n > 0 ? n : 1;
}

// Sum of v over the warp; every lane gets the result.
template <class T>
__device__ __forceinline__ T warp_sum(T v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

template <class T>
__device__ __forceinline__ T warp_max(T v) {
  for (int o = 16; o > 0; o >>= 1) {
    T u = __shfl_xor_sync(0xffffffffu, v, o);
    v = u > v ? u : v;
  }
  return v;
}

// Sum of v over the block (blockDim.x a multiple of 32, at most 1024); every
// thread gets the result. `shared` holds 32 T. Starts with a
// __syncthreads, so a second call cannot overwrite `shared` before every
// thread has read the first call's partials: it can be called several times
// in a row.
template <class T>
__device__ T block_sum(T v, T* shared) {
  int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  T r = lane < nwarps ? shared[lane] : T(0);
  r = warp_sum(r);
  return r;
}

// Sums of a and b over the block (blockDim.x a multiple of 32, at most
// 1024) with one barrier where two block_sum calls take four; every thread
// gets both, in the same order of additions as block_sum. `shared` holds 32
// pairs. Unlike block_sum it does not start with a barrier: the caller must
// put one between a call and the next call's writes to `shared`.
template <class T>
__device__ void block_sum_pair(T& a, T& b, T (*shared)[2]) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, nwarps = (blockDim.x + 31) >> 5;
  a = warp_sum(a);
  b = warp_sum(b);
  if (lane == 0) {
    shared[warp][0] = a;
    shared[warp][1] = b;
  }
  __syncthreads();
  a = warp_sum(lane < nwarps ? shared[lane][0] : T(0));
  b = warp_sum(lane < nwarps ? shared[lane][1] : T(0));
}

#endif  // __CUDACC__

}  // namespace sirs
