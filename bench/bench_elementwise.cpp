// Elementwise and reduction ops: memory-bound, reported in GB/s of bytes
// the op must move (each input element read once, each output written
// once). Each bench checks its result once before timing. OpenBLAS saxpy
// is the baseline for the in-place add.
//   make -j2 build/sirs_bench && ./build/sirs_bench --benchmark_filter='elementwise|sum'
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <cmath>

#include "autograd/elementwise.h"
#include "autograd/reduce.h"

using namespace sirs;

namespace {

// Skips the bench (with the reason) unless every element of t equals v.
bool check_all(benchmark::State& st, const Tensor& t, double v) {
  for (double x : t.to_vector()) {
    if (std::fabs(x - v) > 1e-3 * std::max(1.0, std::fabs(v))) {
      st.SkipWithError("wrong result");
      return false;
    }
  }
  return true;
}

}  // namespace

// [N] + [N], both contiguous: the flat vectorised loop.
static void BM_elementwise_add_contiguous(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor a = ones({n}), b = full({n}, 2.0);
  if (!check_all(st, add(a, b), 3.0)) return;
  for (auto _ : st) benchmark::DoNotOptimize(add(a, b).raw_data());
  st.SetBytesProcessed(st.iterations() * n * 3 * 4);
}
BENCHMARK(BM_elementwise_add_contiguous)->Arg(1 << 16)->Arg(1 << 22)->Unit(benchmark::kMicrosecond)->UseRealTime();

// [B, C] + [C]: a bias add, the broadcast operand has stride 0 along B.
static void BM_elementwise_add_broadcast(benchmark::State& st) {
  int64_t b = st.range(0), c = st.range(1);
  Tensor x = ones({b, c}), bias = full({c}, 2.0);
  if (!check_all(st, add(x, bias), 3.0)) return;
  for (auto _ : st) benchmark::DoNotOptimize(add(x, bias).raw_data());
  st.SetBytesProcessed(st.iterations() * (2 * b * c + c) * 4);
}
BENCHMARK(BM_elementwise_add_broadcast)->Args({4096, 1024})->Args({65536, 64})
    ->Unit(benchmark::kMicrosecond)->UseRealTime();

// [B, C, H, W] + [C, 1, 1]: a per-channel add, broadcast in the middle.
static void BM_elementwise_add_channel(benchmark::State& st) {
  Tensor x = ones({8, 64, 64, 64}), bias = full({64, 1, 1}, 2.0);
  if (!check_all(st, add(x, bias), 3.0)) return;
  for (auto _ : st) benchmark::DoNotOptimize(add(x, bias).raw_data());
  st.SetBytesProcessed(st.iterations() * (2 * x.numel() + 64) * 4);
}
BENCHMARK(BM_elementwise_add_channel)->Unit(benchmark::kMicrosecond)->UseRealTime();

// dst += alpha * src (optimizer-style), against OpenBLAS saxpy.
static void BM_elementwise_add_inplace(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor d = zeros({n}), s = ones({n});
  for (auto _ : st) add_(d, s, 1e-3);
  st.SetBytesProcessed(st.iterations() * n * 3 * 4);
}
BENCHMARK(BM_elementwise_add_inplace)->Arg(1 << 22)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_elementwise_saxpy_openblas(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor d = zeros({n}), s = ones({n});
  for (auto _ : st) cblas_saxpy(static_cast<int>(n), 1e-3f, s.data<float>(), 1, d.data<float>(), 1);
  st.SetBytesProcessed(st.iterations() * n * 3 * 4);
}
BENCHMARK(BM_elementwise_saxpy_openblas)->Arg(1 << 22)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_elementwise_sigmoid(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor x = zeros({n});
  if (!check_all(st, sigmoid(x), 0.5)) return;
  for (auto _ : st) benchmark::DoNotOptimize(sigmoid(x).raw_data());
  st.SetBytesProcessed(st.iterations() * n * 2 * 4);
}
BENCHMARK(BM_elementwise_sigmoid)->Arg(1 << 22)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Sum over the last dim of [R, C]: contiguous rows.
static void BM_sum_last_dim(benchmark::State& st) {
  int64_t r = st.range(0), c = st.range(1);
  Tensor x = ones({r, c});
  if (!check_all(st, sum(x, {1}), static_cast<double>(c))) return;
  for (auto _ : st) benchmark::DoNotOptimize(sum(x, {1}).raw_data());
  st.SetBytesProcessed(st.iterations() * (r * c + r) * 4);
}
BENCHMARK(BM_sum_last_dim)->Args({4096, 1024})->Args({64, 65536})->Unit(benchmark::kMicrosecond)->UseRealTime();

// Sum over the first dim of [R, C]: column sums, row by row.
static void BM_sum_first_dim(benchmark::State& st) {
  int64_t r = st.range(0), c = st.range(1);
  Tensor x = ones({r, c});
  if (!check_all(st, sum(x, {0}), static_cast<double>(r))) return;
  for (auto _ : st) benchmark::DoNotOptimize(sum(x, {0}).raw_data());
  st.SetBytesProcessed(st.iterations() * (r * c + c) * 4);
}
BENCHMARK(BM_sum_first_dim)->Args({4096, 1024})->Args({262144, 16})->Unit(benchmark::kMicrosecond)->UseRealTime();

// [B, C, H, W] summed over {0, 2, 3} (a bias gradient): two runs of
// reduced dims, reduced in two passes without copying the input.
static void BM_sum_bias_grad(benchmark::State& st) {
  Tensor x = ones({8, 64, 64, 64});
  if (!check_all(st, sum(x, {0, 2, 3}), 8.0 * 64 * 64)) return;
  for (auto _ : st) benchmark::DoNotOptimize(sum(x, {0, 2, 3}).raw_data());
  st.SetBytesProcessed(st.iterations() * (x.numel() + 64) * 4);
}
BENCHMARK(BM_sum_bias_grad)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Everything to one number.
static void BM_sum_all(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor x = ones({n});
  if (!check_all(st, sum(x), static_cast<double>(n))) return;
  for (auto _ : st) benchmark::DoNotOptimize(sum(x).raw_data());
  st.SetBytesProcessed(st.iterations() * n * 4);
}
BENCHMARK(BM_sum_all)->Arg(1 << 22)->Unit(benchmark::kMicrosecond)->UseRealTime();
