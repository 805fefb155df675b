// Dropout mask generation and application on CUDA (contract and the exact
// keep rule: kernels/dropout.h; launchers: kernels/cuda/dropout_cuda.h).
//
//   mask[i] = ((philox4x32_10(first + i / 4, seed).v[i % 4] >> 8) >= threshold) ? scale : 0
//   y[i]    = x[i] * mask[i]
//
// The generator is tensor/philox.h itself (its functions are
// __host__ __device__ under nvcc), so the device computes the very same
// function as dropout_mask_cpu: integer arithmetic only, no float rounding
// in the keep decision, hence CPU and GPU masks are identical bit for bit.
// Each thread owns whole Philox blocks (4 consecutive elements) in a
// grid-stride loop, so element i is a pure function of (seed, first, i) and
// not of the grid shape.
//
// Versions: dropout_mask_kernel_v1 (live), dropout_apply_kernel_v1 (live):
// plain grid-stride loops; both are memory-bound and coalesced (a warp
// writes 32 * 4 adjacent elements per step).
//
// Tests: make test GTEST_FILTER='CudaDropout*:NNDropout*'
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/dropout_cuda.h"
#include "kernels/cuda/launch.h"
#include "tensor/philox.h"

namespace sirs {

template <class T>
static __global__ void dropout_mask_kernel_v1(T* mask, int64_t n, uint64_t seed, uint64_t first,
                                              uint32_t threshold, T scale) {
  const int64_t blocks4 = (n + 3) / 4;
  for (int64_t b = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; b < blocks4;
       b += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    Philox4 r = philox4x32_10(first + static_cast<uint64_t>(b), seed);
#pragma unroll
    for (int lane = 0; lane < 4; ++lane) {
      int64_t i = 4 * b + lane;
      if (i < n) mask[i] = (r.v[lane] >> 8) >= threshold ? scale : T(0);
    }
  }
}

template <class T>
static __global__ void dropout_apply_kernel_v1(const T* x, const T* mask, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] = x[i] * mask[i];
}

template <class T>
void dropout_mask_cuda(T* mask, int64_t n, uint64_t seed, uint64_t first, uint32_t threshold,
                       T scale, cudaStream_t stream, int threads, int max_blocks) {
  SIRS_CHECK(threads >= 32 && threads <= 1024 && threads % 32 == 0, ValueError,
             "dropout_mask_cuda: threads = ", threads, " must be a multiple of 32 in [32, 1024]");
  SIRS_CHECK(max_blocks >= 0, ValueError, "dropout_mask_cuda: max_blocks = ", max_blocks,
             " must be >= 0");
  if (n <= 0) return;
  int blocks = cuda_blocks((n + 3) / 4, threads);
  if (max_blocks > 0 && blocks > max_blocks) blocks = max_blocks;
  dropout_mask_kernel_v1<T><<<blocks, threads, 0, stream>>>(mask, n, seed, first, threshold, scale);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void dropout_apply_cuda(const T* x, const T* mask, T* y, int64_t n, cudaStream_t stream) {
  if (n <= 0) return;
  constexpr int kThreads = 256;
  dropout_apply_kernel_v1<T><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(x, mask, y, n);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template void dropout_mask_cuda<float>(float*, int64_t, uint64_t, uint64_t, uint32_t, float,
                                       cudaStream_t, int, int);
template void dropout_mask_cuda<double>(double*, int64_t, uint64_t, uint64_t, uint32_t, double,
                                        cudaStream_t, int, int);
template void dropout_apply_cuda<float>(const float*, const float*, float*, int64_t, cudaStream_t);
template void dropout_apply_cuda<double>(const double*, const double*, double*, int64_t,
                                         cudaStream_t);

}  // namespace sirs
