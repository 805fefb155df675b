// max_pool2d on the CPU (contract and formula: kernels/pool.h). One plane
// (b, c) per OpenMP iteration; within a plane, the window is clipped to the
// image so padding never needs to be materialised as -inf. Memory-bound.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Pool*'
#include <algorithm>

#include "kernels/pool.h"

namespace sirs {

template <class T>
void max_pool2d_forward_cpu(const Pool2dGeom& g, const T* x, T* y, int64_t* idx) {
  const int64_t HW = g.H * g.W, P = g.Ho * g.Wo;
#pragma omp parallel for schedule(static) if (g.B * g.C * P * g.kernel * g.kernel > (1 << 15))
  for (int64_t plane = 0; plane < g.B * g.C; ++plane) {
    const T* xp = x + plane * HW;
    T* yp = y + plane * P;
    int64_t* ip = idx + plane * P;
    for (int64_t oh = 0; oh < g.Ho; ++oh) {
      const int64_t h0 = std::max<int64_t>(0, oh * g.stride - g.pad);
      const int64_t h1 = std::min<int64_t>(g.H, oh * g.stride - g.pad + g.kernel);
      for (int64_t ow = 0; ow < g.Wo; ++ow) {
        const int64_t w0 = std::max<int64_t>(0, ow * g.stride - g.pad);
        const int64_t w1 = std::min<int64_t>(g.W, ow * g.stride - g.pad + g.kernel);
        int64_t best = h0 * g.W + w0;
        T m = xp[best];
        for (int64_t ih = h0; ih < h1; ++ih)
          for (int64_t iw = w0; iw < w1; ++iw) {
            const T v = xp[ih * g.W + iw];
            // Strictly greater keeps the first maximum; NaN propagates as in PyTorch.
            if (v > m || (v != v && m == m)) {
              m = v;
              best = ih * g.W + iw;
            }
          }
        yp[oh * g.Wo + ow] = m;
        ip[oh * g.Wo + ow] = best;
      }
    }
  }
}

template <class T>
void max_pool2d_backward_cpu(const Pool2dGeom& g, const T* dy, const int64_t* idx, T beta, T* dx) {
  const int64_t HW = g.H * g.W, P = g.Ho * g.Wo;
#pragma omp parallel for schedule(static) if (g.B * g.C * (HW + P) > (1 << 15))
  for (int64_t plane = 0; plane < g.B * g.C; ++plane) {
    T* dp = dx + plane * HW;
    if (beta == T(0)) {
      std::fill(dp, dp + HW, T(0));
    } else if (beta != T(1)) {
      for (int64_t i = 0; i < HW; ++i) dp[i] *= beta;
    }
    const T* gp = dy + plane * P;
    const int64_t* ip = idx + plane * P;
    for (int64_t p = 0; p < P; ++p) dp[ip[p]] += gp[p];
  }
}

#define SIRS_INSTANTIATE(T)                                                                 \
  template void max_pool2d_forward_cpu<T>(const Pool2dGeom&, const T*, T*, int64_t*);      \
  template void max_pool2d_backward_cpu<T>(const Pool2dGeom&, const T*, const int64_t*, T, \
                                           T*);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
