// Masks and class weights: the two real RSITMD-SS sample masks (classes
// counted with PIL 9.4 + numpy.unique on the development machine), every
// refusal path, and the weight formula with an absent class.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Mask*'
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <functional>
#include <sstream>

#include "data/class_weights.h"
#include "data/mask.h"
#include "tensor/error.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;
namespace fs = std::filesystem;

namespace {

std::vector<int64_t> counts_of(const Mask& m) {
  std::vector<int64_t> c;
  accumulate_class_counts(m, c);
  return c;
}

std::string value_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const ValueError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no ValueError";
  return "";
}

}  // namespace

TEST(MaskRead, RealSampleMasks) {
  SKIP_WITHOUT_SAMPLES();
  Mask airport = read_mask(rsitmd_dir() + "/masks/mask_airport_4691.png");
  ASSERT_EQ(airport.h, 256);
  ASSERT_EQ(airport.w, 256);
  std::vector<int64_t> c = counts_of(airport);
  EXPECT_EQ(c[0], 62143);  // Background
  EXPECT_EQ(c[1], 3393);   // Plane
  for (int k = 2; k < kNumClasses; ++k) EXPECT_EQ(c[size_t(k)], 0) << k;
  Mask river = read_mask(rsitmd_dir() + "/masks/mask_river_3583.png");
  c = counts_of(river);
  EXPECT_EQ(c[0], 58414);  // Background
  EXPECT_EQ(c[5], 7122);   // River
  EXPECT_EQ(c[0] + c[5], 256 * 256);
  check_mask_matches_image(river, "m.png", 256, 256, "i.tif");
}

TEST(MaskRead, ValuesToClassesAndIgnore) {
  TempDir t{"mask_test"};
  Image img(2, 3, 1);
  img.data = {0, 10, 140, 255, 50, 130};
  const std::string p = t.file("m.png");
  write_png(p, img);
  Mask m = read_mask(p);
  EXPECT_EQ(m.labels, (std::vector<uint8_t>{0, 1, 14, 255, 5, 13}));
  std::vector<int64_t> c = counts_of(m);
  EXPECT_EQ(c[0] + c[1] + c[14] + c[5] + c[13], 5);  // 255 not counted
  // write_mask is the inverse.
  write_mask(t.file("w.png"), m);
  EXPECT_EQ(read_stb(t.file("w.png")).data, img.data);
}

TEST(MaskRead, BadValueNamesFileValueAndPosition) {
  TempDir t{"mask_test"};
  Image img(3, 4, 1);
  img.at(2, 1, 0) = 37;
  const std::string p = t.file("bad.png");
  write_png(p, img);
  std::string msg = value_error([&] { read_mask(p); });
  EXPECT_NE(msg.find(p), std::string::npos) << msg;
  EXPECT_NE(msg.find("value 37 at (y=2, x=1)"), std::string::npos) << msg;
  img.at(2, 1, 0) = 150;  // 10 x 15: one class too many
  write_png(p, img);
  msg = value_error([&] { read_mask(p); });
  EXPECT_NE(msg.find("value 150 at (y=2, x=1)"), std::string::npos) << msg;
}

TEST(MaskRead, RgbWithEqualChannelsAcceptedOtherwiseRefused) {
  TempDir t{"mask_test"};
  Image img(2, 2, 3);
  img.data = {10, 10, 10, 0, 0, 0, 255, 255, 255, 20, 20, 20};
  write_png(t.file("rgb.png"), img);
  EXPECT_EQ(read_mask(t.file("rgb.png")).labels, (std::vector<uint8_t>{1, 0, 255, 2}));
  img.at(1, 1, 2) = 30;
  write_png(t.file("rgb2.png"), img);
  std::string msg = value_error([&] { read_mask(t.file("rgb2.png")); });
  EXPECT_NE(msg.find("(20, 20, 30) at (y=1, x=1)"), std::string::npos) << msg;
  write_png(t.file("ga.png"), Image(2, 2, 2));
  msg = value_error([&] { read_mask(t.file("ga.png")); });
  EXPECT_NE(msg.find("2 channels"), std::string::npos) << msg;
  EXPECT_THROW(read_mask(t.file("missing.png")), IOError);
}

TEST(MaskRead, SizeMismatchNamesBothFiles) {
  Mask m;
  m.h = 256;
  m.w = 200;
  m.labels.assign(256 * 200, 0);
  std::string msg =
      value_error([&] { check_mask_matches_image(m, "masks/mask_a.png", 256, 256, "images/a.tif"); });
  EXPECT_NE(msg.find("mask masks/mask_a.png is 256x200 but its image images/a.tif is 256x256"),
            std::string::npos) << msg;
}

TEST(MaskClassWeights, FormulaAndAbsentClasses) {
  std::vector<int64_t> counts(kNumClasses, 0);
  counts[0] = 1000;
  counts[1] = 10;
  counts[5] = 400;
  std::ostringstream warn;
  std::vector<float> w = class_weights_from_counts(counts, warn);
  ASSERT_EQ(w.size(), size_t(kNumClasses));
  EXPECT_FLOAT_EQ(w[0], 1.f);
  EXPECT_FLOAT_EQ(w[1], 100.f);
  EXPECT_FLOAT_EQ(w[5], 2.5f);
  for (int k : {2, 3, 4, 6, 14}) EXPECT_EQ(w[size_t(k)], 0.f) << k;
  const std::string msg = warn.str();
  EXPECT_NE(msg.find("2 (Boat), 3 (StorageTank), 4 (Pond), 6 (Beach)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("14 (Bridge)"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("5 (River)"), std::string::npos) << msg;
  std::ostringstream quiet;
  counts.assign(kNumClasses, 7);
  for (float x : class_weights_from_counts(counts, quiet)) EXPECT_EQ(x, 1.f);
  EXPECT_TRUE(quiet.str().empty());
  counts.assign(kNumClasses, 0);
  EXPECT_THROW(class_weights_from_counts(counts, quiet), ValueError);
}

TEST(MaskClassWeights, RealSampleMasks) {
  SKIP_WITHOUT_SAMPLES();
  testing::internal::CaptureStderr();
  std::vector<float> w = class_weights_from_masks({rsitmd_dir() + "/masks/mask_airport_4691.png",
                                                   rsitmd_dir() + "/masks/mask_river_3583.png"});
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_FLOAT_EQ(w[0], 1.f);
  EXPECT_FLOAT_EQ(w[1], float(120557.0 / 3393.0));
  EXPECT_FLOAT_EQ(w[5], float(120557.0 / 7122.0));
  EXPECT_EQ(w[2], 0.f);
  EXPECT_NE(err.find("warning"), std::string::npos) << err;
  EXPECT_NE(err.find("13 (Stadium)"), std::string::npos) << err;
}

// A model with fewer classes than RSITMD-SS (`sirs train` with model.num_classes
// 4): one weight per model class, and a mask holding a class the model cannot
// predict is refused by name.
TEST(MaskClassWeights, SizedToTheModelsClasses) {
  TempDir t{"mask_test"};
  Mask m;
  m.h = 1, m.w = 8;
  m.labels = {0, 0, 0, 0, 1, 1, 3, kIgnoreLabel};
  write_mask(t.file("a.png"), m);
  testing::internal::CaptureStderr();
  std::vector<float> w = class_weights_from_masks({t.file("a.png")}, 4);
  const std::string err = testing::internal::GetCapturedStderr();
  ASSERT_EQ(w.size(), 4u);
  EXPECT_FLOAT_EQ(w[0], 1.f);
  EXPECT_FLOAT_EQ(w[1], 2.f);
  EXPECT_EQ(w[2], 0.f);
  EXPECT_FLOAT_EQ(w[3], 4.f);
  EXPECT_NE(err.find("2 (Boat)"), std::string::npos) << err;
  EXPECT_EQ(err.find("4 (Pond)"), std::string::npos) << err;
  m.labels[7] = 5;
  write_mask(t.file("b.png"), m);
  const std::string msg = value_error([&] { class_weights_from_masks({t.file("b.png")}, 4); });
  EXPECT_NE(msg.find("b.png has 1 pixels of class 5 (River)"), std::string::npos) << msg;
}
