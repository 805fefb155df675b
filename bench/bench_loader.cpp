// Data pipeline throughput on the CPU: the loader over a temporary folder of
// 64 generated 256x256 RGB PackBits TIFFs (smooth gradients plus noise, so
// PackBits runs are short as in aerial photos) with their 8-bit PNG masks,
// training pipeline (resize 278, rotation in [0, 90], crop 256) or
// evaluation pipeline (resize 256), batches of 32; counter `images/s` =
// samples decoded + augmented + normalised per second of wall time, and
// `cpu_ms/img` = CPU time of the whole process (all threads) per image. The
// issue asks for >= 400 images/s with 2 workers (docs/PERF.md).
// Also the per-stage costs of one sample in one thread.
//
// make build/sirs_bench && ./build/sirs_bench --benchmark_filter=loader
#include <benchmark/benchmark.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <filesystem>
#include <string>
#include <vector>

#include "data/image_io.h"
#include "data/loader.h"
#include "data/mask.h"
#include "data/pipeline.h"
#include "data/transforms.h"

using namespace sirs;
namespace fs = std::filesystem;

namespace {

constexpr int kImages = 64;
constexpr int kSize = 256;

Image synthetic_image(int seed) {
  Image img(kSize, kSize, 3);
  uint32_t s = 2463534242u + uint32_t(seed) * 7919u;
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x) {
      s ^= s << 13, s ^= s >> 17, s ^= s << 5;
      for (int c = 0; c < 3; ++c)
        img.at(y, x, c) =
            uint8_t((x * (c + 1) + y * (3 - c) + seed * 13 + (s >> (8 * c)) % 24) & 255);
    }
  return img;
}

Mask synthetic_mask(int seed) {
  Mask m;
  m.h = m.w = kSize;
  m.labels.resize(size_t(kSize) * kSize);
  for (int y = 0; y < kSize; ++y)
    for (int x = 0; x < kSize; ++x)
      m.labels[size_t(y) * kSize + x] = uint8_t(((x / 32 + y / 48 + seed) % 15));
  return m;
}

// The folder and its dataset, written once per process.
struct BenchData {
  fs::path dir;
  LoaderDataset data;
  BenchData() {
    char tmpl[] = "/tmp/sirs_bench_loader_XXXXXX";
    dir = ::mkdtemp(tmpl);
    for (int i = 0; i < kImages; ++i) {
      const std::string name = "scene_" + std::to_string(i);
      const std::string ip = (dir / (name + ".tif")).string();
      const std::string mp = (dir / ("mask_" + name + ".png")).string();
      write_tiff(ip, synthetic_image(i));  // PackBits by default
      write_mask(mp, synthetic_mask(i));
      data.image_paths.push_back(ip);
      data.mask_paths.push_back(mp);
      LoaderDataset::Sample s;
      s.image = i;
      s.caption_id = i;
      s.tokens = {1, 2, 3};
      data.samples.push_back(s);
    }
  }
  ~BenchData() { fs::remove_all(dir); }
};

BenchData& bench_data() {
  static BenchData d;
  return d;
}

double process_cpu_seconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return double(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         1e-6 * double(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec);
}

void run_loader(benchmark::State& st, const PipelineOptions& pipe) {
  LoaderOptions opt;
  opt.batch_size = 32;
  opt.num_workers = int(st.range(0));
  opt.pipeline = pipe;
  Loader loader(bench_data().data, opt);
  int64_t epoch = 0, images = 0;
  const double cpu0 = process_cpu_seconds();
  for (auto _ : st) {
    loader.start_epoch(epoch++);
    Batch b;
    while (loader.next(b)) images += b.images.size(0);
  }
  const double cpu = process_cpu_seconds() - cpu0;
  st.counters["images/s"] = benchmark::Counter(double(images), benchmark::Counter::kIsRate);
  // CPU time of all threads per image: what the machine's load does not change.
  st.counters["cpu_ms/img"] = images > 0 ? 1e3 * cpu / double(images) : 0.0;
}

}  // namespace

static void BM_loader_train_256(benchmark::State& st) {
  run_loader(st, PipelineOptions::training());
}
BENCHMARK(BM_loader_train_256)->Arg(1)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

static void BM_loader_eval_256(benchmark::State& st) {
  run_loader(st, PipelineOptions::evaluation());
}
BENCHMARK(BM_loader_eval_256)->Arg(2)->Unit(benchmark::kMillisecond)->UseRealTime();

// One sample's stages in the calling thread.
static void BM_loader_stage_decode_tiff(benchmark::State& st) {
  const std::string& p = bench_data().data.image_paths[0];
  for (auto _ : st) benchmark::DoNotOptimize(read_image_rgb(p).data.data());
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_loader_stage_decode_tiff)->Unit(benchmark::kMicrosecond);

static void BM_loader_stage_decode_mask(benchmark::State& st) {
  const std::string& p = bench_data().data.mask_paths[0];
  for (auto _ : st) benchmark::DoNotOptimize(read_mask(p).labels.data());
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_loader_stage_decode_mask)->Unit(benchmark::kMicrosecond);

static void BM_loader_stage_resize_278(benchmark::State& st) {
  const Image img = synthetic_image(1);
  for (auto _ : st) benchmark::DoNotOptimize(resize_bilinear(img, 278, 278).data.data());
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_loader_stage_resize_278)->Unit(benchmark::kMicrosecond);

static void BM_loader_stage_augment(benchmark::State& st) {
  // Resize + fused rotate/crop + normalise of image and mask (no decode).
  const Image img = synthetic_image(1);
  const Mask m = synthetic_mask(1);
  const PipelineOptions pipe = PipelineOptions::training();
  std::vector<float> out(3 * 256 * 256);
  std::vector<int64_t> mout(256 * 256);
  int64_t i = 0;
  for (auto _ : st) {
    const Augment a = draw_augment(pipe, 1, 0, i++);
    run_pipeline(img, &m, pipe, a, out.data(), mout.data());
    benchmark::DoNotOptimize(out.data());
  }
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_loader_stage_augment)->Unit(benchmark::kMicrosecond);
