// CUDA launchers for kernels/elementwise.h: broadcast binary arithmetic,
// comparisons, where, in-place add / scale, unary maps and their
// derivatives. Same math, layouts (output shape + per-operand element
// strides, 0 on broadcast dims) and overwrite/accumulate contract as the
// CPU functions there; every pointer on the device of `stream`. Element
// types as on the CPU: float and double for arithmetic; compare and where
// also int64_t, int32_t and uint8_t.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

#include "kernels/elementwise.h"

namespace sirs {

// out[i] = a[i] op b[i] over `shape`; out contiguous, overwritten.
template <class T>
void binary_forward_cuda(BinaryOp op, T* out,                      // [shape] contiguous
                         const T* a, const int64_t* a_strides,     // [shape] via a_strides
                         const T* b, const int64_t* b_strides,     // [shape] via b_strides
                         const int64_t* shape, int ndim, cudaStream_t stream);

// out[i] = (a[i] cmp b[i]) ? 1 : 0; out contiguous, overwritten.
template <class T>
void compare_forward_cuda(CompareOp op, uint8_t* out,              // [shape] contiguous
                          const T* a, const int64_t* a_strides,    // [shape] via a_strides
                          const T* b, const int64_t* b_strides,    // [shape] via b_strides
                          const int64_t* shape, int ndim, cudaStream_t stream);

// out[i] = cond[i] != 0 ? a[i] : b[i]; out contiguous, overwritten.
template <class T>
void where_forward_cuda(T* out,                                            // [shape] contiguous
                        const uint8_t* cond, const int64_t* cond_strides,  // [shape] via strides
                        const T* a, const int64_t* a_strides,              // [shape] via strides
                        const T* b, const int64_t* b_strides,              // [shape] via strides
                        const int64_t* shape, int ndim, cudaStream_t stream);

// dst[i] += alpha * src[i]; dst any non-overlapping view, src broadcast.
template <class T>
void add_inplace_cuda(T* dst, const int64_t* dst_strides,          // [shape] via dst_strides
                      const T* src, const int64_t* src_strides,    // [shape] via src_strides
                      const int64_t* shape, int ndim, T alpha, cudaStream_t stream);

// x[i] *= s over a non-overlapping strided view.
template <class T>
void scale_inplace_cuda(T* x,                                      // [shape] via strides
                        const int64_t* strides, const int64_t* shape, int ndim, T s,
                        cudaStream_t stream);

// y[i] = f(x[i]) for n contiguous elements; y may alias x.
template <class T>
void unary_forward_cuda(UnaryOp op, T* y,       // [n]
                        const T* x,             // [n]
                        int64_t n, T p0, T p1, cudaStream_t stream);

// dx[i] = dy[i] * f'(x[i]), overwritten (dx may alias dy). Exp, Sqrt,
// Sigmoid and Tanh read y and ignore x; the others read x and ignore y; the
// ignored one may be null.
template <class T>
void unary_backward_cuda(UnaryOp op, T* dx,     // [n]
                         const T* dy,           // [n]
                         const T* x,            // [n] forward input, or null if unused
                         const T* y,            // [n] forward output, or null if unused
                         int64_t n, T p0, T p1, cudaStream_t stream);

}  // namespace sirs
