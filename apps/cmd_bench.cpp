// sirs bench: times full training steps (forward, both losses, backward,
// Adam step) of the configured model on random inputs of the configured
// sizes, with a per-op profile (autograd/profiler.h) and the memory peak.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/args.h"
#include "apps/command.h"
#include "apps/config.h"
#include "apps/train.h"
#include "autograd/profiler.h"
#include "data/vocab.h"
#include "layers/optim.h"
#include "models/sirs.h"
#include "tensor/cuda_allocator.h"
#include "tensor/storage.h"

namespace sirs::app {
namespace {

int cmd_bench(int argc, char** argv) {
  Args a("bench",
         "Times full training steps (forward, segmentation + retrieval losses, backward, "
         "optimizer) of the configured model on random inputs of the configured sizes "
         "(model.image_size, dataset.batch_size) and prints a per-op profile and the memory "
         "peak.");
  a.required("config", "FILE", "run configuration (YAML)");
  a.integer("steps", "N", "timed steps", 5, 1, 100000);
  a.integer("warmup", "N", "untimed steps first", 1, 0, 100000);
  a.integer("batch", "B", "batch size (default dataset.batch_size)", 0, 0, 100000);
  a.integer("tokens", "T", "caption length in tokens", 16, 1, 1000);
  a.value("device", "D", "cpu | cuda (default runtime.device)");
  a.value("json", "OUT", "also write the results as JSON");
  a.integer("top", "N", "rows of the printed per-op table", 25, 1, 100000);
  a.repeated("set", "KEY=VALUE", "override a configuration key");
  if (auto rc = a.parse(argc, argv)) return *rc;
  std::string device = a.given("device") ? a.get("device") : "";
  if (!device.empty() && device != "cpu" && device != "cuda")
    return a.usage_error("--device must be cpu or cuda, got \"" + device + "\"");

  RunConfig cfg = load_config(a.get("config"), a.get_all("set"));
  apply_runtime(cfg);
  if (device.empty()) device = cfg.device.empty() ? "cpu" : cfg.device;
  SIRS_CHECK(device == "cpu" || cuda_available(), DeviceError,
             "--device cuda: no usable CUDA device on this machine");
  if (cfg.model.vocab_size == 0)
    cfg.model.vocab_size = cfg.vocab_path.empty() ? 1000 : Vocab::load_json(cfg.vocab_path).next_id() - 1;
  const int64_t B = a.get_int("batch") > 0 ? a.get_int("batch") : cfg.batch_size;
  SIRS_CHECK(B >= 2, ValueError, "bench: the retrieval loss needs a batch of at least 2, got ", B);
  const int64_t S = cfg.model.image_size, T = a.get_int("tokens");
  const Device dev = device == "cuda" ? Device::cuda() : Device::cpu();

  Generator gen(cfg.seed);
  SirsModel model(cfg.model, &gen);
  model.train();
  if (dev.is_cuda()) model.to(dev);
  Adam opt(model.parameters(), AdamOptions{cfg.lr});
  Tensor images = randn({B, 3, S, S}, DType::F32, &gen).to(dev);
  Tensor tokens = randint(1, cfg.model.vocab_size + 1, {B, T}, DType::I64, &gen).to(dev);
  Tensor lengths = full({B}, double(T), DType::I64).to(dev);
  Tensor masks = cfg.model.decoder ? randint(0, cfg.model.num_classes, {B, S, S}, DType::I64, &gen).to(dev)
                                   : Tensor();

  auto step = [&]() {
    opt.zero_grad();
    profiler::mark();
    SirsOutput out = model.forward(images, tokens, lengths);
    SirsLoss loss = sirs_loss(out, masks, Tensor(), cfg.loss_weight, cfg.margin, cfg.max_violation);
    loss.total.backward();
    {
      profiler::ScopedTimer t("optimizer step");
      opt.step();
    }
    SIRS_CHECK(std::isfinite(loss.total.item()), ValueError, "bench: non-finite loss");
  };
  for (int64_t i = 0; i < a.get_int("warmup"); ++i) step();
  if (dev.is_cuda()) cuda_reset_peak(dev.index);
  // On the CPU the profile is taken during the timed steps (its hooks cost
  // little). On CUDA the profiler must wait for the GPU at every op, so the
  // timed steps run unprofiled and as many profiled steps follow. Each step
  // ends with loss.item(), which waits for the GPU, so wall time is GPU time.
  profiler::set_enabled(!dev.is_cuda());
  profiler::reset();
  std::vector<double> ms;
  for (int64_t i = 0; i < a.get_int("steps"); ++i) {
    auto t0 = std::chrono::steady_clock::now();
    step();
    ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
  }
  double profiled_ms = std::accumulate(ms.begin(), ms.end(), 0.0);
  if (dev.is_cuda()) {
    profiler::set_sync_device(dev.index);
    profiler::set_enabled(true);
    profiler::reset();
    auto t0 = std::chrono::steady_clock::now();
    for (int64_t i = 0; i < a.get_int("steps"); ++i) step();
    profiled_ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
    profiler::set_sync_device(-1);
  }
  profiler::set_enabled(false);
  std::vector<double> sorted = ms;
  std::sort(sorted.begin(), sorted.end());
  const size_t n = sorted.size();
  const double median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  const double total_ms = profiled_ms;
  const double ips = median > 0 ? double(B) * 1000.0 / median : 0.0;
  const size_t peak = dev.is_cuda() ? cuda_memory_stats(dev.index).peak : cpu_bytes_peak();
  const auto table = profiler::table();

  std::printf("sirs bench: %s %s, batch %lld, image %lld, %lld tokens, %s, %zu steps\n",
              cfg.model.backbone.c_str(), cfg.model.decoder ? "+decoder" : "", static_cast<long long>(B),
              static_cast<long long>(S), static_cast<long long>(T), device.c_str(), n);
  std::printf("%-36s %8s %12s %8s\n", "op", "calls", "total ms", "% step");
  int64_t shown = 0;
  for (const auto& e : table) {
    if (shown++ >= a.get_int("top")) break;
    std::printf("%-36s %8lld %12.2f %7.1f%%\n", e.op.c_str(), static_cast<long long>(e.calls), e.ms,
                total_ms > 0 ? 100.0 * e.ms / total_ms : 0.0);
  }
  std::printf("median %.2f ms/step, %.2f images/s, peak %s memory %.1f MiB\n", median, ips,
              dev.is_cuda() ? "GPU" : "CPU", double(peak) / (1 << 20));

  if (a.given("json")) {
    nlohmann::ordered_json j;
    j["ms_per_step"] = median;
    j["images_per_s"] = ips;
    j["peak_bytes"] = peak;
    j["batch"] = B;
    j["image_size"] = S;
    j["steps"] = n;
    j["device"] = device;
    j["step_ms"] = ms;
    nlohmann::ordered_json ops = nlohmann::ordered_json::array();
    for (const auto& e : table)
      ops.push_back({{"op", e.op},
                     {"calls", e.calls},
                     {"total_ms", e.ms},
                     {"percent", total_ms > 0 ? 100.0 * e.ms / total_ms : 0.0}});
    j["ops"] = ops;
    const std::string out = a.get("json");
    std::ofstream f(out);
    f << j.dump(2) << "\n";
    SIRS_CHECK(f.good(), IOError, "cannot write ", out);
  }
  return 0;
}

}  // namespace

SIRS_COMMAND("bench", "time training steps of the configured model, with a per-op profile", cmd_bench);

}  // namespace sirs::app

