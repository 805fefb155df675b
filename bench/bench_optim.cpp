// Optimizer steps over a ResNet-18 + GRU sized parameter set (12M float32
// values): memory-bound, reported in GB/s of the bytes each update must
// touch. Adam reads param, grad, m, v and writes param, m, v (7 x 4 bytes
// per element); SGD with momentum reads param, grad, buf and writes param,
// buf (5 x 4); clipping reads the grads twice and writes them once.
#include <benchmark/benchmark.h>

#include "kernels/optim.h"
#include "layers/optim.h"

using namespace sirs;

namespace {
constexpr int64_t kParams = 12'000'000;
}

// The raw kernel on one flat array.
static void BM_adam_step_cpu_kernel(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor p = randn({n}), g = randn({n}), m = zeros({n}), v = zeros({n});
  int64_t step = 0;
  for (auto _ : st) {
    adam_step_cpu<float>(p.data<float>(), g.data<float>(), m.data<float>(), v.data<float>(), n,
                         1e-3, 0.9, 0.999, 1e-8, 0.0, ++step);
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * n * 7 * 4);
}
BENCHMARK(BM_adam_step_cpu_kernel)->Arg(kParams)->Unit(benchmark::kMillisecond)->UseRealTime();

// The optimizer over ResNet-18-like tensor sizes (many small, a few large).
static void BM_adam_step_resnet_sized(benchmark::State& st) {
  std::vector<Tensor> params;
  int64_t total = 0;
  Generator gen(1);
  for (int64_t sz : {9408LL, 36864LL, 73728LL, 147456LL, 294912LL, 589824LL, 1179648LL,
                     2359296LL, 2359296LL, 2359296LL, 1179648LL}) {
    for (int rep = 0; rep < 2; ++rep) {
      if (total + sz > kParams) break;
      Tensor p = randn({sz}, DType::F32, &gen).set_requires_grad();
      p.set_grad(randn({sz}, DType::F32, &gen));
      params.push_back(p);
      total += sz;
    }
  }
  for (int i = 0; total < kParams; ++i) {  // biases / norms fill the rest
    int64_t sz = std::min<int64_t>(512, kParams - total);
    Tensor p = zeros({sz}).set_requires_grad();
    p.set_grad(ones({sz}));
    params.push_back(p);
    total += sz;
  }
  Adam opt(params, AdamOptions{2e-4});
  for (auto _ : st) opt.step();
  st.SetBytesProcessed(st.iterations() * total * 7 * 4);
  st.counters["tensors"] = static_cast<double>(params.size());
}
BENCHMARK(BM_adam_step_resnet_sized)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_sgd_momentum_step_cpu_kernel(benchmark::State& st) {
  int64_t n = st.range(0);
  Tensor p = randn({n}), g = randn({n}), b = zeros({n});
  bool first = true;
  for (auto _ : st) {
    sgd_step_cpu<float>(p.data<float>(), g.data<float>(), b.data<float>(), n, 1e-3, 0.9, 0, 0,
                        false, first);
    first = false;
    benchmark::ClobberMemory();
  }
  st.SetBytesProcessed(st.iterations() * n * 5 * 4);
}
BENCHMARK(BM_sgd_momentum_step_cpu_kernel)->Arg(kParams)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_clip_grad_norm(benchmark::State& st) {
  Tensor p = zeros({kParams}).set_requires_grad();
  p.set_grad(randn({kParams}));
  for (auto _ : st) benchmark::DoNotOptimize(clip_grad_norm_({p}, 1e-3));
  st.SetBytesProcessed(st.iterations() * kParams * 3 * 4);
}
BENCHMARK(BM_clip_grad_norm)->Unit(benchmark::kMillisecond)->UseRealTime();
