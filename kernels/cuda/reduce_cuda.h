// CUDA launchers for kernels/reduce.h: sum / mean / norm, max / min with
// indices, their backward, and the full max / min. Same math, layout
// ([outer, reduce, inner] contiguous in, [outer, inner] out) and overwrite
// contract as the CPU functions there; sums accumulate in double as on the
// CPU. Every pointer is device memory of `device`; `stream` must be
// cuda_stream(device) (scratch for split reductions comes from the caching
// allocator, which is only safe on the device's one stream).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/reduce.h"

namespace sirs {

template <class T>
void sum_forward_cuda(SumKind kind, T* out,  // [outer, inner]
                      const T* in,           // [outer, reduce, inner]
                      int64_t outer, int64_t reduce, int64_t inner, int device,
                      cudaStream_t stream);

// values may be null (argmax). reduce >= 1.
template <class T>
void max_forward_cuda(bool is_min, T* values,  // [outer, inner] or null
                      int64_t* indices,        // [outer, inner]
                      const T* in,             // [outer, reduce, inner]
                      int64_t outer, int64_t reduce, int64_t inner, int device,
                      cudaStream_t stream);

// Overwrites dinp (zeros, then dout at the selected indices).
template <class T>
void max_backward_cuda(T* dinp,                 // [outer, reduce, inner]
                       const T* dout,           // [outer, inner]
                       const int64_t* indices,  // [outer, inner]
                       int64_t outer, int64_t reduce, int64_t inner, cudaStream_t stream);

// *out = the largest (smallest when is_min) of n >= 1 elements, NaN when any
// is NaN. out is a device pointer; nothing is copied to the host.
template <class T>
void max_all_cuda(bool is_min, T* out,  // [1]
                  const T* in,          // [n]
                  int64_t n, int device, cudaStream_t stream);

}  // namespace sirs
