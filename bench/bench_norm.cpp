// Normalisation kernels, float32. Batch norm training forward (batch
// statistics, then normalise) and backward (dx, dweight, dbias) at
// [8, 64, 64, 64] and [8, 256, 16, 16]; group norm with 128 groups over 128
// channels (the SIRS decoder's gn1) at [8, 128, 64, 64]. Reported in GB/s of
// compulsory traffic: forward reads x and writes y, backward reads dout and x
// and writes dx. The batch norm backward is checked once before timing:
// in training, dx sums to zero over each channel.
//
//   make -j2 build/sirs_bench && ./build/sirs_bench --benchmark_filter=norm
#include <benchmark/benchmark.h>

#include <cmath>
#include <vector>

#include "kernels/norm.h"
#include "tensor/tensor.h"

using namespace sirs;

namespace {

const Shape kBatchNormShapes[] = {{8, 64, 64, 64}, {8, 256, 16, 16}};

void batch_norm_train_forward(const Tensor& x, const Tensor& w, const Tensor& b, Tensor& mean,
                              Tensor& var, Tensor& invstd, Tensor& y) {
  const int64_t B = x.size(0), C = x.size(1), S = x.numel() / (B * C);
  batch_norm_stats_cpu<float>(x.data<float>(), mean.data<float>(), var.data<float>(), B, C, S);
  for (int64_t c = 0; c < C; ++c)
    invstd.data<float>()[c] = 1.0f / std::sqrt(var.data<float>()[c] + 1e-5f);
  batch_norm_forward_cpu<float>(x.data<float>(), mean.data<float>(), invstd.data<float>(),
                                w.data<float>(), b.data<float>(), y.data<float>(), B, C, S);
}

}  // namespace

static void BM_batch_norm_train(benchmark::State& st) {
  const Shape& s = kBatchNormShapes[st.range(0)];
  const bool backward = st.range(1) != 0;
  const int64_t B = s[0], C = s[1], S = shape_numel(s) / (B * C);
  Tensor x = randn(s), y = empty(s), g = randn(s), dx = empty(s);
  Tensor w = ones({C}), b = zeros({C}), mean = empty({C}), var = empty({C}), invstd = empty({C});
  Tensor dw = empty({C}), db = empty({C});
  batch_norm_train_forward(x, w, b, mean, var, invstd, y);
  auto run_backward = [&] {
    batch_norm_backward_cpu<float>(g.data<float>(), x.data<float>(), mean.data<float>(),
                                   invstd.data<float>(), w.data<float>(), dx.data<float>(),
                                   dw.data<float>(), db.data<float>(), B, C, S, true, 0.0);
  };
  run_backward();
  for (int64_t c = 0; c < C; ++c) {
    double sum = 0;
    for (int64_t bb = 0; bb < B; ++bb)
      for (int64_t i = 0; i < S; ++i) sum += dx.data<float>()[(bb * C + c) * S + i];
    if (std::abs(sum) > 1e-2) {
      st.SkipWithError("batch_norm backward: dx does not sum to zero per channel");
      return;
    }
  }
  for (auto _ : st) {
    if (backward)
      run_backward();
    else
      batch_norm_train_forward(x, w, b, mean, var, invstd, y);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * x.numel() * 4 * (backward ? 3 : 2));
  st.SetLabel(str_cat(shape_str(s), backward ? " backward" : " forward"));
}
BENCHMARK(BM_batch_norm_train)
    ->Args({0, 0})->Args({0, 1})->Args({1, 0})->Args({1, 1})
    ->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_group_norm_128(benchmark::State& st) {
  const bool backward = st.range(0) != 0;
  const int64_t B = 8, C = 128, S = 64 * 64, G = 128;
  Tensor x = randn({B, C, S}), y = empty({B, C, S}), g = randn({B, C, S}), dx = empty({B, C, S});
  Tensor w = ones({C}), b = zeros({C}), mean = empty({B * G}), invstd = empty({B * G});
  Tensor dw = empty({C}), db = empty({C});
  auto fwd = [&] {
    group_norm_forward_cpu<float>(x.data<float>(), w.data<float>(), b.data<float>(),
                                  y.data<float>(), mean.data<float>(), invstd.data<float>(), B, C,
                                  S, G, 1e-5);
  };
  fwd();
  for (auto _ : st) {
    if (backward)
      group_norm_backward_cpu<float>(g.data<float>(), x.data<float>(), mean.data<float>(),
                                     invstd.data<float>(), w.data<float>(), dx.data<float>(),
                                     dw.data<float>(), db.data<float>(), B, C, S, G, 0.0);
    else
      fwd();
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * x.numel() * 4 * (backward ? 3 : 2));
  st.SetLabel(backward ? "[8,128,64,64] G=128 backward" : "[8,128,64,64] G=128 forward");
}
BENCHMARK(BM_group_norm_128)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
