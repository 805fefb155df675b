// Data-path decode throughput on the real RSITMD samples (SIRS_SAMPLES_DIR;
// each benchmark reports an error and skips when the samples are missing):
// 256x256 RGB TIFF decode (PackBits: airport_4691.tif, uncompressed:
// river_3583.tif) in images/s and decoded MB/s, mask PNG decode + label check,
// and caption tokenization in captions/s.
//
// make build/sirs_bench && ./build/sirs_bench --benchmark_filter='tiff|mask|tokenize'
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "data/image_io.h"
#include "data/mask.h"
#include "data/precomp.h"
#include "data/tokenizer.h"

#ifndef SIRS_SAMPLES_DIR
#define SIRS_SAMPLES_DIR ""
#endif

using namespace sirs;

namespace {

std::string rsitmd_dir() {
  const char* env = std::getenv("SIRS_SAMPLES_DIR");
  return std::string(env != nullptr && *env != '\0' ? env : SIRS_SAMPLES_DIR) + "/rsitmd";
}

bool skip_without(benchmark::State& st, const std::string& path) {
  if (std::filesystem::exists(path)) return false;
  st.SkipWithError(("RSITMD sample " + path +
                    " not found (set SIRS_SAMPLES_DIR to the folder holding rsitmd/)")
                       .c_str());
  return true;
}

void decode_tiff(benchmark::State& st, const char* name) {
  const std::string path = rsitmd_dir() + "/images/" + name;
  if (skip_without(st, path)) return;
  size_t bytes = 0;
  for (auto _ : st) {
    Image img = read_tiff(path);
    bytes = img.data.size();
    benchmark::DoNotOptimize(img.data.data());
  }
  st.SetItemsProcessed(st.iterations());  // images/s
  st.SetBytesProcessed(int64_t(st.iterations() * bytes));
}

}  // namespace

static void BM_tiff_decode_packbits_256(benchmark::State& st) { decode_tiff(st, "airport_4691.tif"); }
BENCHMARK(BM_tiff_decode_packbits_256)->Unit(benchmark::kMicrosecond);

static void BM_tiff_decode_uncompressed_256(benchmark::State& st) {
  decode_tiff(st, "river_3583.tif");
}
BENCHMARK(BM_tiff_decode_uncompressed_256)->Unit(benchmark::kMicrosecond);

static void BM_mask_read_256(benchmark::State& st) {
  const std::string path = rsitmd_dir() + "/masks/mask_airport_4691.png";
  if (skip_without(st, path)) return;
  for (auto _ : st) benchmark::DoNotOptimize(read_mask(path).labels.data());
  st.SetItemsProcessed(st.iterations());
}
BENCHMARK(BM_mask_read_256)->Unit(benchmark::kMicrosecond);

static void BM_tokenize_captions(benchmark::State& st) {
  const std::string path = rsitmd_dir() + "/precomp/test_caps.txt";
  if (skip_without(st, path)) return;
  const std::vector<std::string> caps = read_text_lines(path);
  for (auto _ : st)
    for (const auto& c : caps) benchmark::DoNotOptimize(caption_tokens(c).size());
  st.SetItemsProcessed(int64_t(st.iterations() * caps.size()));  // captions/s
}
BENCHMARK(BM_tokenize_captions)->Unit(benchmark::kMillisecond);
