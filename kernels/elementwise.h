// Elementwise kernels: binary arithmetic with NumPy broadcasting, unary
// maps and their derivatives, comparisons, select (where) and in-place add.
//
// Broadcasting without copies: every strided kernel takes the OUTPUT shape
// [ndim] and one stride array [ndim] per operand, in elements. An operand
// that broadcasts along dim d has stride 0 there (a scalar has stride 0
// everywhere), so a [3, 1] operand against a [2, 3, 4] output has strides
// {0, 1, 0}. Element index i (row-major over shape) of an operand sits at
// sum_d idx_d(i) * strides[d] from its base pointer. Outputs of the strided
// kernels are written contiguously (row-major over shape) unless they take
// their own strides. Every output is overwritten, never accumulated, except
// add_inplace_cpu, which is an accumulation by definition.
//
// Element types: the arithmetic kernels are instantiated for float and
// double; the comparison and where kernels also for int64_t, int32_t and
// uint8_t. Arithmetic happens in T (no widening). Outputs must not overlap
// inputs except where a kernel says so.
#pragma once

#include <cstdint>

namespace sirs {

enum class BinaryOp { Add, Sub, Mul, Div };  // out = a + b, a - b, a * b, a / b
enum class CompareOp { Gt, Lt, Ge, Le, Eq };  // out = (a > b) etc., as 0 / 1

// Unary maps y = f(x) with up to two parameters p0, p1:
//   Neg: -x   Exp: e^x   Log: ln x   Sqrt: sqrt x   Abs: |x|
//   Relu: max(x, 0)   Sigmoid: 1 / (1 + e^-x)   Tanh: tanh x
//   Pow: x^p0         Clamp: min(max(x, p0), p1)
// and their derivatives dy/dx, used by unary_backward_cpu:
//   Neg: -1   Exp: y   Log: 1/x   Sqrt: 1/(2y)   Abs: sign(x) (0 at 0)
//   Relu: 1 if x > 0 else 0   Sigmoid: y(1-y)   Tanh: 1 - y^2
//   Pow: p0 * x^(p0-1)        Clamp: 1 if p0 <= x <= p1 else 0
enum class UnaryOp { Neg, Exp, Log, Sqrt, Abs, Relu, Sigmoid, Tanh, Pow, Clamp };

// out[i] = a[i] op b[i] over `shape` (the broadcast output shape); out is
// contiguous [shape]. Same-shape contiguous operands take a flat vectorised
// loop; other layouts coalesce dims and specialise the innermost loop on
// which operands have unit or zero stride.
template <class T>
void binary_forward_cpu(BinaryOp op, T* out,                       // [shape] contiguous
                        const T* a, const int64_t* a_strides,      // [shape] via a_strides
                        const T* b, const int64_t* b_strides,      // [shape] via b_strides
                        const int64_t* shape, int ndim);

// out[i] = (a[i] cmp b[i]) ? 1 : 0, broadcast as binary_forward_cpu.
template <class T>
void compare_forward_cpu(CompareOp op, uint8_t* out,               // [shape] contiguous
                         const T* a, const int64_t* a_strides,     // [shape] via a_strides
                         const T* b, const int64_t* b_strides,     // [shape] via b_strides
                         const int64_t* shape, int ndim);

// out[i] = cond[i] != 0 ? a[i] : b[i], all three broadcast to `shape`.
template <class T>
void where_forward_cpu(T* out,                                          // [shape] contiguous
                       const uint8_t* cond, const int64_t* cond_strides,  // [shape] via strides
                       const T* a, const int64_t* a_strides,              // [shape] via strides
                       const T* b, const int64_t* b_strides,              // [shape] via strides
                       const int64_t* shape, int ndim);

// dst[i] += alpha * src[i] over dst's shape; dst may be any non-overlapping
// view (its own strides), src broadcasts to it (stride 0).
template <class T>
void add_inplace_cpu(T* dst, const int64_t* dst_strides,           // [shape] via dst_strides
                     const T* src, const int64_t* src_strides,     // [shape] via src_strides
                     const int64_t* shape, int ndim, T alpha);

// x[i] *= s over a strided view.
template <class T>
void scale_inplace_cpu(T* x, const int64_t* strides, const int64_t* shape, int ndim, T s);

// y[i] = f(x[i]) for n contiguous elements (parameters as UnaryOp says).
// y may alias x (in-place).
template <class T>
void unary_forward_cpu(UnaryOp op, T* y,        // [n]
                       const T* x,              // [n]
                       int64_t n, T p0, T p1);

// dx[i] = dy[i] * f'(x[i]); overwrites dx (dx may alias dy). Ops whose
// derivative is cheapest from the output (Exp, Sqrt, Sigmoid, Tanh) read y
// and ignore x; the others read x and ignore y. The ignored one may be null.
template <class T>
void unary_backward_cpu(UnaryOp op, T* dx,      // [n]
                        const T* dy,            // [n]
                        const T* x,             // [n] forward input, or null if unused
                        const T* y,             // [n] forward output, or null if unused
                        int64_t n, T p0, T p1);

}  // namespace sirs
