// Synthetic dataset throughput (data/synth.h), in images/s:
//   BM_synth_scene/<size>       drawing one scene (image + mask + captions), one thread
//   BM_synth_write_dataset/<n>  the whole writer (OpenMP over images: TIFF,
//                               mask PNG, precomp files, vocabulary) for n
//                               256x256 images into a temporary folder
// The issue asks for 1,000 images "well under a minute" on 2 cores:
//   make build/sirs_bench && OMP_NUM_THREADS=2 ./build/sirs_bench --benchmark_filter=synth
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>

#include "data/synth.h"

using namespace sirs;

static void BM_synth_scene(benchmark::State& st) {
  SynthOptions o;
  o.size = int(st.range(0));
  int64_t i = 0;
  for (auto _ : st) {
    SynthScene s = generate_synthetic_scene(i++, o);
    benchmark::DoNotOptimize(s.image.data.data());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_synth_scene)->Arg(128)->Arg(256)->Unit(benchmark::kMillisecond);

static void BM_synth_write_dataset(benchmark::State& st) {
  char tmpl[] = "/tmp/sirs_bench_synth_XXXXXX";
  const std::string dir = ::mkdtemp(tmpl);
  SynthOptions o;
  o.images = st.range(0);
  for (auto _ : st) {
    SynthSummary s = write_synthetic_dataset(dir, o);
    benchmark::DoNotOptimize(s.vocab_words);
  }
  std::filesystem::remove_all(dir);
  st.SetItemsProcessed(st.iterations() * o.images);
}
BENCHMARK(BM_synth_write_dataset)->Arg(1000)->Iterations(1)->Unit(benchmark::kSecond)->UseRealTime();
