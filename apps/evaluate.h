// Evaluation of a SIRS model on a set of images and their captions (DESIGN
// §5): every image is encoded ONCE (not once per caption), every caption
// once, the [N_img, N_img * 5] similarity matrix is scored with the
// retrieval metrics and, when the split has masks, the predicted class maps
// with the segmentation metrics. Used by `sirs train` (validation) and
// `sirs test` / `sirs infer`.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CliTrain*'
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "data/precomp.h"
#include "data/vocab.h"
#include "models/metrics.h"
#include "models/sirs.h"

namespace sirs::app {

struct EvalOptions {
  int64_t batch_size = 32;  // images (and captions) per forward
  int workers = 2;          // loader threads
  int64_t image_size = 256; // evaluation resize
  Device device = Device::cpu();
  bool keep_sims = false;   // fill EvalResult::sims
  bool keep_predictions = false;  // fill EvalResult::predictions (needs the decoder)
  // Called after each image batch with (images done, images total).
  std::function<void(int64_t, int64_t)> on_progress;
};

struct EvalResult {
  RetrievalMetrics retrieval;
  bool has_seg = false;  // masks present and the model has a decoder
  SegmentationMetrics seg;
  double seconds = 0;
  double images_per_s = 0;  // images encoded per second (image side only)
  Tensor sims;               // [N_img, N_cap] float32 CPU (keep_sims)
  Tensor predictions;        // [N_img, S, S] int64 class maps (keep_predictions)
  std::vector<int64_t> images;  // the split's image indices evaluated, in order
};

// Evaluates `images` (indices into split's images; empty = all) in eval
// mode under NoGradGuard; the model's training mode is restored afterwards.
EvalResult evaluate(SirsModel& model, const PrecompSplit& split, const Vocab& vocab,
                    const std::vector<int64_t>& images, const EvalOptions& opt);

}  // namespace sirs::app
