// data/palette.h: class colours, colour-coded masks and overlays, with
// hand-computed pixel values.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Palette*'
#include <gtest/gtest.h>

#include <string>

#include "data/palette.h"
#include "tensor/error.h"

namespace sirs {
namespace {

Mask mask_of(int h, int w, std::vector<uint8_t> labels) {
  Mask m;
  m.h = h;
  m.w = w;
  m.labels = std::move(labels);
  return m;
}

std::vector<int> pixel(const Image& img, int y, int x) {
  std::vector<int> v;
  for (int c = 0; c < img.c; ++c) v.push_back(img.at(y, x, c));
  return v;
}

TEST(Palette, DesignColours) {
  // DESIGN §2, spot checks at both ends and in the middle.
  EXPECT_EQ(kPalette[0], (std::array<uint8_t, 3>{0, 0, 0}));
  EXPECT_EQ(kPalette[1], (std::array<uint8_t, 3>{255, 165, 0}));
  EXPECT_EQ(kPalette[8], (std::array<uint8_t, 3>{65, 105, 225}));
  EXPECT_EQ(kPalette[10], (std::array<uint8_t, 3>{139, 117, 0}));
  EXPECT_EQ(kPalette[14], (std::array<uint8_t, 3>{130, 130, 130}));
  EXPECT_STREQ(kClassNames[14], "Bridge");
}

TEST(Palette, ColorizeMask) {
  Image c = colorize_mask(mask_of(1, 3, {5, 13, kIgnoreLabel}));
  ASSERT_EQ(c.h, 1);
  ASSERT_EQ(c.w, 3);
  ASSERT_EQ(c.c, 3);
  EXPECT_EQ(pixel(c, 0, 0), (std::vector<int>{30, 144, 255}));
  EXPECT_EQ(pixel(c, 0, 1), (std::vector<int>{255, 105, 180}));
  EXPECT_EQ(pixel(c, 0, 2), (std::vector<int>{0, 0, 0}));  // ignore: black
}

TEST(Palette, OverlayValues) {
  Image img(1, 3, 3);
  for (int x = 0; x < 3; ++x) {
    img.at(0, x, 0) = 100;
    img.at(0, x, 1) = 60;
    img.at(0, x, 2) = 20;
  }
  Mask m = mask_of(1, 3, {1, 12, kIgnoreLabel});
  // alpha 0.25 is exact in binary: 0.75 * 100 + 0.25 * 255 = 138.75 -> 139 ...
  Image o = overlay(img, m, 0.25);
  ASSERT_EQ(o.c, 3);
  EXPECT_EQ(pixel(o, 0, 0), (std::vector<int>{139, 86, 15}));   // Plane (255, 165, 0)
  EXPECT_EQ(pixel(o, 0, 1), (std::vector<int>{139, 109, 79}));  // Church (255, 255, 255)
  EXPECT_EQ(pixel(o, 0, 2), (std::vector<int>{100, 60, 20}));   // ignore: the image
  // Default alpha 0.3 over Background: 0.7 * (100, 60, 20).
  Image b = overlay(img, mask_of(1, 3, {0, 0, 0}));
  EXPECT_EQ(pixel(b, 0, 1), (std::vector<int>{70, 42, 14}));
  // A gray image is replicated to RGB first.
  Image g(1, 1, 1);
  g.data[0] = 40;
  EXPECT_EQ(pixel(overlay(g, mask_of(1, 1, {3}), 0.5), 0, 0), (std::vector<int>{148, 148, 20}));
}

template <class F>
std::string value_error(F&& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  return "no ValueError";
}

TEST(Palette, Errors) {
  Image img(2, 2, 3);
  EXPECT_NE(value_error([&] { overlay(img, mask_of(2, 3, std::vector<uint8_t>(6, 0))); }).find("2x3"),
            std::string::npos);
  EXPECT_NE(value_error([&] { overlay(img, mask_of(2, 2, {0, 0, 0, 15})); }).find("label 15"), std::string::npos);
  EXPECT_NE(value_error([&] { overlay(img, mask_of(2, 2, {0, 0, 0, 0}), 1.5); }).find("alpha"), std::string::npos);
  EXPECT_NE(value_error([&] { colorize_mask(mask_of(2, 2, {0})); }).find("1 labels for 2x2"), std::string::npos);
}

}  // namespace
}  // namespace sirs
