// RSITMD-SS mask decode and checks (see data/mask.h).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Mask*'
#include "data/mask.h"

#include <stb_image.h>

#include "tensor/error.h"

namespace sirs {

const char* const kClassNames[kNumClasses] = {
    "Background", "Plane",      "Boat",          "StorageTank", "Pond",
    "River",      "Beach",      "Playground",    "SwimmingPool", "Court",
    "BaseballField", "Center",  "Church",        "Stadium",     "Bridge"};

Mask mask_from_pixels(const Image& img, const std::string& path) {
  SIRS_CHECK(img.c == 1 || img.c == 3, ValueError, "read_mask: ", path, ": ", img.c,
             " channels; a mask is 8-bit grayscale (or RGB with equal channels)");
  Mask m;
  m.h = img.h;
  m.w = img.w;
  m.labels.resize(size_t(img.h) * img.w);
  for (int y = 0; y < img.h; ++y) {
    for (int x = 0; x < img.w; ++x) {
      const size_t i = size_t(y) * img.w + x;
      const uint8_t v = img.data[i * img.c];
      if (img.c == 3) {
        const uint8_t g = img.data[i * 3 + 1], b = img.data[i * 3 + 2];
        SIRS_CHECK(g == v && b == v, ValueError, "read_mask: ", path, ": RGB pixel (", int(v),
                   ", ", int(g), ", ", int(b), ") at (y=", y, ", x=", x,
                   ") has unequal channels; masks must be gray");
      }
      if (v == kIgnoreLabel) {
        m.labels[i] = kIgnoreLabel;
        continue;
      }
      SIRS_CHECK(v % 10 == 0 && v / 10 < kNumClasses, ValueError, "read_mask: ", path,
                 ": value ", int(v), " at (y=", y, ", x=", x,
                 ") is neither 10 x class index (0, 10, ..., ", 10 * (kNumClasses - 1),
                 ") nor 255 (ignore)");
      m.labels[i] = uint8_t(v / 10);
    }
  }
  return m;
}

Mask read_mask(const std::string& path) {
  // stb_image silently narrows 16-bit PNGs; such a file is not this format.
  if (stbi_is_16_bit(path.c_str()))
    throw ValueError(str_cat("read_mask: ", path, ": 16-bit PNG; masks are 8-bit"));
  return mask_from_pixels(read_stb(path, 0), path);
}

void check_mask_matches_image(const Mask& mask, const std::string& mask_path, int image_h,
                              int image_w, const std::string& image_path) {
  SIRS_CHECK(mask.h == image_h && mask.w == image_w, ValueError, "mask ", mask_path, " is ",
             mask.h, "x", mask.w, " but its image ", image_path, " is ", image_h, "x", image_w);
}

void write_mask(const std::string& path, const Mask& mask) {
  Image img(mask.h, mask.w, 1);
  for (size_t i = 0; i < mask.labels.size(); ++i) {
    const uint8_t l = mask.labels[i];
    SIRS_CHECK(l == kIgnoreLabel || l < kNumClasses, ValueError, "write_mask: ", path,
               ": label ", int(l), " at index ", i, " is not a class or 255");
    img.data[i] = l == kIgnoreLabel ? kIgnoreLabel : uint8_t(l * 10);
  }
  write_png(path, img);
}

}  // namespace sirs
