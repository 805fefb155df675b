// Softmax / log-softmax forward and backward on the CPU (contract:
// kernels/softmax.h). Formula, per row of D values along the softmax dim:
//   m = max x, s = sum exp(x - m), softmax = exp(x - m) / s,
//   log_softmax = x - m - log s.
// Layout [outer, D, inner]. For inner = 1 a row is contiguous; otherwise a
// "row" is a column of stride inner, and the loops run over a tile of
// adjacent columns at once so the innermost loop is unit-stride. Sums are
// accumulated in double so float32 rows of thousands of entries stay exact
// to float rounding. OpenMP over (outer, column tile).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='NN*Softmax*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=softmax
#include "kernels/softmax.h"

#include <algorithm>
#include <cmath>

namespace sirs {

namespace {
constexpr int64_t kTile = 64;  // columns processed together when inner > 1
}

template <class T>
void softmax_forward_cpu(const T* x, T* y, int64_t outer, int64_t D, int64_t inner, bool log) {
  if (D == 0) return;
  int64_t tiles = (inner + kTile - 1) / kTile;
  int64_t jobs = outer * tiles;
#pragma omp parallel for schedule(static) if (outer * D * inner > 16384)
  for (int64_t job = 0; job < jobs; ++job) {
    int64_t o = job / tiles;
    int64_t i0 = (job % tiles) * kTile, i1 = std::min(inner, i0 + kTile);
    int64_t w = i1 - i0;
    const T* xp = x + o * D * inner + i0;
    T* yp = y + o * D * inner + i0;
    T m[kTile];
    double s[kTile];
    for (int64_t i = 0; i < w; ++i) {
      m[i] = xp[i];
      s[i] = 0;
    }
    for (int64_t d = 1; d < D; ++d)
      for (int64_t i = 0; i < w; ++i) m[i] = std::max(m[i], xp[d * inner + i]);
    for (int64_t d = 0; d < D; ++d)
      for (int64_t i = 0; i < w; ++i) {
        T e = std::exp(xp[d * inner + i] - m[i]);
        if (!log) yp[d * inner + i] = e;
        s[i] += e;
      }
    if (log) {
      // (x - m) - log s rather than x - (m + log s): for large |x| the
      // latter rounds m + log s to the coarse spacing of m.
      T ls[kTile];
      for (int64_t i = 0; i < w; ++i) ls[i] = static_cast<T>(std::log(s[i]));
      for (int64_t d = 0; d < D; ++d)
        for (int64_t i = 0; i < w; ++i) yp[d * inner + i] = (xp[d * inner + i] - m[i]) - ls[i];
    } else {
      T r[kTile];
      for (int64_t i = 0; i < w; ++i) r[i] = static_cast<T>(1.0 / s[i]);
      for (int64_t d = 0; d < D; ++d)
        for (int64_t i = 0; i < w; ++i) yp[d * inner + i] *= r[i];
    }
  }
}

template <class T>
void softmax_backward_cpu(const T* y, const T* dy, T* dx, int64_t outer, int64_t D, int64_t inner,
                          bool log) {
  int64_t tiles = (inner + kTile - 1) / kTile;
  int64_t jobs = outer * tiles;
#pragma omp parallel for schedule(static) if (outer * D * inner > 16384)
  for (int64_t job = 0; job < jobs; ++job) {
    int64_t o = job / tiles;
    int64_t i0 = (job % tiles) * kTile, i1 = std::min(inner, i0 + kTile);
    int64_t w = i1 - i0;
    int64_t base = o * D * inner + i0;
    const T* yp = y + base;
    const T* gp = dy + base;
    T* dp = dx + base;
    double s[kTile];
    for (int64_t i = 0; i < w; ++i) s[i] = 0;
    if (log) {
      // d/dx_j of sum_d dy_d (x_d - lse) = dy_j - softmax_j * sum_d dy_d.
      for (int64_t d = 0; d < D; ++d)
        for (int64_t i = 0; i < w; ++i) s[i] += gp[d * inner + i];
      for (int64_t d = 0; d < D; ++d)
        for (int64_t i = 0; i < w; ++i)
          dp[d * inner + i] =
              gp[d * inner + i] - std::exp(yp[d * inner + i]) * static_cast<T>(s[i]);
    } else {
      // Jacobian diag(y) - y y^T applied to dy.
      for (int64_t d = 0; d < D; ++d)
        for (int64_t i = 0; i < w; ++i) s[i] += yp[d * inner + i] * gp[d * inner + i];
      for (int64_t d = 0; d < D; ++d)
        for (int64_t i = 0; i < w; ++i)
          dp[d * inner + i] = yp[d * inner + i] * (gp[d * inner + i] - static_cast<T>(s[i]));
    }
  }
}

template void softmax_forward_cpu<float>(const float*, float*, int64_t, int64_t, int64_t, bool);
template void softmax_forward_cpu<double>(const double*, double*, int64_t, int64_t, int64_t, bool);
template void softmax_backward_cpu<float>(const float*, const float*, float*, int64_t, int64_t,
                                          int64_t, bool);
template void softmax_backward_cpu<double>(const double*, const double*, double*, int64_t, int64_t,
                                           int64_t, bool);

}  // namespace sirs
