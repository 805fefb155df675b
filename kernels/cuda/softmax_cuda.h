// CUDA launchers for kernels/softmax.h: softmax / log-softmax along one dim
// of a contiguous tensor seen as [outer, D, inner], forward and backward.
// Same math, layout and overwrite contract as the CPU functions there
// (max subtracted before exp, sums accumulated in double).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

template <class T>
void softmax_forward_cuda(const T* x,  // [outer, D, inner]
                          T* y,        // [outer, D, inner], overwritten
                          int64_t outer, int64_t D, int64_t inner, bool log, cudaStream_t stream);

// y is the forward output (softmax or log_softmax).
template <class T>
void softmax_backward_cuda(const T* y,   // [outer, D, inner]
                           const T* dy,  // [outer, D, inner]
                           T* dx,        // [outer, D, inner], overwritten
                           int64_t outer, int64_t D, int64_t inner, bool log, cudaStream_t stream);

}  // namespace sirs
