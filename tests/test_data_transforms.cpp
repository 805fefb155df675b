// Transforms and pipelines (data/transforms.h, data/pipeline.h): every op on
// small images against pixels computed by hand (the arithmetic is in the
// comments), plus a few larger cases against PIL 9.4 (Debian python3-pil,
// which torchvision's transforms call on PIL images) pasted as literals.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Transforms*'
#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <vector>

#include "data/pipeline.h"
#include "data/transforms.h"
#include "tensor/error.h"

using namespace sirs;

namespace {

Image gray(int h, int w, const std::vector<int>& v) {
  Image img(h, w, 1);
  for (size_t i = 0; i < v.size(); ++i) img.data[i] = uint8_t(v[i]);
  return img;
}

std::vector<int> values(const Image& img) {
  return std::vector<int>(img.data.begin(), img.data.end());
}
std::vector<int> values(const Mask& m) {
  return std::vector<int>(m.labels.begin(), m.labels.end());
}

Mask mask_of(int h, int w, const std::vector<int>& v) {
  Mask m;
  m.h = h;
  m.w = w;
  for (int x : v) m.labels.push_back(uint8_t(x));
  return m;
}

// A deterministic "random" image.
Image noise(int h, int w, int c, uint32_t seed) {
  Image img(h, w, c);
  uint32_t s = seed * 2654435761u + 12345u;
  for (auto& b : img.data) {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    b = uint8_t(s >> 24);
  }
  return img;
}

Mask noise_mask(int h, int w, uint32_t seed) {
  Mask m;
  m.h = h;
  m.w = w;
  uint32_t s = seed * 2246822519u + 7u;
  for (int i = 0; i < h * w; ++i) {
    s ^= s << 13, s ^= s >> 17, s ^= s << 5;
    const uint32_t r = (s >> 20) % 16;
    m.labels.push_back(uint8_t(r == 15 ? 255 : r));
  }
  return m;
}

Image transpose(const Image& a) {
  Image t(a.w, a.h, a.c);
  for (int y = 0; y < a.h; ++y)
    for (int x = 0; x < a.w; ++x)
      for (int c = 0; c < a.c; ++c) t.at(x, y, c) = a.at(y, x, c);
  return t;
}

template <class Fn>
void expect_value_error(Fn fn, const std::string& needle) {
  try {
    fn();
    FAIL() << "expected ValueError containing '" << needle << "'";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
  }
}

}  // namespace

// ---------------------------------------------------------------- resize

TEST(TransformsResize, BilinearUpscaleRowByHand) {
  // 2 -> 4 samples: centres (i + 0.5) * 2/4 - 0.5 = -0.25, 0.25, 0.75, 1.25 in
  // source pixels, clamped at the edges: 0, 0.75*0 + 0.25*100, 0.25*0 + 0.75*100, 100.
  EXPECT_EQ(values(resize_bilinear(gray(1, 2, {0, 100}), 1, 4)),
            (std::vector<int>{0, 25, 75, 100}));
}

TEST(TransformsResize, BilinearDownscaleIsAntialiased) {
  // 4 -> 2: the triangle widens to support 2 (antialiasing, as PIL). Output 0
  // has centre 1.0 and taps 0, 1, 2 at distances 0.5, 0.5, 1.5 pixels, i.e.
  // weights (1 - 0.25, 1 - 0.25, 1 - 0.75) / 1.75:
  //   (0*0.75 + 40*0.75 + 80*0.25) / 1.75 = 28.57 -> 29
  // output 1 (centre 3.0, taps 1, 2, 3, weights 0.25, 0.75, 0.75):
  //   (40*0.25 + 80*0.75 + 120*0.75) / 1.75 = 91.43 -> 91
  // (plain bilinear without antialiasing would give 20 and 100).
  EXPECT_EQ(values(resize_bilinear(gray(1, 4, {0, 40, 80, 120}), 1, 2)),
            (std::vector<int>{29, 91}));
}

TEST(TransformsResize, Bilinear2dHorizontalThenVerticalByHand) {
  // [[0, 100], [200, 40]] -> 4x4. Horizontal pass (weights 1 | .75,.25 | .25,.75 | 1):
  //   row 0: 0, 25, 75, 100        row 1: 200, 160, 80, 40
  // vertical pass, rows 1 and 2 mix (.75, .25) and (.25, .75), rounded:
  //   row 1: 50, 58.75 -> 59, 76.25 -> 76, 85
  //   row 2: 150, 126.25 -> 126, 78.75 -> 79, 55
  const std::vector<int> expect = {0,   25,  75, 100, 50,  59,  76, 85,
                                   150, 126, 79, 55,  200, 160, 80, 40};
  EXPECT_EQ(values(resize_bilinear(gray(2, 2, {0, 100, 200, 40}), 4, 4)), expect);
  // Three channels: the same per channel (second channel 255 - v: no rounding ties).
  Image rgb(2, 2, 3);
  const int v[4] = {0, 100, 200, 40};
  for (int i = 0; i < 4; ++i) {
    rgb.data[3 * i] = uint8_t(v[i]);
    rgb.data[3 * i + 1] = uint8_t(255 - v[i]);
    rgb.data[3 * i + 2] = 7;
  }
  const Image r = resize_bilinear(rgb, 4, 4);
  for (int i = 0; i < 16; ++i) {
    EXPECT_EQ(r.data[3 * i], expect[i]) << i;
    EXPECT_EQ(r.data[3 * i + 1], 255 - expect[i]) << i;
    EXPECT_EQ(r.data[3 * i + 2], 7) << i;
  }
}

TEST(TransformsResize, BilinearMatchesPil) {
  // v(y, x, c) = (37x + 91y + 53c) % 256, 5x7 RGB, resized with PIL 9.4:
  //   Image.fromarray(a).resize((w, h), Image.BILINEAR)
  Image a(5, 7, 3);
  for (int y = 0; y < 5; ++y)
    for (int x = 0; x < 7; ++x)
      for (int c = 0; c < 3; ++c) a.at(y, x, c) = uint8_t((x * 37 + y * 91 + c * 53) % 256);
  const std::vector<int> down = {58,  111, 159, 116, 169, 134, 162, 158, 151, 137, 109, 99,
                                 137, 129, 105, 88,  113, 120, 117, 140, 136, 132, 152, 178,
                                 88,  141, 187, 146, 158, 135, 109, 121, 95,  126, 121, 122};
  EXPECT_EQ(values(resize_bilinear(a, 3, 4)), down);
  const std::vector<int> up = {
      0,   53,  106, 17,  70,  123, 40,  93,  146, 64,  117, 170, 87,  140, 193, 111, 164, 217, 135,
      188, 241, 158, 211, 194, 182, 235, 55,  205, 119, 55,  222, 19,  72,  30,  83,  136, 47,  100,
      153, 70,  123, 169, 94,  147, 138, 117, 170, 138, 141, 194, 162, 165, 164, 186, 165, 156, 162,
      135, 180, 78,  150, 110, 85,  167, 49,  102, 81,  134, 187, 98,  151, 204, 121, 174, 206, 145,
      198, 86,  168, 221, 46,  192, 245, 70,  216, 124, 94,  177, 64,  110, 56,  88,  115, 58,  96,
      136, 75,  100, 153, 131, 184, 124, 148, 149, 141, 161, 111, 151, 113, 135, 84,  105, 158, 68,
      129, 182, 92,  153, 115, 116, 137, 86,  139, 70,  110, 163, 80,  133, 186, 97,  150, 203, 182,
      235, 32,  199, 135, 49,  199, 19,  72,  60,  43,  96,  13,  66,  119, 37,  90,  143, 61,  114,
      167, 84,  137, 190, 108, 161, 214, 131, 184, 237, 148, 201, 254, 90,  143, 83,  107, 108, 100,
      120, 70,  123, 72,  94,  147, 64,  117, 170, 88,  141, 194, 112, 165, 127, 135, 188, 98,  159,
      212, 122, 182, 157, 145, 199, 109, 162, 27,  80,  133, 44,  97,  150, 67,  120, 171, 91,  144,
      176, 114, 157, 192, 138, 163, 216, 144, 187, 95,  157, 210, 35,  181, 234, 59,  204, 133, 82,
      221, 46,  99,  78,  131, 184, 95,  148, 201, 118, 171, 208, 142, 195, 124, 165, 156, 100, 189,
      71,  124, 104, 95,  94,  65,  118, 86,  89,  142, 110, 112, 119, 133, 129, 97,  150, 108, 161,
      214, 125, 178, 231, 148, 201, 231, 172, 225, 92,  195, 155, 45,  219, 16,  69,  80,  40,  93,
      10,  63,  116, 34,  87,  140, 57,  110, 163, 74,  127, 180};
  EXPECT_EQ(values(resize_bilinear(a, 9, 11)), up);
}

TEST(TransformsResize, SameSizeIsACopyAndErrorsNameTheOp) {
  const Image a = noise(6, 5, 3, 1);
  EXPECT_EQ(values(resize_bilinear(a, 6, 5)), values(a));
  expect_value_error([&] { resize_bilinear(a, 0, 5); }, "resize_bilinear");
  expect_value_error([&] { resize_nearest(Mask(), 3, 3); }, "resize_nearest");
}

TEST(TransformsResize, NearestMaskByHand) {
  // 2 -> 4: sources floor((i + 0.5) / 2) = 0, 0, 1, 1: every label doubled.
  EXPECT_EQ(values(resize_nearest(mask_of(2, 2, {1, 255, 14, 0}), 4, 4)),
            (std::vector<int>{1, 1, 255, 255, 1, 1, 255, 255, 14, 14, 0, 0, 14, 14, 0, 0}));
  // 4 -> 3: floor((i + 0.5) * 4/3) = floor(0.67), floor(2.0), floor(3.33) = 0, 2, 3
  // (PIL 9.4 NEAREST gives the same rows and columns).
  const Mask m = mask_of(4, 4, {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 255});
  EXPECT_EQ(values(resize_nearest(m, 3, 3)), (std::vector<int>{0, 2, 3, 8, 10, 11, 12, 14, 255}));
  // Labels pass through unchanged (no mixing).
  const Mask big = resize_nearest(noise_mask(9, 7, 3), 20, 23);
  std::set<int> seen(big.labels.begin(), big.labels.end());
  for (int l : seen) EXPECT_TRUE(l == 255 || l < kNumClasses) << l;
}

TEST(TransformsResize, NearestTable256To278MatchesPil) {
  // PIL 9.4: Image.fromarray(arange(256) row).resize((278, 1), NEAREST)
  // repeats the previous source index exactly at these output positions.
  const std::vector<int> repeats = {6,   19,  32,  44,  57,  70,  82,  95,  107, 120, 133,
                                    145, 158, 171, 183, 196, 208, 221, 234, 246, 259, 272};
  const std::vector<int> t = detail::nearest_index_table(256, 278);
  ASSERT_EQ(t.size(), 278u);
  EXPECT_EQ(t[0], 0);
  std::vector<int> got;
  for (int i = 1; i < 278; ++i) {
    ASSERT_TRUE(t[i] == t[i - 1] || t[i] == t[i - 1] + 1) << i;
    if (t[i] == t[i - 1]) got.push_back(i);
  }
  EXPECT_EQ(got, repeats);
  EXPECT_EQ(t[277], 255);
}

// ---------------------------------------------------------------- rotate

TEST(TransformsRotate, QuarterTurnIsTransposeThenFlip) {
  // Counter-clockwise 90: out(y, x) = in(x, W-1-y) = vflip(transpose(in)).
  for (int n : {4, 5}) {
    const Image a = noise(n, n, 3, uint32_t(n));
    for (Interp it : {Interp::kNearest, Interp::kBilinear}) {
      EXPECT_EQ(values(rotate(a, 90, it)), values(vflip(transpose(a)))) << n;
      EXPECT_EQ(values(rotate(a, 180, it)), values(hflip(vflip(a)))) << n;
      EXPECT_EQ(values(rotate(a, 270, it)), values(hflip(transpose(a)))) << n;
      EXPECT_EQ(values(rotate(a, -90, it)), values(hflip(transpose(a)))) << n;
      EXPECT_EQ(values(rotate(a, 0, it)), values(a)) << n;
    }
  }
  // Top-left of a CCW quarter turn is the input's top-right.
  const Image g = gray(2, 2, {1, 2, 3, 4});
  EXPECT_EQ(values(rotate(g, 90)), (std::vector<int>{2, 4, 1, 3}));
}

TEST(TransformsRotate, FortyFiveDegreesNearestByHand) {
  // 4x4, centre (2, 2), 45 degrees counter-clockwise. Output pixel centre p
  // samples R(-45)(p - c) + c; with d = p - c:
  //   xin = cos dx - sin dy + 2,  yin = sin dx + cos dy + 2  (cos = sin = .7071)
  //   (x=0,y=0): d = (-1.5,-1.5): xin = 2, yin = -0.12 -> outside -> fill 0
  //   (x=1,y=0): d = (-0.5,-1.5): xin = 2.71 -> 2, yin = 0.59 -> 0: in(0, 2) = 30
  //   (x=1,y=1): d = (-0.5,-0.5): xin = 2,         yin = 1.29 -> 1: in(1, 2) = 70
  // The whole result equals PIL 9.4 Image.rotate(45, NEAREST).
  const Image a =
      gray(4, 4, {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160});
  const Image r = rotate(a, 45, Interp::kNearest);
  EXPECT_EQ(r.at(0, 0, 0), 0);
  EXPECT_EQ(r.at(0, 1, 0), 30);
  EXPECT_EQ(r.at(1, 1, 0), 70);
  EXPECT_EQ(values(r),
            (std::vector<int>{0, 30, 80, 0, 20, 70, 110, 120, 50, 100, 110, 150, 0, 90, 140, 0}));
}

TEST(TransformsRotate, ThirtyDegreesBilinearByHand) {
  // 30 degrees: cos = .8660, sin = .5. Output (x=1, y=0): d = (-0.5, -1.5),
  //   xin = .866*(-0.5) - .5*(-1.5) + 2 = 2.317, yin = .5*(-0.5) + .866*(-1.5) + 2 = 0.451
  //   bilinear between centres: fx = 1.817, fy = -0.049 -> rows clamp to 0:
  //   20 + (30-20)*0.817 = 28.17 -> 28 (PIL truncates)
  // The whole result equals PIL 9.4 Image.rotate(30, BILINEAR).
  const Image a =
      gray(4, 4, {10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160});
  const Image r = rotate(a, 30, Interp::kBilinear);
  EXPECT_EQ(r.at(0, 1, 0), 28);
  EXPECT_EQ(values(r),
            (std::vector<int>{0, 28, 54, 0, 27, 55, 84, 112, 57, 85, 114, 142, 0, 115, 141, 0}));
  // Nearest (torchvision's default) on the same image, PIL 9.4 Image.rotate(30, NEAREST).
  EXPECT_EQ(values(rotate(a, 30, Interp::kNearest)),
            (std::vector<int>{0, 30, 40, 0, 10, 60, 70, 120, 50, 100, 110, 160, 0, 130, 140, 0}));
}

TEST(TransformsRotate, CornersAreFilled) {
  Image white(8, 8, 3);
  std::fill(white.data.begin(), white.data.end(), 255);
  for (Interp it : {Interp::kNearest, Interp::kBilinear}) {
    const Image r = rotate(white, 45, it);
    for (int c = 0; c < 3; ++c) {
      EXPECT_EQ(r.at(0, 0, c), 0);
      EXPECT_EQ(r.at(0, 7, c), 0);
      EXPECT_EQ(r.at(7, 0, c), 0);
      EXPECT_EQ(r.at(7, 7, c), 0);
      EXPECT_EQ(r.at(3, 3, c), 255);
      EXPECT_EQ(r.at(4, 4, c), 255);
      EXPECT_EQ(r.at(0, 3, c), 255);  // the top edge's middle stays inside
    }
    EXPECT_EQ(rotate(white, 45, it, 9).at(0, 0, 1), 9);  // custom fill
  }
  Mask m = mask_of(8, 8, std::vector<int>(64, 3));
  const Mask r0 = rotate(m, 45);
  EXPECT_EQ(r0.labels[0], 0);  // reference: Background
  EXPECT_EQ(r0.labels[27], 3);
  EXPECT_EQ(rotate(m, 45, kIgnoreLabel).labels[63], 255);
}

TEST(TransformsRotate, MaskLabelsPreservedExactly) {
  // Nearest ops only copy labels: the rotated mask equals the rotated image
  // of the same bytes, and holds no label absent from the input but the fill.
  const Mask m = noise_mask(11, 11, 5);
  Image as_img(11, 11, 1);
  as_img.data = m.labels;
  for (double deg : {13.0, 37.5, 61.0, 89.9}) {
    const Mask r = rotate(m, deg, 0);
    EXPECT_EQ(r.labels, rotate(as_img, deg, Interp::kNearest, 0).data) << deg;
    const std::set<uint8_t> in(m.labels.begin(), m.labels.end());
    for (uint8_t l : r.labels) EXPECT_TRUE(l == 0 || in.count(l)) << int(l);
  }
}

TEST(TransformsRotate, FusedRotateCropEqualsTheSequence) {
  const Image a = noise(9, 9, 3, 7);
  const Mask m = noise_mask(9, 9, 8);
  for (double deg : {0.0, 33.0, 90.0, 71.25})
    for (int flips = 0; flips < 4; ++flips)
      for (Interp it : {Interp::kNearest, Interp::kBilinear}) {
        RotateCrop g;
        g.degrees = deg;
        g.x = 2, g.y = 1, g.w = 5, g.h = 6;
        g.hflip = flips & 1;
        g.vflip = flips & 2;
        Image seq = crop(rotate(a, deg, it, 4), 2, 1, 5, 6);
        if (g.hflip) seq = hflip(seq);
        if (g.vflip) seq = vflip(seq);
        EXPECT_EQ(values(rotate_crop(a, g, it, 4)), values(seq)) << deg << " " << flips;
        Mask mseq = crop(rotate(m, deg, 255), 2, 1, 5, 6);
        if (g.hflip) mseq = hflip(mseq);
        if (g.vflip) mseq = vflip(mseq);
        EXPECT_EQ(rotate_crop(m, g, 255).labels, mseq.labels) << deg << " " << flips;
      }
  RotateCrop bad;
  bad.x = 5, bad.w = 5, bad.h = 2;
  expect_value_error([&] { rotate_crop(a, bad, Interp::kNearest); }, "leaves the 9x9");
  bad = RotateCrop();
  bad.w = bad.h = 3;
  bad.degrees = NAN;
  expect_value_error([&] { rotate_crop(a, bad, Interp::kNearest); }, "angle");
}

// ---------------------------------------------------------------- crop / flip

TEST(TransformsCrop, ByHandAndBounds) {
  const Image a = gray(3, 4, {0, 1, 2, 3, 10, 11, 12, 13, 20, 21, 22, 23});
  EXPECT_EQ(values(crop(a, 1, 1, 2, 2)), (std::vector<int>{11, 12, 21, 22}));
  EXPECT_EQ(values(crop(a, 0, 0, 4, 3)), values(a));
  EXPECT_EQ(values(crop(mask_of(2, 3, {1, 2, 3, 4, 5, 255}), 1, 0, 2, 2)),
            (std::vector<int>{2, 3, 5, 255}));
  expect_value_error([&] { crop(a, 3, 0, 2, 1); }, "crop window x=3 y=0 w=2 h=1 leaves the 4x3");
  expect_value_error([&] { crop(a, -1, 0, 1, 1); }, "leaves");
  expect_value_error([&] { crop(a, 0, 0, 0, 1); }, "positive");
  expect_value_error([&] { crop(mask_of(2, 2, {0, 0, 0, 0}), 0, 1, 1, 2); }, "crop (mask)");
}

TEST(TransformsFlip, ByHand) {
  Image a(2, 3, 2);
  for (int i = 0; i < 12; ++i) a.data[i] = uint8_t(i);
  // pixels (two channels each): row 0 = (0,1) (2,3) (4,5), row 1 = (6,7) (8,9) (10,11)
  EXPECT_EQ(values(hflip(a)), (std::vector<int>{4, 5, 2, 3, 0, 1, 10, 11, 8, 9, 6, 7}));
  EXPECT_EQ(values(vflip(a)), (std::vector<int>{6, 7, 8, 9, 10, 11, 0, 1, 2, 3, 4, 5}));
  const Mask m = mask_of(2, 2, {1, 2, 3, 255});
  EXPECT_EQ(values(hflip(m)), (std::vector<int>{2, 1, 255, 3}));
  EXPECT_EQ(values(vflip(m)), (std::vector<int>{3, 255, 1, 2}));
}

// ---------------------------------------------------------------- normalise

TEST(TransformsNormalize, ImageNetChwByHand) {
  // Pixels (0, 255, 128) and (255, 0, 51):
  //   R: (0 - .485) / .229 = -2.117904   (1 - .485) / .229 = 2.248908
  //   G: (1 - .456) / .224 = 2.428571    (0 - .456) / .224 = -2.035714
  //   B: (128/255 - .406) / .225 = 0.426492   (.2 - .406) / .225 = -0.915556
  Image img(1, 2, 3);
  img.data = {0, 255, 128, 255, 0, 51};
  std::vector<float> out(6, -99.f);
  to_chw_normalized(img, kImageNetMean, kImageNetStd, out.data());
  const float expect[6] = {-2.117904f, 2.248908f, 2.428571f, -2.035714f, 0.426492f, -0.915556f};
  for (int i = 0; i < 6; ++i) EXPECT_NEAR(out[i], expect[i], 2e-6) << i;
  std::vector<float> tiny(3);
  expect_value_error(
      [&] { to_chw_normalized(gray(1, 1, {0}), kImageNetMean, kImageNetStd, tiny.data()); },
      "3-channel");
  std::vector<int64_t> labels(4);
  mask_to_int64(mask_of(2, 2, {0, 14, 255, 7}), labels.data());
  EXPECT_EQ(labels, (std::vector<int64_t>{0, 14, 255, 7}));
}

// ---------------------------------------------------------------- pipeline

TEST(TransformsPipeline, EvaluationIsResizeAndNormalise) {
  const Image a = noise(12, 12, 3, 3);
  const Mask m = noise_mask(12, 12, 4);
  const PipelineOptions ev = PipelineOptions::evaluation(12);
  EXPECT_FALSE(ev.random());
  std::vector<float> out(3 * 144), ref(3 * 144);
  std::vector<int64_t> mout(144);
  run_pipeline(a, &m, ev, Augment{}, out.data(), mout.data());
  to_chw_normalized(a, kImageNetMean, kImageNetStd, ref.data());
  EXPECT_EQ(out, ref);
  for (int i = 0; i < 144; ++i) EXPECT_EQ(mout[i], m.labels[i]);
  // Another size resizes (bilinear image, nearest mask).
  const PipelineOptions ev8 = PipelineOptions::evaluation(8);
  std::vector<float> o8(3 * 64), r8(3 * 64);
  std::vector<int64_t> m8(64);
  run_pipeline(a, &m, ev8, Augment{}, o8.data(), m8.data());
  to_chw_normalized(resize_bilinear(a, 8, 8), kImageNetMean, kImageNetStd, r8.data());
  EXPECT_EQ(o8, r8);
  const Mask mr = resize_nearest(m, 8, 8);
  for (int i = 0; i < 64; ++i) EXPECT_EQ(m8[i], mr.labels[i]);
}

TEST(TransformsPipeline, TrainingEqualsTheTransformsInTurn) {
  // The fused pass (nearest) and the general path (bilinear) both equal
  // resize -> rotate -> crop -> flips -> normalise, image and mask alike.
  const Image a = noise(20, 20, 3, 11);
  const Mask m = noise_mask(20, 20, 12);
  for (Interp it : {Interp::kNearest, Interp::kBilinear})
    for (int sample = 0; sample < 6; ++sample) {
      PipelineOptions opt = PipelineOptions::training(23, 17, 90);
      opt.rotate_interp = it;
      opt.hflip = opt.vflip = true;
      opt.mask_fill = kIgnoreLabel;
      const Augment aug = draw_augment(opt, 5, 1, sample);
      std::vector<float> out(3 * 17 * 17), ref(3 * 17 * 17);
      std::vector<int64_t> mout(17 * 17);
      run_pipeline(a, &m, opt, aug, out.data(), mout.data());

      Image seq =
          crop(rotate(resize_bilinear(a, 23, 23), aug.degrees, it), aug.crop_x, aug.crop_y, 17, 17);
      Mask mseq = crop(rotate(resize_nearest(m, 23, 23), aug.degrees, kIgnoreLabel), aug.crop_x,
                       aug.crop_y, 17, 17);
      if (aug.hflip) seq = hflip(seq), mseq = hflip(mseq);
      if (aug.vflip) seq = vflip(seq), mseq = vflip(mseq);
      to_chw_normalized(seq, kImageNetMean, kImageNetStd, ref.data());
      EXPECT_EQ(out, ref) << sample;
      for (int i = 0; i < 17 * 17; ++i) ASSERT_EQ(mout[i], mseq.labels[i]) << sample << " " << i;
    }
}

TEST(TransformsPipeline, DrawsAreSeededAndInRange) {
  const PipelineOptions opt = PipelineOptions::training();  // 278 / 256 / [0, 90]
  double lo = 1e9, hi = -1e9;
  std::set<int> xs;
  for (int s = 0; s < 400; ++s) {
    const Augment a = draw_augment(opt, 42, 3, s);
    const Augment b = draw_augment(opt, 42, 3, s);
    EXPECT_EQ(a.degrees, b.degrees);
    EXPECT_EQ(a.crop_x, b.crop_x);
    EXPECT_EQ(a.crop_y, b.crop_y);
    ASSERT_GE(a.degrees, 0.0);
    ASSERT_LT(a.degrees, 90.0);
    ASSERT_GE(a.crop_x, 0);
    ASSERT_LE(a.crop_x, 22);
    ASSERT_GE(a.crop_y, 0);
    ASSERT_LE(a.crop_y, 22);
    EXPECT_FALSE(a.hflip || a.vflip);  // flips off in the reference pipeline
    lo = std::min(lo, a.degrees);
    hi = std::max(hi, a.degrees);
    xs.insert(a.crop_x);
  }
  EXPECT_LT(lo, 5.0);
  EXPECT_GT(hi, 85.0);
  EXPECT_EQ(xs.size(), 23u);  // every offset 0..22 drawn
  // Other epoch, sample or seed: other parameters.
  const Augment base = draw_augment(opt, 42, 3, 0);
  EXPECT_NE(draw_augment(opt, 42, 4, 0).degrees, base.degrees);
  EXPECT_NE(draw_augment(opt, 42, 3, 1).degrees, base.degrees);
  EXPECT_NE(draw_augment(opt, 43, 3, 0).degrees, base.degrees);
}

TEST(TransformsPipeline, OptionErrors) {
  PipelineOptions o = PipelineOptions::training(10, 12);
  expect_value_error([&] { o.validate(); }, "crop must be in [0, resize=10]");
  o = PipelineOptions::training();
  o.min_rotation = 10, o.max_rotation = 5;
  expect_value_error([&] { o.validate(); }, "rotation range");
  o = PipelineOptions::evaluation(4);
  const Image a = noise(6, 6, 3, 1);
  const Mask m = noise_mask(5, 6, 1);
  std::vector<float> out(48);
  std::vector<int64_t> mo(16);
  expect_value_error([&] { run_pipeline(a, &m, o, Augment{}, out.data(), mo.data()); },
                     "mask is 5x6 but its image is 6x6");
  expect_value_error(
      [&] {
        run_pipeline(gray(6, 6, std::vector<int>(36, 0)), nullptr, o, Augment{}, out.data(),
                     nullptr);
      },
      "RGB");
}
