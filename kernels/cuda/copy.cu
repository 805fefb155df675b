// Fill on CUDA (contract: kernels/copy.h). Grid-stride loop over the
// elements of a strided view; each thread decodes its flat index into the
// view's coordinates (ndim <= 8).
#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/copy_cuda.h"

namespace sirs {

namespace {

struct StridedShape {
  int64_t shape[8];
  int64_t strides[8];
  int ndim;
};

template <class T>
static __global__ void fill_kernel_v1(T* dst, StridedShape s, int64_t n, T value) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t rem = i, off = 0;
    for (int d = s.ndim - 1; d >= 0; --d) {
      off += (rem % s.shape[d]) * s.strides[d];
      rem /= s.shape[d];
    }
    dst[off] = value;
  }
}

}  // namespace

void fill_cuda(void* dst, int elem_bytes, const int64_t* strides, const int64_t* shape, int ndim,
               uint64_t bits, cudaStream_t stream) {
  SIRS_CHECK(ndim <= 8, ShapeError, "fill_cuda: at most 8 dims, got ", ndim);
  StridedShape s{};
  s.ndim = ndim;
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) {
    s.shape[d] = shape[d];
    s.strides[d] = strides[d];
    n *= shape[d];
  }
  if (n == 0) return;
  int threads = 256;
  int blocks = static_cast<int>((n + threads - 1) / threads);
  if (blocks > 65535) blocks = 65535;
  switch (elem_bytes) {
    case 1: fill_kernel_v1<uint8_t><<<blocks, threads, 0, stream>>>(static_cast<uint8_t*>(dst), s, n, static_cast<uint8_t>(bits)); break;
    case 2: fill_kernel_v1<uint16_t><<<blocks, threads, 0, stream>>>(static_cast<uint16_t*>(dst), s, n, static_cast<uint16_t>(bits)); break;
    case 4: fill_kernel_v1<uint32_t><<<blocks, threads, 0, stream>>>(static_cast<uint32_t*>(dst), s, n, static_cast<uint32_t>(bits)); break;
    case 8: fill_kernel_v1<uint64_t><<<blocks, threads, 0, stream>>>(static_cast<uint64_t*>(dst), s, n, bits); break;
    default: throw ValueError(str_cat("fill_cuda: bad element size ", elem_bytes));
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace sirs
