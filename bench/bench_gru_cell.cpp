// The gru family (autograd/gru.h, kernels/gru.h).
//
// BM_gru_cell_cpu / BM_gru_cell_cuda: the fused gates of one step, forward
// + backward through the op (what the GRU's step loop runs), at the
// reference size B = 32, H = 2400 (arg: H). Memory-bound: GB/s counts
// 11 [B, H] arrays per direction (forward reads 7, writes h', r, z, n;
// backward reads dh', r, z, n, gh_n, h, writes 5) -- the op's own
// allocations and copies are not counted. The CUDA one first checks the
// CUDA result against the CPU, then times with CUDA events (manual time).
//
// BM_GRU_layer: the whole skip-thoughts GRU forward + backward at
// B = 32, E = 300, H = 512 for T = 20 and 50 steps (arg: T): with small
// products the cost of the backward through time outside the GEMMs shows
// (it grew as T^2 while each step read its input projection through
// select). The reference size (E = 620, H = 2400) is BM_GRU_forward_backward
// in bench_gru.cpp.
// Run: make build/sirs_bench && OMP_WAIT_POLICY=passive ./build/sirs_bench --benchmark_filter='gru_cell|GRU_layer'
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "autograd/ops.h"
#include "layers/gru.h"

#ifdef SIRS_WITH_CUDA
#include <cuda_runtime.h>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#endif

using namespace sirs;

namespace {

constexpr int64_t kB = 32;

std::vector<Tensor> cell_operands(int64_t H, Device d) {
  Generator g(3);
  std::vector<Tensor> v;
  for (int k = 0; k < 7; ++k) v.push_back(randn({kB, H}, DType::F32, &g).to(d).set_requires_grad());
  return v;
}

Tensor cell(const std::vector<Tensor>& v) {
  return gru_cell(v[0], v[1], v[2], v[3], v[4], v[5], v[6]);
}

void zero_grads(const std::vector<Tensor>& v) {
  for (const Tensor& t : v) t.zero_grad();
}

double cell_bytes(int64_t H) { return 2.0 * 11 * kB * H * sizeof(float); }

}  // namespace

static void BM_gru_cell_cpu(benchmark::State& st) {
  const int64_t H = st.range(0);
  std::vector<Tensor> v = cell_operands(H, Device::cpu());
  Tensor dout = ones({kB, H});
  for (auto _ : st) {
    cell(v).backward(dout);
    benchmark::DoNotOptimize(v[6].grad().raw_data());
    zero_grads(v);
  }
  st.counters["GB/s"] =
      benchmark::Counter(cell_bytes(H) * st.iterations() / 1e9, benchmark::Counter::kIsRate);
}
BENCHMARK(BM_gru_cell_cpu)->Arg(2400)->Unit(benchmark::kMicrosecond)->UseRealTime();

static void BM_gru_cell_cuda(benchmark::State& st) {
#ifdef SIRS_WITH_CUDA
  if (!cuda_available()) {
    st.SkipWithError("no usable GPU");
    return;
  }
  const int64_t H = st.range(0);
  std::vector<Tensor> vc = cell_operands(H, Device::cpu()), vg = cell_operands(H, Device::cuda());
  Tensor dc = ones({kB, H}), dg = dc.to(Device::cuda());
  // Check against the CPU before timing: output and d(h).
  {
    Tensor oc = cell(vc), og = cell(vg);
    oc.backward(dc);
    og.backward(dg);
    std::vector<double> a = oc.to_vector(), b = og.to_vector();
    std::vector<double> ga = vc[6].grad().to_vector(), gb = vg[6].grad().to_vector();
    double err = 0;
    for (size_t i = 0; i < a.size(); ++i) err = std::max(err, std::fabs(a[i] - b[i]));
    for (size_t i = 0; i < ga.size(); ++i) err = std::max(err, std::fabs(ga[i] - gb[i]));
    if (!(err <= 1e-5)) {
      st.SkipWithError("CUDA gru_cell differs from the CPU");
      return;
    }
    zero_grads(vc);
    zero_grads(vg);
  }
  cudaStream_t stream = cuda_stream(0);
  cudaEvent_t start, stop;
  SIRS_CUDA_CHECK(cudaEventCreate(&start));
  SIRS_CUDA_CHECK(cudaEventCreate(&stop));
  // Flushing L2 between runs: overwrite a buffer larger than it (50 MB on
  // an H100) so each iteration reads its operands from memory.
  Tensor flush = empty({1 << 25}, Options(DType::F32, Device::cuda()));
  for (auto _ : st) {
    view::fill(flush, 0.0);
    SIRS_CUDA_CHECK(cudaEventRecord(start, stream));
    cell(vg).backward(dg);
    SIRS_CUDA_CHECK(cudaEventRecord(stop, stream));
    SIRS_CUDA_CHECK(cudaEventSynchronize(stop));
    float ms = 0;
    SIRS_CUDA_CHECK(cudaEventElapsedTime(&ms, start, stop));
    st.SetIterationTime(ms / 1e3);
    zero_grads(vg);
  }
  SIRS_CUDA_CHECK(cudaEventDestroy(start));
  SIRS_CUDA_CHECK(cudaEventDestroy(stop));
  st.counters["GB/s"] =
      benchmark::Counter(cell_bytes(H) * st.iterations() / 1e9, benchmark::Counter::kIsRate);
#else
  st.SkipWithError("built without CUDA");
#endif
}
BENCHMARK(BM_gru_cell_cuda)->Arg(2400)->Unit(benchmark::kMicrosecond)->UseManualTime();

static void BM_GRU_layer(benchmark::State& st) {
  const int64_t T = st.range(0), E = 300, H = 512;
  Generator g(1);
  SkipThoughtsGRU gru(E, H, 0.25, &g);
  gru.generator = &g;
  gru.train();
  Tensor emb = randn({kB, T, E}, {}, &g).set_requires_grad();
  Tensor lengths = full({kB}, static_cast<double>(T), DType::I64);
  for (auto _ : st) {
    sum(gru.forward(emb, lengths)).backward();
    benchmark::DoNotOptimize(emb.grad().raw_data());
    gru.zero_grad();
    emb.zero_grad();
  }
}
BENCHMARK(BM_GRU_layer)->Arg(20)->Arg(50)->Unit(benchmark::kMillisecond)->UseRealTime();
