// Strided copy (contiguous() of a permuted tensor) and dtype conversion:
// memory-bound, reported in GB/s (bytes read + written).
#include <benchmark/benchmark.h>

#include "tensor/tensor.h"

using namespace sirs;

static void BM_contiguous_permuted(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor t = randn({8, n, n, 64}).permute({0, 3, 1, 2});
  for (auto _ : st) benchmark::DoNotOptimize(view::contiguous(t).raw_data());
  st.SetBytesProcessed(st.iterations() * t.numel() * 8);
}
BENCHMARK(BM_contiguous_permuted)->Arg(32)->Arg(64)->Unit(benchmark::kMillisecond);

static void BM_to_bf16(benchmark::State& st) {
  Tensor t = randn({st.range(0)});
  for (auto _ : st) benchmark::DoNotOptimize(view::to_dtype(t, DType::BF16).raw_data());
  st.SetBytesProcessed(st.iterations() * t.numel() * 6);
}
BENCHMARK(BM_to_bf16)->Arg(1 << 22)->Unit(benchmark::kMillisecond);

