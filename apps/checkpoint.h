// Training checkpoints: one safetensors file holding the model under its
// reference names (DESIGN §6), the optimizer state under "optim." (Adam's
// state_dict, layers/optim.h) and, in "__metadata__":
//   format      "sirs-checkpoint-1"
//   epoch       epochs fully trained (resume starts epoch `epoch`)
//   batch       batches of epoch `epoch` already trained (0 at epoch ends;
//               > 0 for a checkpoint written by Ctrl-C mid-epoch)
//   step        optimizer steps taken in this fold
//   fold        the k-fold index
//   rng_seed, rng_offset   the default generator (dropout draws)
//   best_score  best validation mR so far (-1: none yet)
//   config_hash RunConfig::hash of the run that wrote it
//   evals       JSON list of the mR of every validation so far (the report)
// Files are written atomically (temporary file + fsync + rename), so a crash
// or SIGKILL leaves either the previous file or the new one, never a torn one.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CliTrain*'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "layers/optim.h"
#include "models/sirs.h"

namespace sirs::app {

struct CheckpointMeta {
  int64_t epoch = 0;
  int64_t batch = 0;
  int64_t step = 0;
  int64_t fold = 0;
  uint64_t rng_seed = 0, rng_offset = 0;
  double best_score = -1;
  std::string config_hash;
  std::string evals = "[]";  // JSON array of numbers
};

// Writes model (+ optimizer when non-null) and meta to path atomically.
void save_checkpoint(const std::string& path, const SirsModel& model, const Optimizer* opt,
                     const CheckpointMeta& meta);

// Reads path; loads the model weights (strict: every name must match), the
// optimizer state when opt is non-null (the file must hold one) and returns
// the metadata. IOError/ValueError naming the file for an unreadable,
// truncated or corrupt file or one that is not a sirs checkpoint; the model
// and optimizer are unchanged unless everything loads.
CheckpointMeta load_checkpoint(const std::string& path, SirsModel& model, Optimizer* opt);

// Only the metadata (checks the file fully, loads nothing).
CheckpointMeta read_checkpoint_meta(const std::string& path);

// The weights `model.init` names, by what the file holds:
//   a sirs checkpoint or any safetensors with reference names -> its
//     tensors (optimizer state "optim.*" left out);
//   a reference checkpoint (.pth.tar, torch.save of {'model': ...}) -> its
//     state dict, unused tensors skipped (models/import.h 2.);
//   a torchvision ResNet (.pth, or safetensors with torchvision names) ->
//     "extract_feature.resnet.*", fc skipped (models/import.h 1.).
// `notices` gets the importer's lines. Errors name the file.
NamedTensors load_init_weights(const std::string& path, std::vector<std::string>* notices);

}  // namespace sirs::app
