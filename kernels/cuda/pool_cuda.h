// CUDA launchers for kernels/pool.h (max_pool2d). Same math, layout, index
// and overwrite/accumulate contract as the CPU functions there; every
// pointer is device memory of the device that owns `stream`.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/pool.h"

namespace sirs {

// y = max over each window (padding counts as -inf, a NaN wins), idx = its
// position ih * W + iw within the plane (the first maximum on ties).
template <class T>
void max_pool2d_forward_cuda(const Pool2dGeom& g,
                             const T* x,    // [B, C, H, W]
                             T* y,          // [B, C, Ho, Wo], overwritten
                             int64_t* idx,  // [B, C, Ho, Wo], overwritten
                             cudaStream_t stream);

// dx = beta * dx + scatter(dy at idx); beta = 0 never reads dx. Overlapping
// windows (stride < kernel) are summed in (oh, ow) order, deterministically.
template <class T>
void max_pool2d_backward_cuda(const Pool2dGeom& g,
                              const T* dy,         // [B, C, Ho, Wo]
                              const int64_t* idx,  // [B, C, Ho, Wo] from the forward
                              T beta,
                              T* dx,  // [B, C, H, W]
                              cudaStream_t stream);

}  // namespace sirs
