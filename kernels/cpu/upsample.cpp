// Bilinear resampling on the CPU (contract and formula: kernels/upsample.h).
// The per-row and per-column source indices and weights are tabulated once
// per call; the plane loop is split across OpenMP threads. Backward gives
// each thread whole planes, so the scatter needs no atomics. One version:
// these reference loops (the CUDA one is issue #3).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Upsample*'
// Bench: make -j2 build/sirs_bench && ./build/sirs_bench --benchmark_filter=bilinear
#include <algorithm>
#include <vector>

#include "kernels/upsample.h"

namespace sirs {

namespace {

// Source neighbours and weights along one axis of size in -> out.
template <class T>
struct AxisTable {
  std::vector<int64_t> i0, i1;
  std::vector<T> l0, l1;  // weights of i0 and i1
};

template <class T>
AxisTable<T> make_axis(int64_t in, int64_t out, bool align_corners) {
  AxisTable<T> t;
  t.i0.resize(out);
  t.i1.resize(out);
  t.l0.resize(out);
  t.l1.resize(out);
  double scale;
  if (align_corners)
    scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  else
    scale = static_cast<double>(in) / static_cast<double>(out);
  for (int64_t o = 0; o < out; ++o) {
    double src = align_corners ? scale * static_cast<double>(o)
                               : std::max(scale * (static_cast<double>(o) + 0.5) - 0.5, 0.0);
    int64_t i0 = std::min(static_cast<int64_t>(src), in - 1);
    double lam = src - static_cast<double>(i0);
    t.i0[o] = i0;
    t.i1[o] = std::min(i0 + 1, in - 1);
    t.l1[o] = static_cast<T>(lam);
    t.l0[o] = static_cast<T>(1.0 - lam);
  }
  return t;
}

}  // namespace

template <class T>
void upsample_bilinear2d_forward_cpu(const T* x, T* out, int64_t N, int64_t H, int64_t W,
                                     int64_t OH, int64_t OW, bool align_corners) {
  AxisTable<T> th = make_axis<T>(H, OH, align_corners);
  AxisTable<T> tw = make_axis<T>(W, OW, align_corners);
#pragma omp parallel for schedule(static) if (N * OH * OW > 32768)
  for (int64_t n = 0; n < N; ++n) {
    const T* xp = x + n * H * W;
    T* op = out + n * OH * OW;
    for (int64_t oh = 0; oh < OH; ++oh) {
      const T* r0 = xp + th.i0[oh] * W;
      const T* r1 = xp + th.i1[oh] * W;
      T lh0 = th.l0[oh], lh1 = th.l1[oh];
      T* orow = op + oh * OW;
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
        T lw0 = tw.l0[ow], lw1 = tw.l1[ow];
        orow[ow] = lh0 * (lw0 * r0[w0] + lw1 * r0[w1]) + lh1 * (lw0 * r1[w0] + lw1 * r1[w1]);
      }
    }
  }
}

template <class T>
void upsample_bilinear2d_backward_cpu(const T* dout, T* dx, int64_t N, int64_t H, int64_t W,
                                      int64_t OH, int64_t OW, bool align_corners, double beta) {
  AxisTable<T> th = make_axis<T>(H, OH, align_corners);
  AxisTable<T> tw = make_axis<T>(W, OW, align_corners);
  const T b = static_cast<T>(beta);
#pragma omp parallel for schedule(static) if (N * OH * OW > 32768)
  for (int64_t n = 0; n < N; ++n) {
    T* dp = dx + n * H * W;
    const T* gp = dout + n * OH * OW;
    if (beta == 0.0) {
      std::fill(dp, dp + H * W, T(0));
    } else {
      for (int64_t i = 0; i < H * W; ++i) dp[i] *= b;
    }
    for (int64_t oh = 0; oh < OH; ++oh) {
      T* r0 = dp + th.i0[oh] * W;
      T* r1 = dp + th.i1[oh] * W;
      T lh0 = th.l0[oh], lh1 = th.l1[oh];
      const T* grow = gp + oh * OW;
      for (int64_t ow = 0; ow < OW; ++ow) {
        int64_t w0 = tw.i0[ow], w1 = tw.i1[ow];
        T lw0 = tw.l0[ow], lw1 = tw.l1[ow];
        T g = grow[ow];
        r0[w0] += lh0 * lw0 * g;
        r0[w1] += lh0 * lw1 * g;
        r1[w0] += lh1 * lw0 * g;
        r1[w1] += lh1 * lw1 * g;
      }
    }
  }
}

#define SIRS_INSTANTIATE(T)                                                                   \
  template void upsample_bilinear2d_forward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t,   \
                                                   int64_t, int64_t, bool);                   \
  template void upsample_bilinear2d_backward_cpu<T>(const T*, T*, int64_t, int64_t, int64_t,  \
                                                    int64_t, int64_t, bool, double);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
