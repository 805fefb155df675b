// data/palette.h: class colours, colour-coded masks and overlays.
#include "data/palette.h"

#include <algorithm>
#include <cmath>

#include "tensor/error.h"

namespace sirs {

namespace {

void check_mask(const Mask& mask, const char* op) {
  SIRS_CHECK(mask.h >= 0 && mask.w >= 0 && mask.labels.size() == size_t(mask.h) * size_t(mask.w), ValueError, op,
             ": mask holds ", mask.labels.size(), " labels for ", mask.h, "x", mask.w);
  for (size_t i = 0; i < mask.labels.size(); ++i) {
    const uint8_t l = mask.labels[i];
    SIRS_CHECK(l < kNumClasses || l == kIgnoreLabel, ValueError, op, ": label ", int(l), " at (",
               i / size_t(std::max(mask.w, 1)), ", ", i % size_t(std::max(mask.w, 1)), ") is not a class 0..",
               kNumClasses - 1, " nor ", int(kIgnoreLabel));
  }
}

}  // namespace

Image colorize_mask(const Mask& mask) {
  check_mask(mask, "colorize_mask");
  Image out(mask.h, mask.w, 3);
  for (size_t i = 0; i < mask.labels.size(); ++i) {
    const uint8_t l = mask.labels[i];
    if (l == kIgnoreLabel) continue;  // stays black
    for (int c = 0; c < 3; ++c) out.data[i * 3 + size_t(c)] = kPalette[l][size_t(c)];
  }
  return out;
}

Image overlay(const Image& image, const Mask& mask, double alpha) {
  SIRS_CHECK(alpha >= 0 && alpha <= 1, ValueError, "overlay: alpha must be in [0, 1], got ", alpha);
  check_mask(mask, "overlay");
  SIRS_CHECK(image.h == mask.h && image.w == mask.w, ValueError, "overlay: the mask is ", mask.h, "x", mask.w,
             " but the image is ", image.h, "x", image.w);
  Image out = to_rgb(image);
  for (size_t i = 0; i < mask.labels.size(); ++i) {
    const uint8_t l = mask.labels[i];
    if (l == kIgnoreLabel) continue;
    for (size_t c = 0; c < 3; ++c) {
      uint8_t& px = out.data[i * 3 + c];
      const double v = (1 - alpha) * double(px) + alpha * double(kPalette[l][c]);
      px = uint8_t(std::lround(std::min(255.0, std::max(0.0, v))));
    }
  }
  return out;
}

}  // namespace sirs
