// Reductions with autograd: sum, mean, L2 norm over any set of dims, and
// max / min / argmax along one dim or over everything.
//
// dims: any list of distinct dims, negative ones counting from the end;
// the empty list means every dim. keepdim keeps reduced dims as size 1
// (so the result broadcasts against the input); otherwise they are removed
// (reducing everything gives a 0-d tensor). A bad or repeated dim is an
// IndexError naming the op and the shape. Inputs are float32 or float64 (CPU or CUDA)
// tensors of any layout. Sums accumulate in double and round once (see
// kernels/reduce.h), for float32 too.
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// sum over dims. Gradient: dout broadcast back over the reduced dims.
Tensor sum(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
// sum / (number of reduced elements); NaN for an empty reduction.
Tensor mean(const Tensor& a, const Shape& dims = {}, bool keepdim = false);
// L2 norm sqrt(sum a^2) over dims. Gradient a / norm, and 0 where the norm
// is 0 (the subgradient PyTorch picks, so a zero vector gets no NaN).
Tensor norm(const Tensor& a, const Shape& dims = {}, bool keepdim = false);

struct ValuesIndices {
  Tensor values;   // a's dtype
  Tensor indices;  // int64, positions along dim
};

// Largest (smallest) element along dim and its index; on ties the first
// occurrence, NaN counts as the largest (and smallest) value, as PyTorch on
// the CPU. The gradient goes to the selected element only. IndexError when
// dim has size 0.
ValuesIndices max(const Tensor& a, int64_t dim, bool keepdim = false);
ValuesIndices min(const Tensor& a, int64_t dim, bool keepdim = false);
// Over all elements, as a 0-d tensor (ValueError when a is empty). The
// gradient is split evenly among the elements equal to the result, as
// PyTorch does for the full reduction.
Tensor max(const Tensor& a);
Tensor min(const Tensor& a);
// Index (int64) of the first largest element along dim; no gradient.
Tensor argmax(const Tensor& a, int64_t dim, bool keepdim = false);

}  // namespace sirs
