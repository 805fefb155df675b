// Elementwise ops with autograd: arithmetic with NumPy broadcasting, unary
// maps, where, comparisons and graph-free in-place helpers.
//
// Arithmetic and unary ops take float32 or float64 tensors on the CPU or
// CUDA (outputs live on the inputs' device); binary ops
// need both operands of the same dtype and device, and shapes that
// broadcast (right-aligned; each dim equal or 1), else a ShapeError naming
// both shapes. Inputs may be any view (transposed, sliced, expanded): the
// kernels read them through their strides. Outputs are new contiguous
// tensors. The backward of a broadcast operand sums the gradient back to
// the operand's shape (sum_to). Scalars (double) are converted to the
// tensor's dtype first.
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// --- binary arithmetic, broadcasting
Tensor add(const Tensor& a, const Tensor& b);  // a + b
Tensor sub(const Tensor& a, const Tensor& b);  // a - b
Tensor mul(const Tensor& a, const Tensor& b);  // a * b
Tensor div(const Tensor& a, const Tensor& b);  // a / b (IEEE: x/0 = ±inf, 0/0 = NaN)

Tensor add(const Tensor& a, double s);   // a + s
Tensor sub(const Tensor& a, double s);   // a - s
Tensor mul(const Tensor& a, double s);   // a * s
Tensor div(const Tensor& a, double s);   // a / s
Tensor rsub(double s, const Tensor& a);  // s - a
Tensor rdiv(double s, const Tensor& a);  // s / a

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator+(const Tensor& a, double s);
Tensor operator-(const Tensor& a, double s);
Tensor operator*(const Tensor& a, double s);
Tensor operator/(const Tensor& a, double s);
Tensor operator+(double s, const Tensor& a);
Tensor operator-(double s, const Tensor& a);
Tensor operator*(double s, const Tensor& a);
Tensor operator/(double s, const Tensor& a);
Tensor operator-(const Tensor& a);  // neg(a)

// --- unary maps; derivative in brackets
Tensor neg(const Tensor& a);      // -a              [-1]
Tensor exp(const Tensor& a);      // e^a             [e^a]
Tensor log(const Tensor& a);      // ln a            [1/a]
Tensor sqrt(const Tensor& a);     // sqrt a          [1/(2 sqrt a)]
Tensor abs(const Tensor& a);      // |a|             [sign a, 0 at 0]
Tensor relu(const Tensor& a);     // max(a, 0)       [1 where a > 0, else 0]
Tensor sigmoid(const Tensor& a);  // 1/(1+e^-a)      [s(1-s)]; overflow-safe for large |a|
Tensor tanh(const Tensor& a);     // tanh a          [1 - tanh^2 a]
// a^exponent [exponent * a^(exponent-1); 0 when exponent is 0]. A
// fractional exponent of a negative input gives NaN, as in PyTorch.
Tensor pow(const Tensor& a, double exponent);
// min(max(a, lo), hi); pass ±infinity to leave a side open. Gradient 1
// where lo <= a <= hi (boundaries included, as PyTorch), 0 outside.
// ValueError when lo > hi.
Tensor clamp(const Tensor& a, double lo, double hi);

// cond (uint8, nonzero = true) ? a : b, all three broadcast together. a and
// b share a dtype (any of float32, float64, int64, int32, uint8). The
// gradient goes to a where cond holds and to b elsewhere, summed back to
// each operand's shape.
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);

// --- comparisons: uint8 0/1, broadcasting, no gradient. Operands share a
// dtype: float32, float64, int64, int32 or uint8. A scalar that an integer
// dtype cannot hold exactly (gt(labels, 0.5)) is compared in float64.
Tensor gt(const Tensor& a, const Tensor& b);  // a > b
Tensor lt(const Tensor& a, const Tensor& b);  // a < b
Tensor ge(const Tensor& a, const Tensor& b);  // a >= b
Tensor le(const Tensor& a, const Tensor& b);  // a <= b
Tensor eq(const Tensor& a, const Tensor& b);  // a == b (NaN == NaN is false)
Tensor gt(const Tensor& a, double s);
Tensor lt(const Tensor& a, double s);
Tensor ge(const Tensor& a, double s);
Tensor le(const Tensor& a, double s);
Tensor eq(const Tensor& a, double s);

// --- in-place helpers for optimizers and tests. Graph-free: nothing is
// recorded, whatever the grad mode. Writing into a tensor that a recorded
// graph saved for backward corrupts that backward; call them on parameters
// and buffers (typically under NoGradGuard), not on activations.
// dst += alpha * src; src broadcasts to dst's shape; float32/float64, same dtype.
void add_(const Tensor& dst, const Tensor& src, double alpha = 1.0);
// dst *= s.
void mul_(const Tensor& dst, double s);

}  // namespace sirs
