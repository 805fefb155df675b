// RSITMD-SS segmentation masks (DESIGN §2): 8-bit PNG, pixel value =
// 10 x class index (0 = Background ... 140 = Bridge), 255 = ignore.
//
// Accepted PNGs: 8-bit grayscale; also 8-bit RGB whose three channels are
// equal at every pixel (what some tools write for a gray image). Alpha
// channels, 16-bit PNGs and RGB with differing channels are refused: they
// are not masks of this format and guessing would corrupt labels.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Mask*'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace sirs {

constexpr int kNumClasses = 15;       // K
constexpr uint8_t kIgnoreLabel = 255;  // kept as 255 in Mask::labels
extern const char* const kClassNames[kNumClasses];

struct Mask {
  int h = 0, w = 0;
  std::vector<uint8_t> labels;  // [H, W] class index 0..K-1, or kIgnoreLabel
};

// Converts decoded mask pixels (1 channel, or 3 equal channels) to labels.
// ValueError naming `path`, the offending value and its (y, x) position.
Mask mask_from_pixels(const Image& img, const std::string& path);

// Decodes and converts a mask PNG (IOError for unreadable files).
Mask read_mask(const std::string& path);

// ValueError naming both files and both sizes when the mask is not h x w.
void check_mask_matches_image(const Mask& mask, const std::string& mask_path, int image_h,
                              int image_w, const std::string& image_path);

// Writes labels back as a grayscale PNG (label * 10, 255 kept).
void write_mask(const std::string& path, const Mask& mask);

}  // namespace sirs
