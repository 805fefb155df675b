// Neural-network ops: embedding lookup, dropout, softmax / log-softmax,
// cross-entropy, cosine similarity. Each is differentiable (backward next to
// the forward in nn.cpp) and computes in float32 or float64 on the input's
// device (CPU, or CUDA: kernels/cuda/{loss,embedding,dropout}_cuda.h).
#pragma once

#include <cstdint>

#include "tensor/tensor.h"

namespace sirs {

// Rows of weight [V, E] picked by int64 indices of any shape: the result has
// shape indices.shape + [E]. An index outside [0, V) is an IndexError naming
// it and V. Backward scatter-adds into dweight deterministically (no races);
// the padding_idx row gets no gradient (padding_idx < 0: none; padding_idx
// >= V is a ValueError). No gradient flows to the indices.
Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx = -1);

// Inverted dropout: each element is kept with probability 1 - p and scaled by
// 1 / (1 - p), else zeroed. Returns x itself when !training or p == 0 (and
// draws nothing); p == 1 gives zeros (and draws nothing); p outside [0, 1] is
// a ValueError. The mask is dropout_mask(x.shape(), p, x.dtype(), gen): the
// exact counter-based keep rule is in kernels/dropout.h. Gradient: dout * mask.
Tensor dropout(const Tensor& x, double p, bool training, Generator* gen = nullptr);

// The scaled mask (0 or 1 / (1 - p)) that dropout multiplies by, as a
// non-differentiable tensor of o.dtype (float32 / float64) on o.device.
// Always takes ceil(numel / 4) Philox blocks from gen (the default generator
// when null), also for p == 0 (all ones) and p == 1 (all zeros).
Tensor dropout_mask(const Shape& shape, double p, Options o, Generator* gen);

// softmax / log_softmax along dim (negative counts from the end; any dim,
// any strides), max-subtracted so large inputs do not overflow.
Tensor softmax(const Tensor& x, int64_t dim);
Tensor log_softmax(const Tensor& x, int64_t dim);

enum class Reduction { None, Sum, Mean };

// Cross-entropy with a fused log-softmax, PyTorch semantics:
//   logits [B, K] with target int64 [B], or logits [B, K, H, W] with target
//   [B, H, W]; weight: optional class weights [K] (same dtype as logits).
//   Per element: loss = -w[y] * log softmax(logits)[y], y = target; elements
//   with y == ignore_index give 0 and contribute no weight.
//   None: the per-element losses [B] or [B, H, W]. Sum: their sum (0-d).
//   Mean: sum of losses / sum of w[y] over non-ignored elements (0-d); when
//   every element is ignored this is 0 / 0 = NaN, as in PyTorch 1.13.
// A target outside [0, K) that is not ignore_index is an IndexError naming the
// value and K. Gradient w.r.t. logits only (weight gets none).
Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, Reduction reduction = Reduction::Mean);

// The SIRS cosine similarity (shared/DESIGN.md section 3) along dim of the
// broadcast of a and b:  a.b / max(|a| |b|, eps). The result has the
// broadcast shape without dim. Backward is exact for this formula (where
// |a||b| <= eps the gradient is that of a.b / eps).
Tensor cosine_similarity(const Tensor& a, const Tensor& b, int64_t dim = 1, double eps = 1e-8);

}  // namespace sirs
