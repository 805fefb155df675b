// CUDA launchers for kernels/upsample.h (bilinear resampling). Same
// formula, layout and overwrite/accumulate contract as the CPU functions
// there; every pointer is device memory of the device that owns `stream`.
//
// Both launchers first tabulate, per axis, each output's two source indices
// and weights (computed in double exactly as the CPU does) and, for the
// backward, each input's range of outputs; the tables live in a caller-owned
// device workspace of upsample_bilinear2d_workspace_bytes_cuda(...) bytes
// (a CudaBuffer from kernels/cuda/context.h), only used by work queued on
// `stream`.
#pragma once

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace sirs {

// Bytes of device workspace either launcher needs for these sizes and
// element size (sizeof(T)).
size_t upsample_bilinear2d_workspace_bytes_cuda(int64_t H, int64_t W, int64_t OH, int64_t OW,
                                                size_t elem_bytes);

template <class T>
void upsample_bilinear2d_forward_cuda(const T* x,  // [N, H, W]
                                      T* out,      // [N, OH, OW], overwritten
                                      int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                      bool align_corners,
                                      void* workspace,  // upsample_bilinear2d_workspace_bytes_cuda
                                      cudaStream_t stream);

// dx = beta * dx + scatter(dout); beta = 0 overwrites dx without reading it.
// A gather (each dx element sums its outputs' contributions): no atomics,
// deterministic.
template <class T>
void upsample_bilinear2d_backward_cuda(const T* dout,  // [N, OH, OW]
                                       T* dx,          // [N, H, W]
                                       int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW,
                                       bool align_corners, double beta,
                                       void* workspace,  // upsample_bilinear2d_workspace_bytes_cuda
                                       cudaStream_t stream);

}  // namespace sirs
