// Dropout mask generation and application on the CPU (contract and the
// exact keep rule: kernels/dropout.h).
//   mask[i] = ((philox4x32_10(first + i / 4, seed).v[i % 4] >> 8) >= ceil(p * 2^24)) ? 1/(1-p) : 0
//   y[i] = x[i] * mask[i]
// One Philox block serves four consecutive elements; the loop runs over
// blocks so each block is computed once.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='NN*Dropout*'
#include "kernels/dropout.h"

#include <cmath>

#include "tensor/philox.h"

namespace sirs {

uint32_t dropout_threshold(double p) {
  // p * 2^24 is exact in double for the 53-bit mantissa; ceil makes
  // P((r >> 8) >= t) = 1 - t / 2^24 the closest value not above 1 - p.
  return static_cast<uint32_t>(std::ceil(p * 16777216.0));
}

template <class T>
void dropout_mask_cpu(T* mask, int64_t n, uint64_t seed, uint64_t first, uint32_t threshold,
                      T scale) {
  int64_t blocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t b = 0; b < blocks; ++b) {
    Philox4 r = philox4x32_10(first + static_cast<uint64_t>(b), seed);
    for (int lane = 0; lane < 4; ++lane) {
      int64_t i = 4 * b + lane;
      if (i < n) mask[i] = (r.v[lane] >> 8) >= threshold ? scale : T(0);
    }
  }
}

template <class T>
void dropout_apply_cpu(const T* x, const T* mask, T* y, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) y[i] = x[i] * mask[i];
}

template void dropout_mask_cpu<float>(float*, int64_t, uint64_t, uint64_t, uint32_t, float);
template void dropout_mask_cpu<double>(double*, int64_t, uint64_t, uint64_t, uint32_t, double);
template void dropout_apply_cpu<float>(const float*, const float*, float*, int64_t);
template void dropout_apply_cpu<double>(const double*, const double*, double*, int64_t);

}  // namespace sirs
