// The training and evaluation pipelines of DESIGN §4, per sample:
//   training:   resize to R x R (bilinear; masks nearest), rotation by an
//               angle uniform in [min_rotation, max_rotation] degrees
//               (counter-clockwise, corners filled with 0 in the image and
//               with `mask_fill` in the mask), a random crop x crop window,
//               optional random flips; the mask gets the same geometry;
//               then ImageNet normalisation into CHW float.
//   evaluation: resize to R x R only (PipelineOptions::evaluation()).
// Reference values: R = 278, crop = 256, rotation in [0, 90]; evaluation at
// 256. The rotation, crop and flips are one fused resample from the resized
// image (data/transforms.h rotate_crop), pixel-identical to applying them in
// turn.
//
// Randomness: every sample's parameters come from a Philox stream keyed by
// (seed, epoch, sample index) (tensor/philox.h), so they do not depend on
// the order in which threads process samples: a run is reproducible whatever
// the number of loader workers.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Transforms*'
#pragma once

#include <array>
#include <cstdint>
#include <vector>

#include "data/image_io.h"
#include "data/mask.h"
#include "data/transforms.h"

namespace sirs {

struct PipelineOptions {
  int resize = 278;          // R: images and masks are resized to R x R first
  int crop = 256;            // random crop size (<= R); 0: no crop, output R x R
  double min_rotation = 0;   // degrees; angle uniform in [min_rotation, max_rotation]
  double max_rotation = 90;  // 0 and 0: no rotation
  bool hflip = false;        // random left-right flip with probability 1/2
  bool vflip = false;        // random top-bottom flip with probability 1/2
  // torchvision's RandomRotation default (what the reference used) is nearest.
  Interp rotate_interp = Interp::kNearest;
  // Label of mask pixels rotated in from outside: the reference fills them
  // with 0 (Background); kIgnoreLabel (255) keeps them out of the loss.
  uint8_t mask_fill = 0;
  uint8_t image_fill = 0;  // value of image pixels rotated in from outside
  std::array<float, 3> mean = kImageNetMean;
  std::array<float, 3> std = kImageNetStd;

  // The reference training pipeline (278, rotation [0, 90], crop 256).
  static PipelineOptions training(int resize = 278, int crop = 256, double max_rotation = 90);
  // Resize only (no rotation, crop or flip).
  static PipelineOptions evaluation(int size = 256);

  bool random() const { return crop > 0 || max_rotation != min_rotation || hflip || vflip; }
  int output_size() const { return crop > 0 ? crop : resize; }
  // ValueError naming the bad field (sizes <= 0, crop > resize, a rotation
  // range that is reversed or not finite, a zero std).
  void validate() const;
};

// A counter-based random stream: Philox4x32-10 blocks (counter0 + i) under
// `key`, consumed 32 bits at a time. Copyable; pure function of its inputs.
class RandomStream {
 public:
  RandomStream(uint64_t key, uint64_t counter0) : key_(key), counter_(counter0) {}
  uint32_t next_u32();
  double uniform();                // [0, 1), 53 random bits
  int64_t uniform_int(int64_t n);  // [0, n), unbiased; n >= 1

 private:
  uint64_t key_;
  uint64_t counter_;
  uint32_t buf_[4] = {0, 0, 0, 0};
  int pos_ = 4;
};

// Fisher-Yates shuffle of v driven by rng.
void shuffle_in_place(std::vector<int64_t>& v, RandomStream& rng);

// Mixes integers into one 64-bit Philox key (splitmix64 steps).
uint64_t mix_key(uint64_t a, uint64_t b, uint64_t c);

// The stream of sample `sample` in `epoch` under `seed`.
RandomStream sample_stream(uint64_t seed, int64_t epoch, int64_t sample);

// The random parameters of one sample (the geometry applied to both the
// image and its mask), for an input of size R x R after the resize.
struct Augment {
  double degrees = 0;
  int crop_x = 0, crop_y = 0;
  bool hflip = false, vflip = false;
};

// Draws, in this order: the angle, the crop row, the crop column, hflip, vflip
// (each only when the options ask for it).
Augment draw_augment(const PipelineOptions& opt, RandomStream& rng);
Augment draw_augment(const PipelineOptions& opt, uint64_t seed, int64_t epoch, int64_t sample);

// Runs the pipeline on one RGB image (3 channels, any size) and optionally
// its mask (same size as the image; ValueError otherwise):
//   image_out: [3, S, S] normalised floats, S = opt.output_size()
//   mask_out:  [S, S] labels as int64 (255 = ignore); null when mask is null
void run_pipeline(const Image& img, const Mask* mask, const PipelineOptions& opt,
                  const Augment& aug, float* image_out, int64_t* mask_out);

}  // namespace sirs
