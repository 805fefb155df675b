// Adaptive average / max pooling on the CPU (contract: kernels/adaptive_pool.h).
//   window(o) = [floor(o * In / Out), ceil((o + 1) * In / Out))   per axis
// Reference loops, parallel over the N = B * C planes; the sum for the
// average runs in double. One version: these reference loops.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='AdaptivePool*'
#include <algorithm>
#include <cmath>
#include <limits>

#include "kernels/adaptive_pool.h"

namespace sirs {

namespace {
inline int64_t win_start(int64_t o, int64_t in, int64_t out) { return (o * in) / out; }
inline int64_t win_end(int64_t o, int64_t in, int64_t out) {
  return ((o + 1) * in + out - 1) / out;
}

template <class T>
void scale_or_zero(T* p, int64_t n, double beta) {
  if (beta == 0.0) {
    std::fill(p, p + n, T(0));
  } else {
    for (int64_t i = 0; i < n; ++i) p[i] = static_cast<T>(beta * p[i]);
  }
}
}  // namespace

template <class T>
void adaptive_avg_pool2d_forward_cpu(const T* x, T* out, int64_t N, int64_t H, int64_t W,
                                     int64_t OH, int64_t OW) {
#pragma omp parallel for schedule(static) if (N * H * W > 32768)
  for (int64_t n = 0; n < N; ++n) {
    const T* xp = x + n * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      int64_t h0 = win_start(oh, H, OH), h1 = win_end(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t w0 = win_start(ow, W, OW), w1 = win_end(ow, W, OW);
        double s = 0;
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) s += static_cast<double>(xp[h * W + w]);
        double count = static_cast<double>((h1 - h0) * (w1 - w0));
        out[(n * OH + oh) * OW + ow] = static_cast<T>(s / count);
      }
    }
  }
}

template <class T>
void adaptive_avg_pool2d_backward_cpu(const T* dout, T* dx, int64_t N, int64_t H, int64_t W,
                                      int64_t OH, int64_t OW, double beta) {
#pragma omp parallel for schedule(static) if (N * H * W > 32768)
  for (int64_t n = 0; n < N; ++n) {
    T* dp = dx + n * H * W;
    scale_or_zero(dp, H * W, beta);
    for (int64_t oh = 0; oh < OH; ++oh) {
      int64_t h0 = win_start(oh, H, OH), h1 = win_end(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t w0 = win_start(ow, W, OW), w1 = win_end(ow, W, OW);
        T g = dout[(n * OH + oh) * OW + ow] / static_cast<T>((h1 - h0) * (w1 - w0));
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) dp[h * W + w] += g;
      }
    }
  }
}

template <class T>
void adaptive_max_pool2d_forward_cpu(const T* x, T* out, int64_t* indices, int64_t N, int64_t H,
                                     int64_t W, int64_t OH, int64_t OW) {
#pragma omp parallel for schedule(static) if (N * H * W > 32768)
  for (int64_t n = 0; n < N; ++n) {
    const T* xp = x + n * H * W;
    for (int64_t oh = 0; oh < OH; ++oh) {
      int64_t h0 = win_start(oh, H, OH), h1 = win_end(oh, H, OH);
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t w0 = win_start(ow, W, OW), w1 = win_end(ow, W, OW);
        int64_t best = h0 * W + w0;
        T m = xp[best];
        for (int64_t h = h0; h < h1; ++h)
          for (int64_t w = w0; w < w1; ++w) {
            T v = xp[h * W + w];
            // Strictly greater keeps the first maximum; a NaN wins once.
            if (v > m || (std::isnan(v) && !std::isnan(m))) {
              m = v;
              best = h * W + w;
            }
          }
        out[(n * OH + oh) * OW + ow] = m;
        indices[(n * OH + oh) * OW + ow] = best;
      }
    }
  }
}

template <class T>
void adaptive_max_pool2d_backward_cpu(const T* dout, const int64_t* indices, T* dx, int64_t N,
                                      int64_t H, int64_t W, int64_t OH, int64_t OW, double beta) {
#pragma omp parallel for schedule(static) if (N * H * W > 32768)
  for (int64_t n = 0; n < N; ++n) {
    T* dp = dx + n * H * W;
    scale_or_zero(dp, H * W, beta);
    for (int64_t k = n * OH * OW; k < (n + 1) * OH * OW; ++k) dp[indices[k]] += dout[k];
  }
}

#define SIRS_INSTANTIATE(T)                                                                      \
  template void adaptive_avg_pool2d_forward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t,      \
                                                   int64_t, int64_t);                            \
  template void adaptive_avg_pool2d_backward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t,     \
                                                    int64_t, int64_t, double);                   \
  template void adaptive_max_pool2d_forward_cpu<T>(const T*, T*, int64_t*, int64_t, int64_t,     \
                                                   int64_t, int64_t, int64_t);                   \
  template void adaptive_max_pool2d_backward_cpu<T>(const T*, const int64_t*, T*, int64_t,       \
                                                    int64_t, int64_t, int64_t, int64_t, double);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
