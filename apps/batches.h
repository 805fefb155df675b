// The data side of `sirs train/test/infer`: BatchSource wraps
// data/loader.h's Loader behind a small interface.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CliTrain*'
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "data/precomp.h"
#include "data/vocab.h"
#include "tensor/tensor.h"

namespace sirs::app {

struct BatchSourceOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  uint64_t seed = 0;
  int workers = 2;
  bool augment = true;  // training pipeline (resize, rotation, crop) or evaluation resize only
  int resize = 278;     // training: resize before the crop
  int size = 256;       // output size (training crop / evaluation resize)
  double max_rotation = 90;
  bool one_per_image = false;  // one sample per image (its first caption): image-side evaluation
};

struct TrainBatch {
  Tensor images;   // [B, 3, S, S] float32
  Tensor masks;    // [B, S, S] int64 or undefined
  Tensor tokens;   // [B, T] int64
  Tensor lengths;  // [B] int64
  std::vector<int64_t> caption_ids;  // [B] caption indices in the split
  std::vector<int64_t> image_ids;    // [B] image indices in the split
  int64_t index = 0;
};

class BatchSource {
 public:
  // images: indices into split's images (empty: all).
  BatchSource(const PrecompSplit& split, const Vocab& vocab, const std::vector<int64_t>& images,
              const BatchSourceOptions& opt);
  ~BatchSource();
  int64_t num_batches() const;
  int64_t num_samples() const;
  bool has_masks() const;
  void start_epoch(int64_t epoch);
  bool next(TrainBatch& b);
  // Token ids of every sample, in dataset order (captions of the chosen images).
  std::vector<std::vector<int64_t>> sample_tokens() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// DESIGN §4 class weights over the masks of the chosen images ([K] float32,
// K = num_classes of the model).
Tensor class_weights_for(const PrecompSplit& split, const std::vector<int64_t>& images,
                         int64_t num_classes);

}  // namespace sirs::app
