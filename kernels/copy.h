// Strided copy with dtype conversion: the kernel behind contiguous(),
// clone(), to(dtype), expand-materialisation and gradient accumulation.
//
//   dst[i] = convert(src[i]) + beta * dst[i]   for every index i of `shape`
//
// Element positions are sum(index[d] * strides[d]) from each base pointer,
// so any view (permuted, sliced, broadcast with stride 0 in src) works.
// beta = 0 overwrites dst (its old contents are never read); beta = 1
// accumulates. dst must not overlap src. Floating -> integer conversion
// truncates toward zero into int64 and wraps to the target width (-1.5 ->
// uint8 255), identically on the CPU and CUDA.
#pragma once

#include <cstdint>

#include "tensor/dtype.h"

namespace sirs {

void strided_copy_cpu(void* dst, DType dst_dtype, const int64_t* dst_strides,  // [ndim]
                      const void* src, DType src_dtype, const int64_t* src_strides,  // [ndim]
                      const int64_t* shape, int ndim, double beta);

// dst[i] = value for a strided view.
void fill_cpu(void* dst, DType dtype, const int64_t* strides, const int64_t* shape, int ndim,
              double value);

}  // namespace sirs
