// CUDA launchers for kernels/adaptive_pool.h (adaptive average and max
// pooling). Same windows, math, index and overwrite/accumulate contract as
// the CPU functions there; every pointer is device memory of the device
// that owns `stream`.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

// out = mean of each window (summed in double, as on the CPU).
template <class T>
void adaptive_avg_pool2d_forward_cuda(const T* x,  // [N, H, W]
                                      T* out,      // [N, OH, OW], overwritten
                                      int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                      cudaStream_t stream);

// dx = beta * dx + scatter(dout / |window|); beta = 0 never reads dx.
template <class T>
void adaptive_avg_pool2d_backward_cuda(const T* dout,  // [N, OH, OW]
                                       T* dx,          // [N, H, W]
                                       int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                       double beta, cudaStream_t stream);

// out = max of each window, indices = h * W + w of its first maximum (a NaN
// counts as the maximum).
template <class T>
void adaptive_max_pool2d_forward_cuda(const T* x,        // [N, H, W]
                                      T* out,            // [N, OH, OW], overwritten
                                      int64_t* indices,  // [N, OH, OW], overwritten
                                      int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                      cudaStream_t stream);

// dx = beta * dx + scatter(dout at indices); beta = 0 never reads dx.
template <class T>
void adaptive_max_pool2d_backward_cuda(const T* dout,           // [N, OH, OW]
                                       const int64_t* indices,  // [N, OH, OW]
                                       T* dx,                   // [N, H, W]
                                       int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                       double beta, cudaStream_t stream);

}  // namespace sirs
