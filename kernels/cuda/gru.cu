// The fused GRU gates on CUDA (contract and derivation: kernels/gru.h;
// launchers: kernels/cuda/gru_cuda.h).
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
//   n = tanh(gi_n + r * gh_n), h' = (1 - z) * n + z * h
//   backward: dn = g (1 - z)(1 - n^2) = d(gi_n), d(gh_n) = dn r,
//             d(gi_r) = d(gh_r) = dn gh_n r (1 - r),
//             d(gi_z) = d(gh_z) = g (h - n) z (1 - z),  dh = g z
// Layout: every operand [B, H] contiguous, so element (b, j) is flat index
// b * H + j in all of them.
// Versions: v1 (live) of each direction is a grid-stride loop, one element
// (b, j) per thread per step. Each element reads 7 (forward) or 6 (backward)
// values and writes up to 5, all coalesced; there is no reuse to exploit, so
// the kernel is bound by memory bandwidth and a fancier one would not pay.
// The math is the CPU's, term for term (sigmoid as 1 / (1 + e^-x), precise
// expf / tanhf, no fast-math intrinsics), so NaN and infinity propagate the
// same way and float results agree to a few ulp.
// Tests: make test GTEST_FILTER='CudaGru*'
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/gru_cuda.h"
#include "kernels/cuda/launch.h"

namespace sirs {

namespace {

__device__ __forceinline__ float dev_exp(float x) { return expf(x); }
__device__ __forceinline__ double dev_exp(double x) { return exp(x); }
__device__ __forceinline__ float dev_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double dev_tanh(double x) { return tanh(x); }

template <class T>
__device__ __forceinline__ T dev_sigmoid(T x) {
  return T(1) / (T(1) + dev_exp(-x));
}

constexpr int kThreads = 256;

}  // namespace

template <class T>
static __global__ void gru_cell_forward_kernel_v1(const T* __restrict__ gi_r,
                                                  const T* __restrict__ gi_z,
                                                  const T* __restrict__ gi_n,
                                                  const T* __restrict__ gh_r,
                                                  const T* __restrict__ gh_z,
                                                  const T* __restrict__ gh_n,
                                                  const T* __restrict__ h, T* __restrict__ h_out,
                                                  T* __restrict__ r, T* __restrict__ z,
                                                  T* __restrict__ n, int64_t count) {
  // r, z, n are all null or all set (checked by the launcher): one uniform
  // branch, no divergence.
  const bool save = r != nullptr;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T ri = dev_sigmoid(gi_r[i] + gh_r[i]);
    T zi = dev_sigmoid(gi_z[i] + gh_z[i]);
    T ni = dev_tanh(gi_n[i] + ri * gh_n[i]);
    h_out[i] = (T(1) - zi) * ni + zi * h[i];
    if (save) {
      r[i] = ri;
      z[i] = zi;
      n[i] = ni;
    }
  }
}

template <class T>
static __global__ void gru_cell_backward_kernel_v1(const T* __restrict__ dh_out,
                                                   const T* __restrict__ r,
                                                   const T* __restrict__ z,
                                                   const T* __restrict__ n,
                                                   const T* __restrict__ gh_n,
                                                   const T* __restrict__ h, T* __restrict__ dgi_r,
                                                   T* __restrict__ dgi_z, T* __restrict__ dgi_n,
                                                   T* __restrict__ dgh_n, T* __restrict__ dh,
                                                   int64_t count) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < count;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T g = dh_out[i], ri = r[i], zi = z[i], ni = n[i];
    T dn = g * (T(1) - zi) * (T(1) - ni * ni);
    if (dgi_r) dgi_r[i] = dn * gh_n[i] * ri * (T(1) - ri);
    if (dgi_z) dgi_z[i] = g * (h[i] - ni) * zi * (T(1) - zi);
    if (dgi_n) dgi_n[i] = dn;
    if (dgh_n) dgh_n[i] = dn * ri;
    if (dh) dh[i] = g * zi;
  }
}

template <class T>
void gru_cell_forward_cuda(const T* gi_r, const T* gi_z, const T* gi_n, const T* gh_r,
                           const T* gh_z, const T* gh_n, const T* h, T* h_out, T* r, T* z, T* n,
                           int64_t B, int64_t H, cudaStream_t stream) {
  SIRS_CHECK((r == nullptr) == (z == nullptr) && (r == nullptr) == (n == nullptr), ValueError,
             "gru_cell_forward_cuda: r, z and n must be all given or all null");
  const int64_t count = B * H;
  if (count == 0) return;
  gru_cell_forward_kernel_v1<T><<<cuda_blocks(count, kThreads), kThreads, 0, stream>>>(
      gi_r, gi_z, gi_n, gh_r, gh_z, gh_n, h, h_out, r, z, n, count);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void gru_cell_backward_cuda(const T* dh_out, const T* r, const T* z, const T* n, const T* gh_n,
                            const T* h, T* dgi_r, T* dgi_z, T* dgi_n, T* dgh_n, T* dh, int64_t B,
                            int64_t H, cudaStream_t stream) {
  const int64_t count = B * H;
  if (count == 0) return;
  gru_cell_backward_kernel_v1<T><<<cuda_blocks(count, kThreads), kThreads, 0, stream>>>(
      dh_out, r, z, n, gh_n, h, dgi_r, dgi_z, dgi_n, dgh_n, dh, count);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

#define SIRS_INSTANTIATE(T)                                                                      \
  template void gru_cell_forward_cuda<T>(const T*, const T*, const T*, const T*, const T*,       \
                                         const T*, const T*, T*, T*, T*, T*, int64_t, int64_t,   \
                                         cudaStream_t);                                          \
  template void gru_cell_backward_cuda<T>(const T*, const T*, const T*, const T*, const T*,      \
                                          const T*, T*, T*, T*, T*, T*, int64_t, int64_t,        \
                                          cudaStream_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
