// Training checkpoints (apps/checkpoint.h).
#include "apps/checkpoint.h"

#include <cstdlib>
#include <fstream>

#include "layers/safetensors.h"
#include "models/import.h"
#include "tensor/error.h"

namespace sirs::app {
namespace {

constexpr const char* kFormat = "sirs-checkpoint-1";
constexpr const char* kOptimPrefix = "optim.";

int64_t meta_int(const SafetensorsFile& f, const char* key) {
  auto it = f.metadata.find(key);
  SIRS_CHECK(it != f.metadata.end(), ValueError, "checkpoint '", f.path,
             "': __metadata__ has no '", key, "' (not a sirs training checkpoint?)");
  char* end = nullptr;
  long long v = std::strtoll(it->second.c_str(), &end, 10);
  SIRS_CHECK(!it->second.empty() && *end == '\0', ValueError, "checkpoint '", f.path,
             "': __metadata__ '", key, "' is not an integer: '", it->second, "'");
  return v;
}

CheckpointMeta parse_meta(const SafetensorsFile& f) {
  auto fmt = f.metadata.find("format");
  SIRS_CHECK(fmt != f.metadata.end() && fmt->second == kFormat, ValueError, "checkpoint '", f.path,
             "' is not a sirs training checkpoint (__metadata__ format is not '", kFormat,
             "'); to start from plain weights use model.init");
  CheckpointMeta m;
  m.epoch = meta_int(f, "epoch");
  m.batch = meta_int(f, "batch");
  m.step = meta_int(f, "step");
  m.fold = meta_int(f, "fold");
  m.rng_seed = uint64_t(std::strtoull(f.metadata.at("rng_seed").c_str(), nullptr, 10));
  m.rng_offset = uint64_t(std::strtoull(f.metadata.at("rng_offset").c_str(), nullptr, 10));
  auto bs = f.metadata.find("best_score");
  m.best_score = bs == f.metadata.end() ? -1 : std::strtod(bs->second.c_str(), nullptr);
  auto h = f.metadata.find("config_hash");
  if (h != f.metadata.end()) m.config_hash = h->second;
  auto ev = f.metadata.find("evals");
  if (ev != f.metadata.end()) m.evals = ev->second;
  SIRS_CHECK(m.epoch >= 0 && m.batch >= 0 && m.step >= 0 && m.fold >= 0, ValueError,
             "checkpoint '", f.path, "': negative epoch/batch/step/fold in __metadata__");
  return m;
}

SafetensorsFile read_file(const std::string& path) {
  try {
    return load_safetensors(path);
  } catch (const IOError&) {
    throw;
  } catch (const Error& e) {
    throw IOError(str_cat("checkpoint '", path, "' is corrupt or truncated: ", e.what()));
  }
}

}  // namespace

void save_checkpoint(const std::string& path, const SirsModel& model, const Optimizer* opt,
                     const CheckpointMeta& meta) {
  NamedTensors all = model.state_dict();
  if (opt != nullptr)
    for (auto& [k, t] : opt->state_dict()) all.emplace_back(kOptimPrefix + k, t);
  char best[64];
  std::snprintf(best, sizeof best, "%.17g", meta.best_score);
  std::map<std::string, std::string> md = {
      {"format", kFormat},
      {"epoch", std::to_string(meta.epoch)},
      {"batch", std::to_string(meta.batch)},
      {"step", std::to_string(meta.step)},
      {"fold", std::to_string(meta.fold)},
      {"rng_seed", std::to_string(meta.rng_seed)},
      {"rng_offset", std::to_string(meta.rng_offset)},
      {"best_score", best},
      {"config_hash", meta.config_hash},
      {"evals", meta.evals},
      {"has_optim", opt != nullptr ? "1" : "0"},
  };
  save_safetensors(path, all, md);
}

CheckpointMeta read_checkpoint_meta(const std::string& path) { return parse_meta(read_file(path)); }

CheckpointMeta load_checkpoint(const std::string& path, SirsModel& model, Optimizer* opt) {
  SafetensorsFile f = read_file(path);
  CheckpointMeta meta = parse_meta(f);
  NamedTensors weights, optim;
  for (auto& [k, t] : f.tensors) {
    if (k.rfind(kOptimPrefix, 0) == 0)
      optim.emplace_back(k.substr(std::char_traits<char>::length(kOptimPrefix)), t);
    else
      weights.emplace_back(k, t);
  }
  if (opt != nullptr)
    SIRS_CHECK(!optim.empty(), ValueError, "checkpoint '", path,
               "' holds no optimizer state (optim.*): cannot resume from it");
  // Check both before changing either: load the optimizer into a scratch
  // copy first is not possible (it owns the parameters), so validate the
  // model first (load_state_dict changes nothing unless all fits), then the
  // optimizer; an optimizer mismatch after a model load restores the model.
  NamedTensors before;
  if (opt != nullptr)
    for (auto& [k, t] : model.state_dict()) before.emplace_back(k, t.clone());
  try {
    model.load_state_dict(weights, true);
  } catch (const Error& e) {
    throw ValueError(str_cat("checkpoint '", path, "' does not fit this model configuration: ",
                             e.what()));
  }
  if (opt != nullptr) {
    try {
      opt->load_state_dict(optim);
    } catch (const Error& e) {
      model.load_state_dict(before, true);
      throw ValueError(str_cat("checkpoint '", path, "': optimizer state does not fit: ", e.what()));
    }
  }
  return meta;
}

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

// A safetensors file starts with an 8-byte header length and then '{'.
bool looks_like_safetensors(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  char head[9] = {};
  return in.read(head, 9) && head[8] == '{';
}

}  // namespace

NamedTensors load_init_weights(const std::string& path, std::vector<std::string>* notices) {
  SIRS_CHECK(std::ifstream(path).good(), IOError, path, ": cannot open (model.init)");
  auto note_all = [&](const std::vector<std::string>& lines) {
    if (notices) notices->insert(notices->end(), lines.begin(), lines.end());
  };
  if (ends_with(path, ".pth.tar") || ends_with(path, ".tar")) {
    ReferenceCheckpoint ck = load_reference_checkpoint(path);
    note_all(ck.weights.notices);
    return ck.weights.tensors;
  }
  if (looks_like_safetensors(path)) {
    SafetensorsFile f = load_safetensors(path);
    bool reference_names = false;
    for (const auto& [k, t] : f.tensors)
      for (const char* p : {"extract_feature.", "text_feature.", "decoder.", "visual_feature.",
                            "ss_attention."})
        reference_names = reference_names || k.rfind(p, 0) == 0;
    if (reference_names) {
      NamedTensors w;
      for (auto& [k, t] : f.tensors)
        if (k.rfind("optim.", 0) != 0) w.emplace_back(k, t);
      return w;
    }
  }
  ImportResult r = import_torchvision_resnet(path);
  note_all(r.notices);
  return r.tensors;
}

}  // namespace sirs::app
