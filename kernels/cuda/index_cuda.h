// CUDA launchers for the index family: cat and its backward (split), the
// index range check, and kernels/index.h (index_select, gather and their
// backwards) with the same math, layouts and overwrite/accumulate contract
// as the CPU functions there. Kernels: kernels/cuda/index.cu.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

// cat along a dim, every tensor viewed as [outer, width]: input k is
// [outer, widths[k]] contiguous and sits at columns [col_k, col_k + widths[k])
// of out [outer, W], col_k = widths[0] + ... + widths[k-1], W = sum of
// widths. Elements are copied as raw bits of elem_bytes (1, 2, 4 or 8), so
// any dtype works. Inputs of width 0 are skipped. One launch per 96 inputs.
// The tables are host arrays of device pointers.
void cat_forward_cuda(void* out,                 // [outer, W], overwritten
                      int elem_bytes,
                      const void* const* xs,     // [count] host array; xs[k]: [outer, widths[k]]
                      const int64_t* widths,     // [count] host array
                      int count, int64_t outer, cudaStream_t stream);

// The backward of cat: dxs[k] = dout[:, col_k : col_k + widths[k]]
// (overwritten). Same table layout as cat_forward_cuda.
void cat_backward_cuda(const void* dout,         // [outer, W]
                       int elem_bytes,
                       void* const* dxs,         // [count] host array; dxs[k]: [outer, widths[k]]
                       const int64_t* widths,    // [count] host array
                       int count, int64_t outer, cudaStream_t stream);

// Checks idx[j] in [0, size) for all j < n on the device, without a sync:
// when some idx[j] is outside, *flag (a flag of
// kernels/cuda/deferred_check.h) is set to 1, else left untouched. The
// caller launches this through cuda_checked_launch. The kernels below skip an index outside [0, N) (zeros
// in the forward, nothing added in the backward), so they stay in bounds
// when they run before the error is reported.
void index_check_cuda(const int64_t* idx,        // [n]
                      int64_t n, int64_t size,
                      int32_t* flag,             // [1], set to 1 on a bad index
                      cudaStream_t stream);

// T: float, double, int64_t.
template <class T>
void index_select_forward_cuda(const T* x,            // [outer, N, inner]
                               const int64_t* idx,    // [L]
                               int64_t outer, int64_t N, int64_t inner, int64_t L,
                               T* out,                // [outer, L, inner], overwritten
                               cudaStream_t stream);

// T: float, double. beta = 0 overwrites dx (not read), 1 accumulates.
template <class T>
void index_select_backward_cuda(const T* dout,        // [outer, L, inner]
                                const int64_t* idx,   // [L]
                                int64_t outer, int64_t N, int64_t inner, int64_t L,
                                T* dx,                // [outer, N, inner]
                                T beta, cudaStream_t stream);

// T: float, double, int64_t.
template <class T>
void gather_forward_cuda(const T* x,                  // [outer, N, inner]
                         const int64_t* idx,          // [outer, L, inner]
                         int64_t outer, int64_t N, int64_t inner, int64_t L,
                         T* out,                      // [outer, L, inner], overwritten
                         cudaStream_t stream);

// T: float, double. beta = 0 overwrites dx (not read), 1 accumulates.
template <class T>
void gather_backward_cuda(const T* dout,              // [outer, L, inner]
                          const int64_t* idx,         // [outer, L, inner]
                          int64_t outer, int64_t N, int64_t inner, int64_t L,
                          T* dx,                      // [outer, N, inner]
                          T beta, cudaStream_t stream);

}  // namespace sirs
