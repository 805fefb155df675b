// One SIRS training step (forward, joint loss, backward) on the CPU, with the
// parameter count and the peak memory the step adds on top of the model.
//
// Reference configuration (shared/DESIGN.md section 3): ResNet-18, 15
// classes, decoder + SSA (averagePooling) + AMW (mean), GRU 620 -> 2400,
// embed 512, the RSITMD vocabulary (read from SIRS_SAMPLES_DIR when there;
// 1349 words otherwise), captions of 16 tokens. Counters:
//   params          parameters of the model
//   peak_MiB        cpu_bytes_peak() after the step minus the bytes in use
//                   before it: activations saved for backward, gradients and
//                   the transient buffers of the step (first iteration)
//   peak_MiB/img    the same per image
// A step that does not raise the process-wide peak (an earlier benchmark
// used more) cannot be measured this way: peak_MiB is then -1. Run each
// configuration in its own process for the numbers in docs/PERF.md:
//   make build/sirs_bench
//   OMP_WAIT_POLICY=passive ./build/sirs_bench --benchmark_filter='sirs_train_step/B:4/S:256/'
#include <benchmark/benchmark.h>

#include <fstream>
#include <string>

#include "autograd/ops.h"
#include "data/vocab.h"
#include "models/sirs.h"

using namespace sirs;

namespace {

int64_t rsitmd_vocab_size() {
  std::string path = std::string(SIRS_SAMPLES_DIR) + "/rsitmd/vocab/rsitmd_splits_vocab.json";
  if (const char* env = std::getenv("SIRS_SAMPLES_DIR"))
    path = std::string(env) + "/rsitmd/vocab/rsitmd_splits_vocab.json";
  if (!std::ifstream(path).good()) return 1349;  // the shipped file's word count
  return Vocab::load_json(path).size();
}

SirsConfig reference_config(int64_t image_size) {
  SirsConfig c;
  c.vocab_size = rsitmd_vocab_size();
  c.image_size = image_size;
  return c;
}

void BM_sirs_train_step(benchmark::State& st) {
  const int64_t B = st.range(0), S = st.range(1), T = 16;
  SirsConfig cfg = reference_config(S);
  Generator gen(1);
  SirsModel model(cfg, &gen);
  model.train();
  Tensor images = randn({B, 3, S, S}, DType::F32, &gen);
  Tensor tokens = randint(1, cfg.vocab_size + 1, {B, T}, DType::I64, &gen);
  Tensor lengths = full({B}, double(T), DType::I64);
  Tensor masks = randint(0, cfg.num_classes, {B, S, S}, DType::I64, &gen);
  double peak_mib = -2;
  for (auto _ : st) {
    model.zero_grad();
    const size_t before_use = cpu_bytes_in_use(), before_peak = cpu_bytes_peak();
    SirsOutput out = model.forward(images, tokens, lengths);
    SirsLoss loss = sirs_loss(out, masks, Tensor());
    loss.total.backward();
    const size_t after_peak = cpu_bytes_peak();
    if (peak_mib == -2)
      peak_mib = after_peak > before_peak ? double(after_peak - before_use) / (1 << 20) : -1;
    benchmark::DoNotOptimize(loss.total.item());
  }
  st.counters["params"] = double(model.num_parameters());
  st.counters["peak_MiB"] = peak_mib;
  st.counters["peak_MiB/img"] = peak_mib > 0 ? peak_mib / double(B) : -1;
  st.counters["img/s"] =
      benchmark::Counter(double(B) * st.iterations(), benchmark::Counter::kIsRate);
}

}  // namespace

// {batch, image size}. Batch 32 at 256 is the reference; it takes minutes
// on two shared cores, so it is registered but best run on its own.
BENCHMARK(BM_sirs_train_step)
    ->Args({2, 64})
    ->Args({4, 256})
    ->Args({8, 256})
    ->Args({32, 256})
    ->ArgNames({"B", "S"})
    ->Iterations(1)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();
