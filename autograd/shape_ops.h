// Differentiable views and copies that are Tensor methods (reshape,
// permute, narrow, expand, ...) are declared in tensor/tensor.h and
// implemented in shape_ops.cpp. This header adds the free functions.
#pragma once

#include "tensor/tensor.h"

namespace sirs {

// Sums t over the dims where `shape` (right-aligned, NumPy broadcasting)
// has size 1 or is absent: the backward of broadcasting.
Tensor sum_to(const Tensor& t, const Shape& shape);

// The shape two operands broadcast to; ShapeError naming op otherwise.
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);

}  // namespace sirs
