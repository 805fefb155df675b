// Reduction kernels. Every reduction sees its input as a contiguous
// [outer, reduce, inner] block: the dims before the reduced ones, the
// reduced ones (merged), and the dims after them. The output is
// [outer, inner], contiguous. Callers (autograd/reduce.cpp) bring any set
// of reduced dims to this form: adjacent reduced dims merge for free; a set
// of several runs of adjacent dims ([B, C, H, W] over {0, 2, 3}) is reduced
// one run per call, innermost first (sum and mean); a non-contiguous input,
// or a norm over several runs, is first copied permuted to kept dims first,
// reduced dims last.
//
// Accumulation: sums accumulate in double for both float and double input
// (a float sum of 1e6 elements keeps ~1e-7 relative error instead of
// ~1e-4), then round to T once per call. Outputs are overwritten, never accumulated.
//
// Instantiated for float and double.
#pragma once

#include <cstdint>

namespace sirs {

// Sum:  out[o, j] = sum_r in[o, r, j]
// Mean: out[o, j] = (1 / reduce) * sum_r in[o, r, j]   (NaN when reduce = 0)
// Norm: out[o, j] = sqrt(sum_r in[o, r, j]^2)          (L2 norm)
enum class SumKind { Sum, Mean, Norm };

// Parallel over (outer, chunks of inner) and, when that leaves threads
// idle, over pieces of the reduced dim with double partials combined at
// the end.
template <class T>
void sum_forward_cpu(SumKind kind, T* out,  // [outer, inner]
                     const T* in,           // [outer, reduce, inner]
                     int64_t outer, int64_t reduce, int64_t inner);

// values[o, j] = max_r in[o, r, j] (min when is_min) and indices[o, j] =
// the first r attaining it (PyTorch CPU semantics on ties). NaN wins over
// any number (the first NaN is selected), as in PyTorch. reduce >= 1.
// values may be null (argmax).
template <class T>
void max_forward_cpu(bool is_min, T* values,  // [outer, inner] or null
                     int64_t* indices,        // [outer, inner]
                     const T* in,             // [outer, reduce, inner]
                     int64_t outer, int64_t reduce, int64_t inner);

// dinp[o, r, j] = dout[o, j] if r == indices[o, j] else 0. Overwrites dinp.
template <class T>
void max_backward_cpu(T* dinp,                // [outer, reduce, inner]
                      const T* dout,          // [outer, inner]
                      const int64_t* indices,  // [outer, inner]
                      int64_t outer, int64_t reduce, int64_t inner);

// The largest (smallest when is_min) of n >= 1 elements; NaN when any is NaN.
template <class T>
T max_all_cpu(bool is_min, const T* in,  // [n]
              int64_t n);

}  // namespace sirs
