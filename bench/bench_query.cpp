// `sirs query` on a synthetic index of N images x 512 dimensions: the ranking
// (one matrix-vector product over the descriptors + the top-10 partial sort,
// apps/search_index.h rank_descriptors) and, separately, the text encoding of
// a 12-word caption by a full-size skip-thoughts encoder (620 / 2400).
// The requirement: the ranking of 100,000 images under 50 ms on CPU.
//
//   make build/sirs_bench && OMP_WAIT_POLICY=passive ./build/sirs_bench --benchmark_filter=query
#include <benchmark/benchmark.h>

#include "apps/search_index.h"
#include "autograd/grad_mode.h"
#include "models/text_encoder.h"
#include "tensor/tensor.h"

using namespace sirs;

static void BM_query_rank(benchmark::State& st) {
  const int64_t n = st.range(0), e = 512;
  Generator g(7);
  Tensor d = randn({n, e}, DType::F32, &g);
  Tensor q = randn({e}, DType::F32, &g);
  std::vector<float> scores;
  for (auto _ : st) {
    auto hits = app::rank_descriptors(d.data<float>(), n, e, q.data<float>(), 10, &scores);
    benchmark::DoNotOptimize(hits.data());
  }
  st.SetBytesProcessed(st.iterations() * n * e * 4);
  st.counters["images"] = double(n);
}
BENCHMARK(BM_query_rank)->Arg(100000)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_query_encode_text(benchmark::State& st) {
  Generator g(3);
  SkipThoughtsEncoder enc(2000, 620, 2400, 512, 0.25, &g);
  enc.eval();
  NoGradGuard ng;
  std::vector<double> ids(12);
  for (size_t i = 0; i < ids.size(); ++i) ids[i] = double(1 + 37 * i % 2000);
  Tensor tokens = from_vector(ids, {1, 12}, DType::I64);
  Tensor lengths = from_vector({12.0}, {1}, DType::I64);
  for (auto _ : st) benchmark::DoNotOptimize(enc.forward(tokens, lengths).raw_data());
}
BENCHMARK(BM_query_encode_text)->Unit(benchmark::kMillisecond)->UseRealTime();
