// The training run behind `sirs train` (DESIGN §4), as a library function.
//
// Layout of a run (R = logs.ckpt_save_path/k_fold.experiment_name):
//   R/config.yaml              the effective configuration
//   R/report.json              per fold the mean of its last
//                              optim.last_num_epochs_val evaluations, and the
//                              mean over folds (the reference's report)
//   R/fold<k>/config.yaml      the same configuration, beside the fold
//   R/fold<k>/last.safetensors checkpoint after every epoch (apps/checkpoint.h)
//   R/fold<k>/best.safetensors the epoch with the best validation mR
//   R/fold<k>/train.log        the text log (what the terminal showed, plain)
//   R/fold<k>/metrics.jsonl    one JSON object per step and per evaluation
//
// Folds k = current_num .. current_num + nums - 1; each draws its own
// train/val split of the training list (dataset.data_split, data/splits.h;
// "all": every training image trains and the test split validates) and its
// own initialisation (runtime.seed, k).
//
// Every epoch e (0-based): lr = optim.lr * lr_decay_param^floor((e + 1) /
// lr_update_epoch) (x0.7 at the start of every epoch e with e % 20 == 19 for
// the reference values); batches of dataset.batch_size captions with their
// images (shuffled and augmented from (seed, epoch) when asked); the joint
// loss (models/sirs.h sirs_loss with optim.loss_weight, margin,
// max_violation); backward; gradient clipping to optim.grad_clip (after
// backward; 0 = off); Adam. A last batch of one caption is skipped (the
// triplet loss needs two). Validation every logs.eval_step epochs and after
// the last one.
//
// Reproducibility: the model initialisation, dropout and loader draws are all
// functions of runtime.seed, so a run is repeatable, and a checkpoint holds
// the generator state so that resuming continues bit for bit.
#pragma once

#include <atomic>
#include <cstdio>
#include <string>

#include "apps/config.h"

namespace sirs::app {

struct TrainOptions {
  std::string resume;                         // checkpoint to continue ("" = fresh run)
  std::FILE* out = stderr;                    // progress and messages
  bool tty = false;                           // redraw a progress bar
  const std::atomic<bool>* stop = nullptr;    // set (e.g. by SIGINT): checkpoint and return 130
};

// Exit statuses of run_training.
constexpr int kTrainOk = 0;
constexpr int kTrainFailed = 1;        // NaN / infinite loss (the last good checkpoint is kept)
constexpr int kTrainInterrupted = 130;  // stop flag: checkpoint written

// Runs the whole training described by cfg. Errors in the configuration or
// the data are thrown (sirs errors naming the file).
int run_training(const RunConfig& cfg, const TrainOptions& opt);

// Applies runtime.threads (OpenMP and OpenBLAS); 0 leaves the defaults.
void apply_threads(int threads);
// The process-wide runtime settings of a config: runtime.threads (OpenMP and
// OpenBLAS) and runtime.precision (fp32 | tf32 for CUDA matmuls and
// convolutions). Every subcommand that reads a config calls it.
void apply_runtime(const RunConfig& cfg);

// lr of epoch e under (lr, lr_decay_param, lr_update_epoch).
double epoch_lr(const RunConfig& cfg, int64_t epoch);

}  // namespace sirs::app
