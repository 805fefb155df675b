// Bilinear resampling kernels at the SIRS decoder shapes (align_corners =
// true): [8, 128, 32, 32] -> 64x64 and [8, 15, 64, 64] -> 256x256, plus the
// second shape with align_corners = false. Reported in GB/s of compulsory
// traffic: forward reads x and writes out, backward reads dout and writes
// dx (float32). The kernels are checked against the adjoint identity
// <up(x), g> = <x, up^T(g)> once before timing.
//
//   make -j2 build/sirs_bench && ./build/sirs_bench --benchmark_filter=bilinear
#include <benchmark/benchmark.h>

#include <cmath>

#include "kernels/upsample.h"
#include "tensor/tensor.h"

using namespace sirs;

namespace {

struct BilinearShape {
  int64_t B, C, H, W, OH, OW;
};
const BilinearShape kShapes[] = {{8, 128, 32, 32, 64, 64}, {8, 15, 64, 64, 256, 256}};

bool adjoint_ok(const Tensor& x, const Tensor& y, const Tensor& g, const Tensor& dx) {
  double lhs = 0, rhs = 0;
  const float *xp = x.data<float>(), *yp = y.data<float>(), *gp = g.data<float>(),
              *dp = dx.data<float>();
  for (int64_t i = 0; i < y.numel(); ++i) lhs += static_cast<double>(yp[i]) * gp[i];
  for (int64_t i = 0; i < x.numel(); ++i) rhs += static_cast<double>(xp[i]) * dp[i];
  return std::abs(lhs - rhs) <= 1e-4 * (std::abs(lhs) + 1);
}

void bench_bilinear(benchmark::State& st, bool backward) {
  const BilinearShape& s = kShapes[st.range(0)];
  const bool ac = st.range(1) != 0;
  const int64_t N = s.B * s.C;
  Tensor x = randn({s.B, s.C, s.H, s.W}), y = empty({s.B, s.C, s.OH, s.OW});
  Tensor g = randn({s.B, s.C, s.OH, s.OW}), dx = empty({s.B, s.C, s.H, s.W});
  upsample_bilinear2d_forward_cpu<float>(x.data<float>(), y.data<float>(), N, s.H, s.W, s.OH, s.OW,
                                         ac);
  upsample_bilinear2d_backward_cpu<float>(g.data<float>(), dx.data<float>(), N, s.H, s.W, s.OH,
                                          s.OW, ac, 0.0);
  if (!adjoint_ok(x, y, g, dx)) {
    st.SkipWithError("bilinear forward/backward are not adjoint");
    return;
  }
  for (auto _ : st) {
    if (backward)
      upsample_bilinear2d_backward_cpu<float>(g.data<float>(), dx.data<float>(), N, s.H, s.W, s.OH,
                                              s.OW, ac, 0.0);
    else
      upsample_bilinear2d_forward_cpu<float>(x.data<float>(), y.data<float>(), N, s.H, s.W, s.OH,
                                             s.OW, ac);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * (x.numel() + y.numel()) * 4);
  st.SetLabel(str_cat("[", s.B, ",", s.C, ",", s.H, ",", s.W, "]->", s.OH, "x", s.OW,
                      " align_corners=", ac));
}

}  // namespace

static void BM_bilinear_forward(benchmark::State& st) { bench_bilinear(st, false); }
static void BM_bilinear_backward(benchmark::State& st) { bench_bilinear(st, true); }
// Args: {shape index in kShapes, align_corners}.
BENCHMARK(BM_bilinear_forward)
    ->Args({0, 1})->Args({1, 1})->Args({1, 0})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(BM_bilinear_backward)
    ->Args({0, 1})->Args({1, 1})->Args({1, 0})
    ->Unit(benchmark::kMillisecond)->UseRealTime();
