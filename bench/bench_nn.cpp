// NN ops at SIRS sizes. All memory-bound, so reported in GB/s of the bytes
// each pass must move at minimum (reads + writes, float32):
// - cross_entropy forward + backward at [8, 15, 256, 256] with class
//   weights (the segmentation loss): forward reads logits and target and
//   writes loss and lse [B, H, W]; backward reads logits, target and lse and
//   writes dlogits.
// - softmax over the last dim of [4096, 512]: read x, write y (forward);
//   read y and dy, write dx (backward).
// - embedding backward for [32, 40] token ids into V = 3000, E = 620 (the
//   text encoder's word table): read dout [1280, 620], write dweight.
// Run: make build/sirs_bench && ./build/sirs_bench --benchmark_filter='cross_entropy|softmax|embedding'
#include <benchmark/benchmark.h>

#include "autograd/nn.h"
#include "kernels/embedding.h"

using namespace sirs;

static void BM_cross_entropy_fwd_bwd(benchmark::State& st) {
  const int64_t B = 8, K = 15, H = 256, W = 256;
  Generator g(1);
  Tensor x = randn({B, K, H, W}, DType::F32, &g).set_requires_grad();
  Tensor t = randint(0, K, {B, H, W}, DType::I64, &g);
  Tensor w = uniform({K}, 0.5, 3.0, DType::F32, &g);
  for (auto _ : st) {
    Tensor loss = cross_entropy(x, t, w, 255);
    loss.backward();
    benchmark::DoNotOptimize(x.grad().raw_data());
    x.zero_grad();
  }
  int64_t logits = B * K * H * W * 4, pixels = B * H * W;
  int64_t fwd = logits + pixels * (8 + 4 + 4), bwd = 2 * logits + pixels * (8 + 4);
  st.SetBytesProcessed(st.iterations() * (fwd + bwd));
}
BENCHMARK(BM_cross_entropy_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_softmax_fwd(benchmark::State& st) {
  Generator g(2);
  Tensor x = randn({4096, 512}, DType::F32, &g);
  for (auto _ : st) benchmark::DoNotOptimize(softmax(x, -1).raw_data());
  st.SetBytesProcessed(st.iterations() * x.numel() * 4 * 2);
}
BENCHMARK(BM_softmax_fwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_softmax_fwd_bwd(benchmark::State& st) {
  Generator g(3);
  Tensor x = randn({4096, 512}, DType::F32, &g).set_requires_grad();
  Tensor dy = randn({4096, 512}, DType::F32, &g);
  for (auto _ : st) {
    softmax(x, -1).backward(dy);
    benchmark::DoNotOptimize(x.grad().raw_data());
    x.zero_grad();
  }
  st.SetBytesProcessed(st.iterations() * x.numel() * 4 * 5);
}
BENCHMARK(BM_softmax_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_embedding_backward(benchmark::State& st) {
  const int64_t V = 3000, E = 620, N = 32 * 40;
  Generator g(4);
  Tensor idx = randint(0, V, {32, 40}, DType::I64, &g);
  Tensor dout = randn({32, 40, E}, DType::F32, &g);
  Tensor dw = empty({V, E});
  for (auto _ : st) {
    embedding_backward_cpu<float>(dout.data<float>(), idx.data<int64_t>(), N, E, V, 0,
                                  dw.data<float>(), 0.0f);
    benchmark::DoNotOptimize(dw.raw_data());
  }
  st.SetBytesProcessed(st.iterations() * (N * E + V * E) * 4);
}
BENCHMARK(BM_embedding_backward)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_embedding_fwd_bwd(benchmark::State& st) {
  const int64_t V = 3000, E = 620;
  Generator g(5);
  Tensor w = randn({V, E}, DType::F32, &g).set_requires_grad();
  Tensor idx = randint(0, V, {32, 40}, DType::I64, &g);
  Tensor dout = randn({32, 40, E}, DType::F32, &g);
  for (auto _ : st) {
    embedding(w, idx, 0).backward(dout);
    benchmark::DoNotOptimize(w.grad().raw_data());
    w.zero_grad();
  }
  st.SetBytesProcessed(st.iterations() * (3 * 32 * 40 * E + V * E) * 4);
}
BENCHMARK(BM_embedding_fwd_bwd)->Unit(benchmark::kMillisecond)->UseRealTime();
