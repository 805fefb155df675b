// The GRU family: the fused gates of one GRU step, and the split of a
// time-major tensor into its steps that a GRU's step loop reads from.
// float32 / float64, CPU or CUDA (all operands on one device).
#pragma once

#include <vector>

#include "tensor/tensor.h"

namespace sirs {

// One GRU step's gates (the math and its derivative: kernels/gru.h):
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
//   n = tanh(gi_n + r * gh_n), h' = (1 - z) * n + z * h
// gi_* are the input-side pre-activations with their biases, gh_* the
// hidden-side projections, h the previous state; all [B, H] of one dtype
// and device (any strides: non-contiguous operands are copied). Returns h'
// [B, H]. With a graph it saves r, z, n, gh_n and h; the backward gives a
// gradient to each of the seven inputs that requires one.
Tensor gru_cell(const Tensor& gi_r, const Tensor& gi_z, const Tensor& gi_n, const Tensor& gh_r,
                const Tensor& gh_z, const Tensor& gh_n, const Tensor& h);

// x [T, ...] (T >= 1) -> the T views x[t] [...] (no copy). One graph node
// for all of them, whose backward writes the T gradients into one tensor of
// x's shape (zeros for a step that got none). A step loop that used
// x.select(0, t) instead would, in backward, build a full-size gradient of
// x for every step: O(T^2) memory traffic where this is O(T).
std::vector<Tensor> gru_unbind(const Tensor& x);

}  // namespace sirs
