// conv2d forward, backward-data and backward-filter at the four ResNet-18
// stage shapes (batch 8, 3x3, stride 1, pad 1, C_in = C_out), every fast
// kernel version side by side. GFLOP/s = 2*B*K*C*R*S*Ho*Wo / time for each
// direction. Before timing, each version is checked against the direct-loop
// version 0 on the same channels and filter at batch 2 (the reference is
// too slow for the full shape) and the bench aborts on a mismatch.
//
//   make build/sirs_bench && ./build/sirs_bench --benchmark_filter=conv2d --benchmark_min_time=0.2
// Compare with PyTorch: /usr/bin/python3 scripts/bench_torch_cpu.py (docs/PERF.md).
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "kernels/conv2d.h"

using namespace sirs;

namespace {

Conv2dGeom stage_geom(int64_t B, int64_t C, int64_t HW) {
  Conv2dGeom g{B, C, HW, HW, C, 3, 3, 0, 0};
  g.pad_h = g.pad_w = 1;
  g.Ho = conv2d_out_size(g.H, g.R, g.stride_h, g.pad_h, g.dil_h);
  g.Wo = conv2d_out_size(g.W, g.S, g.stride_w, g.pad_w, g.dil_w);
  return g;
}

std::vector<float> random_vec(int64_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& e : v) e = d(rng);
  return v;
}

struct Buffers {
  std::vector<float> x, w, bias, y, dy, dx, dw, dbias;
  explicit Buffers(const Conv2dGeom& g) {
    x = random_vec(g.B * g.C * g.H * g.W, 1);
    w = random_vec(g.K * g.C * g.R * g.S, 2);
    bias = random_vec(g.K, 3);
    dy = random_vec(g.B * g.K * g.Ho * g.Wo, 4);
    y.resize(dy.size());
    dx.resize(x.size());
    dw.resize(w.size());
    dbias.resize(g.K);
  }
};

enum Dir { kForward, kBackwardData, kBackwardFilter };

void run(const Conv2dGeom& g, Buffers& b, Dir dir, int version) {
  switch (dir) {
    case kForward: conv2d_forward_cpu<float>(g, b.x.data(), b.w.data(), b.bias.data(), 0.f, b.y.data(), version); break;
    case kBackwardData: conv2d_backward_data_cpu<float>(g, b.dy.data(), b.w.data(), 0.f, b.dx.data(), version); break;
    case kBackwardFilter:
      conv2d_backward_filter_cpu<float>(g, b.x.data(), b.dy.data(), 0.f, b.dw.data(), b.dbias.data(), version);
      break;
  }
}

const std::vector<float>& result(Buffers& b, Dir dir) {
  return dir == kForward ? b.y : dir == kBackwardData ? b.dx : b.dw;
}

void check_against_v0(const Conv2dGeom& full, Dir dir, int version) {
  Conv2dGeom g = full;
  g.B = 2;
  Buffers ref(g), got(g);
  run(g, ref, dir, 0);
  run(g, got, dir, version);
  const auto& r = result(ref, dir);
  const auto& o = result(got, dir);
  double max_err = 0, max_ref = 0;
  for (size_t i = 0; i < r.size(); ++i) {
    max_err = std::max(max_err, double(std::fabs(r[i] - o[i])));
    max_ref = std::max(max_ref, double(std::fabs(r[i])));
  }
  if (max_err > 1e-4 * std::max(1.0, max_ref)) {
    std::fprintf(stderr, "conv2d v%d dir %d C%ld: max abs error %g vs v0 (max |ref| %g)\n", version,
                 int(dir), long(g.C), max_err, max_ref);
    std::exit(1);
  }
}

void BM_conv2d(benchmark::State& st, Dir dir, int version) {
  Conv2dGeom g = stage_geom(8, st.range(0), st.range(1));
  check_against_v0(g, dir, version);
  Buffers b(g);
  run(g, b, dir, version);  // warm-up: workspaces, OpenBLAS threads
  for (auto _ : st) {
    run(g, b, dir, version);
    benchmark::ClobberMemory();
  }
  double flops = 2.0 * g.B * g.K * g.C * g.R * g.S * g.Ho * g.Wo;
  st.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9 * st.iterations(), benchmark::Counter::kIsRate);
}

void stage_args(benchmark::internal::Benchmark* b) {
  b->Args({64, 64})->Args({128, 32})->Args({256, 16})->Args({512, 8});
  b->ArgNames({"C", "HW"})->Unit(benchmark::kMillisecond)->UseRealTime();
  // On a shared machine the fastest repetition says most about the kernel
  // (use --benchmark_repetitions=N to get it next to mean and median).
  b->ComputeStatistics("min", [](const std::vector<double>& v) {
    return *std::min_element(v.begin(), v.end());
  });
}

}  // namespace

// The live version (kConv2dKernelVersion), under a fixed name that
// scripts/bench_torch_cpu.py --ours times against PyTorch.
BENCHMARK_CAPTURE(BM_conv2d, forward_live, kForward, kConv2dKernelVersion)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_live, kBackwardData, kConv2dKernelVersion)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_live, kBackwardFilter, kConv2dKernelVersion)
    ->Apply(stage_args);
// Every fast version, for comparison (version 4 differs from 3 only in backward data;
// 5 from 4 only in chunk size; 6 from 4 only in OpenMP loops instead of std::threads;
// 7 is the shifted-GEMM lowering for stride 1; 8 is Winograd F(2x2, 3x3); 9 below).
BENCHMARK_CAPTURE(BM_conv2d, forward_v1, kForward, 1)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, forward_v2, kForward, 2)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, forward_v3, kForward, 3)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, forward_v5, kForward, 5)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v1, kBackwardData, 1)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v2, kBackwardData, 2)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v3, kBackwardData, 3)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v4, kBackwardData, 4)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v5, kBackwardData, 5)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v1, kBackwardFilter, 1)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v2, kBackwardFilter, 2)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v3, kBackwardFilter, 3)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v5, kBackwardFilter, 5)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, forward_v4, kForward, 4)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, forward_v8, kForward, 8)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v8, kBackwardData, 8)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, forward_v6, kForward, 6)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, forward_v7, kForward, 7)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v6, kBackwardData, 6)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v7, kBackwardData, 7)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v4, kBackwardFilter, 4)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v6, kBackwardFilter, 6)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v7, kBackwardFilter, 7)->Apply(stage_args);
// Version 9: the direct AVX2/FMA kernel (backward filter is version 4's; registered so that
// scripts/bench_torch_cpu.py --version 9 finds all three directions).
BENCHMARK_CAPTURE(BM_conv2d, forward_v9, kForward, 9)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v9, kBackwardData, 9)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v9, kBackwardFilter, 9)->Apply(stage_args);
// Version 10: version 9 with its own backward-filter kernel (forward and backward data are 9's).
BENCHMARK_CAPTURE(BM_conv2d, forward_v10, kForward, 10)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_data_v10, kBackwardData, 10)->Apply(stage_args);
BENCHMARK_CAPTURE(BM_conv2d, backward_filter_v10, kBackwardFilter, 10)->Apply(stage_args);
