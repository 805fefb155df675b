// Training/evaluation pipelines: see data/pipeline.h.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Transforms*'
#include "data/pipeline.h"

#include <cmath>
#include <utility>
#include <vector>

#include "tensor/error.h"
#include "tensor/philox.h"

namespace sirs {

namespace {

uint64_t splitmix64(uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

constexpr uint64_t kAugmentTag = 0x61756700;  // "aug"
// Philox blocks (4 x 32 bits) reserved per sample: a sample draws a handful
// of words (more only on rare rejection retries), and 2^16 blocks keep the
// streams of different samples disjoint.
constexpr int kBlocksPerSampleLog2 = 16;

}  // namespace

uint64_t mix_key(uint64_t a, uint64_t b, uint64_t c) {
  return splitmix64(splitmix64(splitmix64(a) ^ b) ^ c);
}

uint32_t RandomStream::next_u32() {
  if (pos_ == 4) {
    const Philox4 blk = philox4x32_10(counter_++, key_);
    for (int i = 0; i < 4; ++i) buf_[i] = blk.v[i];
    pos_ = 0;
  }
  return buf_[pos_++];
}

double RandomStream::uniform() {
  const uint64_t hi = next_u32() >> 5, lo = next_u32() >> 6;  // 27 + 26 bits
  return double(hi * 67108864ull + lo) * (1.0 / 9007199254740992.0);
}

int64_t RandomStream::uniform_int(int64_t n) {
  SIRS_CHECK(n >= 1, ValueError, "RandomStream::uniform_int: n must be >= 1, got ", n);
  const uint64_t un = uint64_t(n);
  // Rejection from the largest multiple of n below 2^64: unbiased.
  const uint64_t limit = ~uint64_t(0) - (~uint64_t(0) % un + 1) % un;
  for (;;) {
    const uint64_t v = (uint64_t(next_u32()) << 32) | next_u32();
    if (v <= limit) return int64_t(v % un);
  }
}

void shuffle_in_place(std::vector<int64_t>& v, RandomStream& rng) {
  for (int64_t i = int64_t(v.size()) - 1; i > 0; --i) std::swap(v[i], v[rng.uniform_int(i + 1)]);
}

RandomStream sample_stream(uint64_t seed, int64_t epoch, int64_t sample) {
  return RandomStream(mix_key(seed, uint64_t(epoch), kAugmentTag), uint64_t(sample)
                                                                       << kBlocksPerSampleLog2);
}

PipelineOptions PipelineOptions::training(int resize, int crop, double max_rotation) {
  PipelineOptions o;
  o.resize = resize;
  o.crop = crop;
  o.min_rotation = 0;
  o.max_rotation = max_rotation;
  return o;
}

PipelineOptions PipelineOptions::evaluation(int size) {
  PipelineOptions o;
  o.resize = size;
  o.crop = 0;
  o.min_rotation = o.max_rotation = 0;
  o.hflip = o.vflip = false;
  return o;
}

void PipelineOptions::validate() const {
  SIRS_CHECK(resize > 0, ValueError, "PipelineOptions: resize must be positive, got ", resize);
  SIRS_CHECK(crop >= 0 && crop <= resize, ValueError,
             "PipelineOptions: crop must be in [0, resize=", resize, "], got ", crop);
  SIRS_CHECK(
      std::isfinite(min_rotation) && std::isfinite(max_rotation) && min_rotation <= max_rotation,
      ValueError, "PipelineOptions: rotation range [", min_rotation, ", ", max_rotation,
      "] must be finite with min <= max");
  for (int c = 0; c < 3; ++c)
    SIRS_CHECK(std[c] != 0.0f && std::isfinite(std[c]) && std::isfinite(mean[c]), ValueError,
               "PipelineOptions: mean/std of channel ", c, " must be finite with std != 0, got ",
               mean[c], "/", std[c]);
}

Augment draw_augment(const PipelineOptions& opt, RandomStream& rng) {
  Augment a;
  if (opt.max_rotation != opt.min_rotation)
    a.degrees = opt.min_rotation + (opt.max_rotation - opt.min_rotation) * rng.uniform();
  else
    a.degrees = opt.min_rotation;
  if (opt.crop > 0) {
    // torchvision's RandomCrop draws the row first.
    a.crop_y = int(rng.uniform_int(opt.resize - opt.crop + 1));
    a.crop_x = int(rng.uniform_int(opt.resize - opt.crop + 1));
  }
  if (opt.hflip) a.hflip = (rng.next_u32() & 1u) != 0;
  if (opt.vflip) a.vflip = (rng.next_u32() & 1u) != 0;
  return a;
}

Augment draw_augment(const PipelineOptions& opt, uint64_t seed, int64_t epoch, int64_t sample) {
  RandomStream rng = sample_stream(seed, epoch, sample);
  return draw_augment(opt, rng);
}

void run_pipeline(const Image& img, const Mask* mask, const PipelineOptions& opt,
                  const Augment& aug, float* image_out, int64_t* mask_out) {
  opt.validate();
  SIRS_CHECK(img.c == 3, ValueError, "run_pipeline: expected an RGB image, got ", img.c,
             " channels (", img.h, "x", img.w, ")");
  const int R = opt.resize, S = opt.output_size();
  RotateCrop g;
  g.degrees = aug.degrees;
  g.x = opt.crop > 0 ? aug.crop_x : 0;
  g.y = opt.crop > 0 ? aug.crop_y : 0;
  g.w = g.h = S;
  g.hflip = aug.hflip;
  g.vflip = aug.vflip;

  Image resized;
  const Image* src = &img;
  if (img.h != R || img.w != R) {
    resized = resize_bilinear(img, R, R);
    src = &resized;
  }
  if (mask != nullptr) {
    SIRS_CHECK(mask_out != nullptr, ValueError, "run_pipeline: a mask was given without mask_out");
    SIRS_CHECK(mask->h == img.h && mask->w == img.w, ValueError, "run_pipeline: mask is ", mask->h,
               "x", mask->w, " but its image is ", img.h, "x", img.w);
  }

  if (opt.rotate_interp != Interp::kNearest) {
    // General path: the transforms one after the other.
    Image out(S, S, 3);
    rotate_crop_into(*src, g, opt.rotate_interp, opt.image_fill, out.data.data());
    to_chw_normalized(out, opt.mean, opt.std, image_out);
    if (mask != nullptr) {
      const Mask mres = (mask->h != R || mask->w != R) ? resize_nearest(*mask, R, R) : *mask;
      Mask mout;
      mout.h = mout.w = S;
      mout.labels.resize(size_t(S) * S);
      rotate_crop_into(mres, g, opt.mask_fill, mout.labels.data());
      mask_to_int64(mout, mask_out);
    }
    return;
  }

  // Nearest rotation (the default): one pass over the output computes each
  // pixel's source point once and writes the normalised floats of the image
  // and the label of the mask straight into the caller's buffers. The mask's
  // nearest resize composes with the nearest rotation through index tables,
  // so the mask is never resized. Pixel-identical to the general path.
  float lut[3][256];
  for (int ch = 0; ch < 3; ++ch)
    for (int v = 0; v < 256; ++v) lut[ch][v] = (float(v) / 255.0f - opt.mean[ch]) / opt.std[ch];
  const float fill0 = lut[0][opt.image_fill], fill1 = lut[1][opt.image_fill],
              fill2 = lut[2][opt.image_fill];
  const size_t plane = size_t(S) * S;
  float* o0 = image_out;
  float* o1 = image_out + plane;
  float* o2 = image_out + 2 * plane;
  const uint8_t* sp = src->data.data();
  std::vector<int> mtx, mty;
  const uint8_t* mp = nullptr;
  int mw = 0;
  if (mask != nullptr) {
    mtx = detail::nearest_index_table(mask->w, R);
    mty = detail::nearest_index_table(mask->h, R);
    mp = mask->labels.data();
    mw = mask->w;
  }
  detail::rotate_crop_points(R, R, g, [&](int ox, int oy, double xin, double yin) {
    const size_t o = size_t(oy) * S + ox;
    if (xin >= 0.0 && xin < R && yin >= 0.0 && yin < R) {
      const int xi = int(xin), yi = int(yin);
      const uint8_t* p = sp + (size_t(yi) * R + xi) * 3;
      o0[o] = lut[0][p[0]];
      o1[o] = lut[1][p[1]];
      o2[o] = lut[2][p[2]];
      if (mp != nullptr) mask_out[o] = mp[size_t(mty[yi]) * mw + mtx[xi]];
    } else {
      o0[o] = fill0;
      o1[o] = fill1;
      o2[o] = fill2;
      if (mp != nullptr) mask_out[o] = opt.mask_fill;
    }
  });
}

}  // namespace sirs
