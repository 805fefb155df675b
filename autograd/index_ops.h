// Shape ops that combine or pick along a dim: cat, stack, index_select,
// gather. Differentiable; the backward of the picking ops adds duplicate
// indices' gradients together (deterministically).
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace sirs {

// Concatenates along dim (negative counts from the end). All tensors need
// the same dtype, device and rank, and equal sizes except in dim; a mismatch
// is a ShapeError naming the tensor's number and both shapes. Any dtype.
Tensor cat(const std::vector<Tensor>& xs, int64_t dim);

// Stacks equal-shaped tensors along a new dim (dim in [-(n+1), n] for n-d
// inputs). Any dtype.
Tensor stack(const std::vector<Tensor>& xs, int64_t dim);

// out = x with dim restricted to the positions listed in index (int64, 1-D
// or 0-d; repeats allowed): out.size(dim) = index.numel(). An index outside
// [0, x.size(dim)) is an IndexError. float32, float64 or int64 inputs;
// backward index-adds (repeated indices accumulate).
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);

// PyTorch gather: out has index's shape and, for dim = 1 of a 3-d tensor,
// out[i][j][k] = x[i][index[i][j][k]][k]. index is int64 with x's rank and
// index.size(d) <= x.size(d) for d != dim. float32, float64 or int64 inputs;
// backward scatter-adds (repeated indices accumulate).
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);

}  // namespace sirs
