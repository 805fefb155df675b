// The run configuration of `sirs train/test/infer/...`: a YAML file with the
// reference's option schema (sections model, dataset, optim, logs, k_fold:
// same keys and meanings as the public SIRS option files) plus ours
// (runtime.*, model.image_size, model.init, model.seq2vec.word_dim/hidden_dim,
// dataset.augment/shuffle/mask_path ...). Every key, its type, default and
// meaning is in the table of apps/config.cpp (kSchema) and `sirs train --help`
// prints it.
//
//   RunConfig cfg = load_config("run.yaml", {"optim.lr=1e-4", "runtime.device=cpu"});
//   SirsModel model(cfg.model);
//
// Rules: an unknown key, a value of the wrong type, out of range or outside
// its allowed set is a ValueError naming the key and the file (or the --set
// text). Relative paths (dataset.*_path, model.init, logs.*) resolve against
// the folder of the config file (against the working folder for --set
// values). --set section.key=value replaces one key; the value is read as
// YAML ("[80, 20]", "true", "1e-4"). save_config writes the effective
// configuration (every key, defaults filled in, paths absolute).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Config*'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/config.h"
#include "models/losses.h"

namespace sirs::app {

struct RunConfig {
  std::string source;  // the file it came from

  // model (SirsConfig holds the architecture switches)
  std::string model_name = "SIRS";
  SirsConfig model;
  std::string init;  // weights to start from ("" = none)

  // dataset
  std::string datatype = "rsitmd";
  std::string data_split = "scene";  // all | trainval | scene (data/splits.h)
  std::string data_path, image_path, mask_path, vocab_path;
  int64_t batch_size = 32, batch_size_val = 32;
  int workers = 2;
  bool augment = true, shuffle = true;
  int resize = 278;  // dataset.resize: training resize before the crop (crop = model.image_size)
  double max_rotation = 90;
  double train_fraction = 0.8;

  // optim
  int64_t epochs = 35;
  double lr = 2e-4, lr_decay_param = 0.7;
  int64_t lr_update_epoch = 20;
  double grad_clip = 0;  // 0: no clipping
  bool max_violation = false;
  double margin = 0.2;
  std::string resume;  // checkpoint to resume from ("" = none)
  LossWeight loss_weight;
  int64_t last_num_epochs_val = 10;

  // logs
  int64_t eval_step = 1, print_freq = 10;
  std::string ckpt_save_path, logger_name;

  // k_fold
  std::string experiment_name = "sirs";
  int64_t k_fold_nums = 1, k_fold_current_num = 0;

  // runtime
  std::string device;  // "cpu" | "cuda" (resolved: never empty after load)
  int threads = 0;     // 0: all cores
  uint64_t seed = 0;
  std::string precision = "fp32";

  // The effective configuration as YAML text (what save_config writes).
  std::string yaml;
  // FNV-1a hash of `yaml` without the runtime and logs sections, as hex.
  std::string hash;
};

// Reads, overrides, validates and resolves. IOError for an unreadable file,
// ValueError for bad contents (naming the key and the file).
RunConfig load_config(const std::string& path, const std::vector<std::string>& sets = {});
// Same from YAML text; relative paths resolve against base_dir.
RunConfig parse_config(const std::string& text, const std::string& source,
                       const std::string& base_dir, const std::vector<std::string>& sets = {});
// Writes cfg.yaml atomically.
void save_config(const RunConfig& cfg, const std::string& path);
// The schema as help text: "section.key  type  default  meaning" lines.
std::string config_schema_help();

}  // namespace sirs::app
