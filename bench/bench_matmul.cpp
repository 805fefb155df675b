// sgemm through gemm_cpu (OpenBLAS): square sizes and the shapes the im2col
// convolutions produce at the ResNet-18 stages (batch 8, 3x3):
//   forward  [K, CRS] x [CRS, B*P]:  64 x 576 x 32768 ... 512 x 4608 x 512
//   filter   [K, B*P] x [B*P, CRS]:  64 x 32768 x 576
// GFLOP/s = 2*M*N*K / time. Checked against a naive product once first.
//
//   make build/sirs_bench && ./build/sirs_bench --benchmark_filter=sgemm --benchmark_min_time=0.2
#include <benchmark/benchmark.h>

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/matmul.h"

using namespace sirs;

namespace {

void check_small(bool ta, bool tb) {
  const int64_t M = 7, N = 5, K = 9;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-1, 1);
  std::vector<float> a(M * K), b(K * N), c(M * N);
  for (auto& v : a) v = d(rng);
  for (auto& v : b) v = d(rng);
  // a is stored [M, K] or (ta) [K, M]; b is [K, N] or (tb) [N, K].
  gemm_cpu<float>(ta, tb, M, N, K, 1.f, a.data(), ta ? M : K, b.data(), tb ? K : N, 0.f, c.data(), N);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) {
      double ref = 0;
      for (int64_t k = 0; k < K; ++k)
        ref += double(ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
      if (std::fabs(ref - c[i * N + j]) > 1e-4) {
        std::fprintf(stderr, "sgemm check failed at (%ld, %ld)\n", long(i), long(j));
        std::exit(1);
      }
    }
}

void BM_sgemm(benchmark::State& st) {
  const int64_t M = st.range(0), N = st.range(1), K = st.range(2);
  const bool tb = st.range(3) != 0;
  check_small(false, tb);
  std::vector<float> a(M * K, 0.5f), b(K * N, 0.25f), c(M * N);
  for (auto _ : st) {
    gemm_cpu<float>(false, tb, M, N, K, 1.f, a.data(), K, b.data(), tb ? K : N, 0.f, c.data(), N);
    benchmark::ClobberMemory();
  }
  st.counters["GFLOP/s"] =
      benchmark::Counter(2.0 * M * N * K * st.iterations() * 1e-9, benchmark::Counter::kIsRate);
}

}  // namespace

BENCHMARK(BM_sgemm)
    ->ArgNames({"M", "N", "K", "transB"})
    ->Args({256, 256, 256, 0})
    ->Args({512, 512, 512, 0})
    ->Args({1024, 1024, 1024, 0})
    ->Args({64, 32768, 576, 0})     // conv forward, stage 1
    ->Args({512, 512, 4608, 0})     // conv forward, stage 4
    ->Args({576, 32768, 64, 0})     // conv backward data (W^T dY), stage 1
    ->Args({64, 576, 32768, 1})     // conv backward filter (dY col^T), stage 1
    ->Args({4096, 64, 576, 0})      // one image's im2col product, transposed roles
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
