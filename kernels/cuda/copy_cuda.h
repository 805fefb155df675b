// CUDA launchers for kernels/copy.h: strided copy with dtype conversion and
// fill. Same math and layout contract as the CPU functions there.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "tensor/dtype.h"

namespace sirs {

// dst[i] = convert(src[i]) + beta * dst[i] over `shape` (beta = 0
// overwrites without reading dst). Both pointers on the same device.
void strided_copy_cuda(void* dst, DType dst_dtype, const int64_t* dst_strides,  // [ndim]
                       const void* src, DType src_dtype, const int64_t* src_strides,  // [ndim]
                       const int64_t* shape, int ndim, double beta, cudaStream_t stream);

// dst[i] = value (its bit pattern `bits`, elem_bytes wide) over a strided view.
void fill_cuda(void* dst, int elem_bytes, const int64_t* strides, const int64_t* shape, int ndim,
               uint64_t bits, cudaStream_t stream);

}  // namespace sirs
