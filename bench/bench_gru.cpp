// The skip-thoughts GRU (layers/gru.h) at the reference size: B = 32
// captions, T = 20 steps, E = 620, H = 2400, float32, forward + backward
// through time. GFLOP/s counts the matrix products only:
//   forward  = 3 * 2*B*T*E*H (input projections) + 3 * 2*B*H*H * T (hidden)
//   backward = 2 x forward (dX and dW of every product)
// Arg 1: training (six dropout masks); arg 0: eval (no masks). BM_GRU_forward
// is inference (NoGradGuard): eval then runs one concatenated [3H, H]
// hidden product per step.
// Run: make build/sirs_bench && OMP_WAIT_POLICY=passive ./build/sirs_bench --benchmark_filter=GRU
#include <benchmark/benchmark.h>

#include "autograd/ops.h"
#include "layers/gru.h"

using namespace sirs;

namespace {

constexpr int64_t kB = 32, kT = 20, kE = 620, kH = 2400;

double forward_flops() {
  return 3.0 * 2 * kB * kT * kE * kH + 3.0 * 2 * kB * kH * kH * kT;
}

}  // namespace

static void BM_GRU_forward_backward(benchmark::State& st) {
  Generator g(1);
  SkipThoughtsGRU gru(kE, kH, 0.25, &g);
  gru.generator = &g;
  gru.train(st.range(0) != 0);
  Tensor emb = randn({kB, kT, kE}, {}, &g).set_requires_grad();
  Tensor lengths = full({kB}, static_cast<double>(kT), DType::I64);
  for (auto _ : st) {
    Tensor out = gru.forward(emb, lengths);
    sum(out).backward();
    benchmark::DoNotOptimize(emb.grad().raw_data());
    gru.zero_grad();
    emb.zero_grad();
  }
  st.counters["GFLOP/s"] = benchmark::Counter(3 * forward_flops() * st.iterations() / 1e9,
                                              benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GRU_forward_backward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_GRU_forward(benchmark::State& st) {
  Generator g(1);
  SkipThoughtsGRU gru(kE, kH, 0.25, &g);
  gru.generator = &g;
  gru.train(st.range(0) != 0);
  Tensor emb = randn({kB, kT, kE}, {}, &g);
  Tensor lengths = full({kB}, static_cast<double>(kT), DType::I64);
  NoGradGuard no_grad;
  for (auto _ : st) benchmark::DoNotOptimize(gru.forward(emb, lengths).raw_data());
  st.counters["GFLOP/s"] =
      benchmark::Counter(forward_flops() * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_GRU_forward)->Arg(0)->Arg(1)->Unit(benchmark::kMillisecond)->UseRealTime();
