// Inverted dropout with a counter-based mask.
//
//   mask[i] = keep(i) ? scale : 0,   scale = 1 / (1 - p)
//   y[i]    = x[i] * mask[i],        dx[i] = dy[i] * mask[i]
//
// The keep rule (the contract a CUDA kernel must reproduce bit-for-bit):
//   r       = philox4x32_10(first + i / 4, seed).v[i % 4]   (tensor/philox.h)
//   keep(i) = (r >> 8) >= threshold,   threshold = ceil(p * 2^24)   (integer)
// i is the row-major element index, seed the Generator's seed and `first`
// the first Philox block taken from it (ceil(n / 4) blocks are taken per
// mask, as tensor/tensor.cpp's rand() does). (r >> 8) is uniform on
// [0, 2^24), so P(keep) = 1 - threshold / 2^24, i.e. 1 - p up to 2^-24.
// Comparing integers (never floats) keeps CPU and GPU identical; p = 0 keeps
// everything (threshold 0) and p = 1 keeps nothing (threshold 2^24).
// The same rule decides keep(i) for every dtype; only the value of scale,
// computed in double and rounded to T, differs.
#pragma once

#include <cstdint>

namespace sirs {

// ceil(p * 2^24) for p in [0, 1].
uint32_t dropout_threshold(double p);

template <class T>
void dropout_mask_cpu(T* mask,  // [n], overwritten with 0 or scale
                      int64_t n, uint64_t seed, uint64_t first, uint32_t threshold, T scale);

// y[i] = x[i] * mask[i] (forward; also the backward with x = dy, y = dx).
template <class T>
void dropout_apply_cpu(const T* x,     // [n]
                       const T* mask,  // [n]
                       T* y,           // [n], overwritten
                       int64_t n);

}  // namespace sirs
