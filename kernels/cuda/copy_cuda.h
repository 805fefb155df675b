// CUDA launchers for kernels/copy.h. Values travel as raw bits so one
// kernel per element size serves every dtype.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

// dst[i] = value (its bit pattern `bits`, elem_bytes wide) over a strided view.
void fill_cuda(void* dst, int elem_bytes, const int64_t* strides, const int64_t* shape, int ndim,
               uint64_t bits, cudaStream_t stream);

}  // namespace sirs
