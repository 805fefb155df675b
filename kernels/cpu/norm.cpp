// Batch / group / layer norm on the CPU (contract and formulas: kernels/norm.h).
// Batch norm runs parallel over channels, group norm over (sample, group)
// for the statistics and dx and over channels for dweight / dbias, so no
// thread ever writes another's outputs. All sums are double. One version:
// these reference loops.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Norm*'
// Bench: make -j2 build/sirs_bench && ./build/sirs_bench --benchmark_filter=norm
#include <cmath>

#include "kernels/norm.h"

namespace sirs {

namespace {
template <class T>
inline void store(T* p, double v, double beta) {
  *p = beta == 0.0 ? static_cast<T>(v) : static_cast<T>(v + beta * static_cast<double>(*p));
}
}  // namespace

template <class T>
void batch_norm_stats_cpu(const T* x, T* mean, T* var, int64_t B, int64_t C, int64_t S) {
  const double n = static_cast<double>(B * S);
#pragma omp parallel for schedule(static) if (B * C * S > 32768)
  for (int64_t c = 0; c < C; ++c) {
    double s = 0;
    for (int64_t b = 0; b < B; ++b) {
      const T* p = x + (b * C + c) * S;
      for (int64_t i = 0; i < S; ++i) s += static_cast<double>(p[i]);
    }
    double mu = s / n, q = 0;
    for (int64_t b = 0; b < B; ++b) {
      const T* p = x + (b * C + c) * S;
      for (int64_t i = 0; i < S; ++i) {
        double d = static_cast<double>(p[i]) - mu;
        q += d * d;
      }
    }
    mean[c] = static_cast<T>(mu);
    var[c] = static_cast<T>(q / n);
  }
}

template <class T>
void batch_norm_forward_cpu(const T* x, const T* mean, const T* invstd, const T* weight,
                            const T* bias, T* out, int64_t B, int64_t C, int64_t S) {
#pragma omp parallel for collapse(2) schedule(static) if (B * C * S > 32768)
  for (int64_t b = 0; b < B; ++b)
    for (int64_t c = 0; c < C; ++c) {
      // y = x * a + k with a = invstd * weight, k = bias - mean * a.
      T a = invstd[c] * (weight ? weight[c] : T(1));
      T k = (bias ? bias[c] : T(0)) - mean[c] * a;
      const T* p = x + (b * C + c) * S;
      T* o = out + (b * C + c) * S;
      for (int64_t i = 0; i < S; ++i) o[i] = p[i] * a + k;
    }
}

template <class T>
void batch_norm_backward_cpu(const T* dout, const T* x, const T* mean, const T* invstd,
                             const T* weight, T* dx, T* dweight, T* dbias, int64_t B, int64_t C,
                             int64_t S, bool training, double beta) {
  const double n = static_cast<double>(B * S);
#pragma omp parallel for schedule(static) if (B * C * S > 32768)
  for (int64_t c = 0; c < C; ++c) {
    const double mu = static_cast<double>(mean[c]), is = static_cast<double>(invstd[c]);
    double sum_dy = 0, sum_dy_xhat = 0;
    for (int64_t b = 0; b < B; ++b) {
      const T* p = x + (b * C + c) * S;
      const T* g = dout + (b * C + c) * S;
      for (int64_t i = 0; i < S; ++i) {
        sum_dy += static_cast<double>(g[i]);
        sum_dy_xhat += static_cast<double>(g[i]) * (static_cast<double>(p[i]) - mu);
      }
    }
    sum_dy_xhat *= is;
    if (dweight) store(dweight + c, sum_dy_xhat, beta);
    if (dbias) store(dbias + c, sum_dy, beta);
    if (!dx) continue;
    const double a = is * (weight ? static_cast<double>(weight[c]) : 1.0);
    // training: dx = a * (dout - sum_dy / n - xhat * sum_dy_xhat / n)
    //              = a * dout - a * (sum_dy / n) - (x - mu) * a * is * sum_dy_xhat / n
    const double k0 = training ? a * sum_dy / n : 0.0;
    const double k1 = training ? a * is * sum_dy_xhat / n : 0.0;
    for (int64_t b = 0; b < B; ++b) {
      const T* p = x + (b * C + c) * S;
      const T* g = dout + (b * C + c) * S;
      T* d = dx + (b * C + c) * S;
      for (int64_t i = 0; i < S; ++i) {
        double v = a * static_cast<double>(g[i]) - k0 - (static_cast<double>(p[i]) - mu) * k1;
        store(d + i, v, beta);
      }
    }
  }
}

template <class T>
void group_norm_forward_cpu(const T* x, const T* weight, const T* bias, T* out, T* mean,
                            T* invstd, int64_t B, int64_t C, int64_t S, int64_t G, double eps) {
  const int64_t K = C / G, m = K * S;
#pragma omp parallel for schedule(static) if (B * C * S > 32768)
  for (int64_t bg = 0; bg < B * G; ++bg) {
    // Channels of group g of sample b are contiguous: [K, S] at bg * m.
    const T* p = x + bg * m;
    double s = 0;
    for (int64_t i = 0; i < m; ++i) s += static_cast<double>(p[i]);
    double mu = s / static_cast<double>(m), q = 0;
    for (int64_t i = 0; i < m; ++i) {
      double d = static_cast<double>(p[i]) - mu;
      q += d * d;
    }
    double is = 1.0 / std::sqrt(q / static_cast<double>(m) + eps);
    mean[bg] = static_cast<T>(mu);
    invstd[bg] = static_cast<T>(is);
    const int64_t c0 = (bg % G) * K;
    T* o = out + bg * m;
    for (int64_t k = 0; k < K; ++k) {
      double a = is * (weight ? static_cast<double>(weight[c0 + k]) : 1.0);
      double sh = (bias ? static_cast<double>(bias[c0 + k]) : 0.0) - mu * a;
      for (int64_t i = 0; i < S; ++i)
        o[k * S + i] = static_cast<T>(static_cast<double>(p[k * S + i]) * a + sh);
    }
  }
}

template <class T>
void group_norm_backward_cpu(const T* dout, const T* x, const T* mean, const T* invstd,
                             const T* weight, T* dx, T* dweight, T* dbias, int64_t B, int64_t C,
                             int64_t S, int64_t G, double beta) {
  const int64_t K = C / G, m = K * S;
  if (dx) {
#pragma omp parallel for schedule(static) if (B * C * S > 32768)
    for (int64_t bg = 0; bg < B * G; ++bg) {
      const T* p = x + bg * m;
      const T* g = dout + bg * m;
      const int64_t c0 = (bg % G) * K;
      const double mu = static_cast<double>(mean[bg]), is = static_cast<double>(invstd[bg]);
      double sum_gw = 0, sum_gw_xhat = 0;
      for (int64_t k = 0; k < K; ++k) {
        double w = weight ? static_cast<double>(weight[c0 + k]) : 1.0;
        for (int64_t i = 0; i < S; ++i) {
          double gw = static_cast<double>(g[k * S + i]) * w;
          sum_gw += gw;
          sum_gw_xhat += gw * (static_cast<double>(p[k * S + i]) - mu);
        }
      }
      sum_gw_xhat *= is;
      const double md = static_cast<double>(m);
      const double k0 = sum_gw / md, k1 = is * sum_gw_xhat / md;
      T* d = dx + bg * m;
      for (int64_t k = 0; k < K; ++k) {
        double w = weight ? static_cast<double>(weight[c0 + k]) : 1.0;
        for (int64_t i = 0; i < S; ++i) {
          double v = is * (static_cast<double>(g[k * S + i]) * w - k0 -
                           (static_cast<double>(p[k * S + i]) - mu) * k1);
          store(d + k * S + i, v, beta);
        }
      }
    }
  }
  if (dweight || dbias) {
#pragma omp parallel for schedule(static) if (B * C * S > 32768)
    for (int64_t c = 0; c < C; ++c) {
      const int64_t grp = c / K;
      double sw = 0, sb = 0;
      for (int64_t b = 0; b < B; ++b) {
        const double mu = static_cast<double>(mean[b * G + grp]);
        const double is = static_cast<double>(invstd[b * G + grp]);
        const T* p = x + (b * C + c) * S;
        const T* g = dout + (b * C + c) * S;
        for (int64_t i = 0; i < S; ++i) {
          sb += static_cast<double>(g[i]);
          sw += static_cast<double>(g[i]) * (static_cast<double>(p[i]) - mu) * is;
        }
      }
      if (dweight) store(dweight + c, sw, beta);
      if (dbias) store(dbias + c, sb, beta);
    }
  }
}

#define SIRS_INSTANTIATE(T)                                                                     \
  template void batch_norm_stats_cpu<T>(const T*, T*, T*, int64_t, int64_t, int64_t);          \
  template void batch_norm_forward_cpu<T>(const T*, const T*, const T*, const T*, const T*, T*, \
                                          int64_t, int64_t, int64_t);                           \
  template void batch_norm_backward_cpu<T>(const T*, const T*, const T*, const T*, const T*,    \
                                           T*, T*, T*, int64_t, int64_t, int64_t, bool,         \
                                           double);                                             \
  template void group_norm_forward_cpu<T>(const T*, const T*, const T*, T*, T*, T*, int64_t,    \
                                          int64_t, int64_t, int64_t, double);                   \
  template void group_norm_backward_cpu<T>(const T*, const T*, const T*, const T*, const T*,    \
                                           T*, T*, T*, int64_t, int64_t, int64_t, int64_t,      \
                                           double);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
