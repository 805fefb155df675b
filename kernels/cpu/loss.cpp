// Cross-entropy and cosine similarity, forward and backward, on the CPU
// (contract: kernels/loss.h).
//   loss[b, s] = w[y] * (log sum_k exp(x[b, k, s]) - x[b, y, s]),  y = target[b, s]
// Layout logits [B, K, S]: for a fixed (b, k) the S spatial values are
// contiguous, so the loops walk a tile of adjacent pixels through the K
// classes and the innermost loop is unit-stride (S = 1 degenerates to one
// row per tile). The log-sum-exp subtracts the max first and sums in double.
// Each (b, tile) is owned by one thread: no races, deterministic results.
//
// Cosine similarity: one pair of rows per m, norms and dot in double,
//   out = a.b / max(|a||b|, eps); OpenMP over m.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='NN*CrossEntropy*:NN*Cosine*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=cross_entropy
#include "kernels/loss.h"

#include <algorithm>
#include <cmath>

namespace sirs {

namespace {
constexpr int64_t kTile = 64;
}

template <class T>
void cross_entropy_forward_cpu(const T* logits, const int64_t* target, const T* weight,
                               int64_t ignore_index, int64_t B, int64_t K, int64_t S, T* loss,
                               T* lse) {
  if (K == 0) return;
  int64_t tiles = (S + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (B * K * S > 16384)
  for (int64_t job = 0; job < B * tiles; ++job) {
    int64_t b = job / tiles;
    int64_t s0 = (job % tiles) * kTile, w = std::min(S, s0 + kTile) - s0;
    const T* xp = logits + b * K * S + s0;
    T m[kTile];
    double sum[kTile];
    for (int64_t i = 0; i < w; ++i) {
      m[i] = xp[i];
      sum[i] = 0;
    }
    for (int64_t k = 1; k < K; ++k)
      for (int64_t i = 0; i < w; ++i) m[i] = std::max(m[i], xp[k * S + i]);
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < w; ++i) sum[i] += std::exp(xp[k * S + i] - m[i]);
    for (int64_t i = 0; i < w; ++i) {
      int64_t e = b * S + s0 + i;
      T l = m[i] + static_cast<T>(std::log(sum[i]));
      lse[e] = l;
      int64_t y = target[e];
      if (y == ignore_index) {
        loss[e] = 0;
      } else {
        T wy = weight ? weight[y] : T(1);
        loss[e] = wy * (l - xp[y * S + i]);
      }
    }
  }
}

template <class T>
void cross_entropy_backward_cpu(const T* logits, const int64_t* target, const T* weight,
                                int64_t ignore_index, const T* lse, const T* g, int64_t g_stride,
                                int64_t B, int64_t K, int64_t S, T* dlogits) {
  int64_t tiles = (S + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (B * K * S > 16384)
  for (int64_t job = 0; job < B * tiles; ++job) {
    int64_t b = job / tiles;
    int64_t s0 = (job % tiles) * kTile, w = std::min(S, s0 + kTile) - s0;
    const T* xp = logits + b * K * S + s0;
    T* dp = dlogits + b * K * S + s0;
    // c = g * w[y] scales the whole class column; 0 for ignored elements.
    T c[kTile], l[kTile];
    int64_t y[kTile];
    for (int64_t i = 0; i < w; ++i) {
      int64_t e = b * S + s0 + i;
      y[i] = target[e];
      l[i] = lse[e];
      if (y[i] == ignore_index) {
        c[i] = 0;
        y[i] = -1;
      } else {
        c[i] = g[e * g_stride] * (weight ? weight[y[i]] : T(1));
      }
    }
    for (int64_t k = 0; k < K; ++k)
      for (int64_t i = 0; i < w; ++i)
        dp[k * S + i] = c[i] * (std::exp(xp[k * S + i] - l[i]) - (k == y[i] ? T(1) : T(0)));
  }
}

namespace {
struct Dots {
  double ab = 0, aa = 0, bb = 0;
};
template <class T>
Dots row_dots(const T* a, const T* b, int64_t D) {
  Dots r;
  for (int64_t d = 0; d < D; ++d) {
    r.ab += static_cast<double>(a[d]) * b[d];
    r.aa += static_cast<double>(a[d]) * a[d];
    r.bb += static_cast<double>(b[d]) * b[d];
  }
  return r;
}
}  // namespace

template <class T>
void cosine_similarity_forward_cpu(const T* a, const T* b, int64_t M, int64_t D, double eps,
                                   T* out) {
#pragma omp parallel for schedule(static) if (M * D > 32768)
  for (int64_t m = 0; m < M; ++m) {
    Dots r = row_dots(a + m * D, b + m * D, D);
    out[m] = static_cast<T>(r.ab / std::max(std::sqrt(r.aa) * std::sqrt(r.bb), eps));
  }
}

template <class T>
void cosine_similarity_backward_cpu(const T* a, const T* b, const T* dout, int64_t M, int64_t D,
                                    double eps, T* da, T* db) {
#pragma omp parallel for schedule(static) if (M * D > 32768)
  for (int64_t m = 0; m < M; ++m) {
    const T* ap = a + m * D;
    const T* bp = b + m * D;
    Dots r = row_dots(ap, bp, D);
    double na = std::sqrt(r.aa), nb = std::sqrt(r.bb), n = na * nb, g = dout[m];
    // Coefficients of da = ca_b * b + ca_a * a and db = cb_a * a + cb_b * b.
    double ca_b, ca_a, cb_a, cb_b;
    if (n > eps) {
      double out = r.ab / n;
      ca_b = g / n;
      ca_a = -g * out / r.aa;
      cb_a = g / n;
      cb_b = -g * out / r.bb;
    } else {
      ca_b = cb_a = g / eps;
      ca_a = cb_b = 0;
    }
    for (int64_t d = 0; d < D; ++d) {
      da[m * D + d] = static_cast<T>(ca_b * bp[d] + ca_a * ap[d]);
      db[m * D + d] = static_cast<T>(cb_a * ap[d] + cb_b * bp[d]);
    }
  }
}

#define SIRS_INSTANTIATE(T)                                                                    \
  template void cross_entropy_forward_cpu<T>(const T*, const int64_t*, const T*, int64_t,      \
                                             int64_t, int64_t, int64_t, T*, T*);               \
  template void cross_entropy_backward_cpu<T>(const T*, const int64_t*, const T*, int64_t,     \
                                              const T*, const T*, int64_t, int64_t, int64_t,   \
                                              int64_t, T*);                              \
  template void cosine_similarity_forward_cpu<T>(const T*, const T*, int64_t, int64_t, double, \
                                                 T*);                                          \
  template void cosine_similarity_backward_cpu<T>(const T*, const T*, const T*, int64_t,       \
                                                  int64_t, double, T*, T*);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
