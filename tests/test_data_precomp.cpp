// Precomp dataset reader: the real RSITMD sample lists (from SIRS_SAMPLES_DIR,
// skipped when absent) and small hand-written lists for every error path.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Data*'
#include <gtest/gtest.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "data/precomp.h"
#include "tensor/error.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;
namespace fs = std::filesystem;

namespace {

// Five captions per image, n images, names one per image (or per caption).
std::string caps_text(int n_img, const std::string& eol = "\n") {
  std::string s;
  for (int i = 0; i < n_img; ++i)
    for (int j = 0; j < 5; ++j) s += "caption " + std::to_string(i) + "." + std::to_string(j) + eol;
  return s;
}
std::string names_text(int n_img, int repeat, const std::string& eol = "\n") {
  std::string s;
  for (int i = 0; i < n_img; ++i)
    for (int j = 0; j < repeat; ++j) s += "img_" + std::to_string(i) + ".tif" + eol;
  return s;
}

template <class E, class F>
std::string error_of(F&& f) {
  try {
    f();
  } catch (const E& e) {
    return e.what();
  }
  ADD_FAILURE() << "no exception of the expected type";
  return "";
}

}  // namespace

TEST(DataPrecomp, RealTrainSplitOneNamePerImage) {
  SKIP_WITHOUT_SAMPLES();
  PrecompOptions opt;
  opt.allow_empty_captions = true;
  PrecompSplit s = read_precomp(rsitmd_dir() + "/precomp", "train", opt);
  EXPECT_EQ(s.num_captions(), 21455);
  EXPECT_EQ(s.num_images(), 4291);
  EXPECT_EQ(s.names_per_image, 1);
  EXPECT_EQ(s.image_names[0], "baseballfield_452.tif");
  EXPECT_EQ(s.image_names[1], "baseballfield_453.tif");
  EXPECT_EQ(s.captions[0],
            "There is a baseball field beside the green amusement park around the red track.");
  EXPECT_EQ(s.image_of_caption(7), 1);
  // The four images whose captions are all empty in the public file.
  EXPECT_EQ(s.captions[9630], "");
  EXPECT_EQ(s.captions[20919], "");
  EXPECT_EQ(s.image_names[9630 / 5], "mountain_2378.tif");
  EXPECT_EQ(s.image_names[14010 / 5], "railwaystation_3254.tif");
  EXPECT_TRUE(s.image_paths.empty());
}

TEST(DataPrecomp, RealTrainSplitEmptyCaptionsRefusedByDefault) {
  SKIP_WITHOUT_SAMPLES();
  std::string msg = error_of<ValueError>([&] { read_precomp(rsitmd_dir() + "/precomp", "train"); });
  EXPECT_NE(msg.find("train_caps.txt"), std::string::npos) << msg;
  EXPECT_NE(msg.find("20 empty caption line(s), line 9631, 9632, 9633, 9634, 9635, 14011"),
            std::string::npos) << msg;
  EXPECT_NE(msg.find("allow_empty_captions"), std::string::npos) << msg;
}

TEST(DataPrecomp, RealTestSplitOneNamePerCaption) {
  SKIP_WITHOUT_SAMPLES();
  PrecompSplit s = read_precomp(rsitmd_dir() + "/precomp", "test");
  EXPECT_EQ(s.num_captions(), 2260);
  EXPECT_EQ(s.num_images(), 452);
  EXPECT_EQ(s.names_per_image, 5);
  EXPECT_EQ(s.image_names[0], "boat_0.tif");
  EXPECT_EQ(s.captions[1], "Two large ships loaded with cargo docked on both sides of the grey port.");
}

TEST(DataPrecomp, RealImagesAndMasks) {
  SKIP_WITHOUT_SAMPLES();
  TempDir t{"data_test"};
  t.write("train_caps.txt", caps_text(2));
  t.write("train_filename.txt", "airport_4691.tif\nriver_3583.tif\n");
  PrecompOptions opt;
  opt.image_dir = rsitmd_dir() + "/images";
  opt.mask_dir = rsitmd_dir() + "/masks/";
  PrecompSplit s = read_precomp(t.path.string(), "train", opt);
  ASSERT_EQ(s.num_images(), 2);
  EXPECT_EQ(s.image_paths[1], rsitmd_dir() + "/images/river_3583.tif");
  EXPECT_EQ(s.mask_paths[0], rsitmd_dir() + "/masks/mask_airport_4691.png");
}

TEST(DataPrecomp, MaskNameUsesTheStem) {
  EXPECT_EQ(mask_name_for("airport_4691.tif"), "mask_airport_4691.png");
  EXPECT_EQ(mask_name_for("a.b.jpg"), "mask_a.b.png");
  EXPECT_EQ(mask_name_for("sub/x.tif"), "mask_x.png");
  EXPECT_EQ(mask_name_for("noext"), "mask_noext.png");
}

TEST(DataPrecomp, CrlfAndMissingFinalNewline) {
  TempDir t{"data_test"};
  std::string caps = caps_text(2, "\r\n");
  caps.resize(caps.size() - 2);  // no final newline
  t.write("val_caps.txt", caps);
  t.write("val_filename.txt", "img_0.tif\r\nimg_1.tif");
  PrecompSplit s = read_precomp(t.path.string(), "val");
  ASSERT_EQ(s.num_captions(), 10);
  EXPECT_EQ(s.captions[9], "caption 1.4");
  EXPECT_EQ(s.captions[0], "caption 0.0");
  EXPECT_EQ(s.image_names[1], "img_1.tif");
}

TEST(DataPrecomp, CountMismatchNamesBothFilesAndCounts) {
  TempDir t{"data_test"};
  t.write("train_caps.txt", caps_text(3));
  t.write("train_filename.txt", names_text(2, 1));
  std::string msg = error_of<ValueError>([&] { read_precomp(t.path.string(), "train"); });
  EXPECT_NE(msg.find("train_filename.txt has 2 names"), std::string::npos) << msg;
  EXPECT_NE(msg.find("train_caps.txt has 15 captions"), std::string::npos) << msg;
  EXPECT_NE(msg.find("expected 3 (one per image) or 15 (one per caption)"), std::string::npos)
      << msg;
}

TEST(DataPrecomp, CaptionsNotMultipleOfFive) {
  TempDir t{"data_test"};
  t.write("train_caps.txt", caps_text(2) + "extra\n");
  t.write("train_filename.txt", names_text(2, 1));
  std::string msg = error_of<ValueError>([&] { read_precomp(t.path.string(), "train"); });
  EXPECT_NE(msg.find("has 11 captions, not a multiple of 5"), std::string::npos) << msg;
}

TEST(DataPrecomp, RepeatedNamesMustAgree) {
  TempDir t{"data_test"};
  std::string names = names_text(2, 5);
  names.replace(names.find("img_1.tif"), 9, "img_9.tif");  // line 6
  t.write("test_caps.txt", caps_text(2));
  t.write("test_filename.txt", names);
  std::string msg = error_of<ValueError>([&] { read_precomp(t.path.string(), "test"); });
  EXPECT_NE(msg.find("line 7: name 'img_1.tif' differs from 'img_9.tif' on line 6"),
            std::string::npos) << msg;
}

TEST(DataPrecomp, EmptyCaptionLineNamed) {
  TempDir t{"data_test"};
  std::string caps = caps_text(2);
  caps.replace(caps.find("caption 1.2"), 11, "   ");  // line 8, whitespace only
  t.write("train_caps.txt", caps);
  t.write("train_filename.txt", names_text(2, 1));
  std::string msg = error_of<ValueError>([&] { read_precomp(t.path.string(), "train"); });
  EXPECT_NE(msg.find("train_caps.txt: 1 empty caption line(s), line 8 "), std::string::npos)
      << msg;
  PrecompOptions opt;
  opt.allow_empty_captions = true;
  EXPECT_EQ(read_precomp(t.path.string(), "train", opt).captions[7], "");
}

TEST(DataPrecomp, InvalidUtf8NamesFileAndLine) {
  TempDir t{"data_test"};
  std::string caps = caps_text(1);
  caps.insert(caps.find("caption 0.3") + 3, "\xC3\x28");  // bad continuation byte
  t.write("train_caps.txt", caps);
  t.write("train_filename.txt", names_text(1, 1));
  std::string msg = error_of<ValueError>([&] { read_precomp(t.path.string(), "train"); });
  EXPECT_NE(msg.find("train_caps.txt: line 4: invalid UTF-8 at byte 4"), std::string::npos) << msg;
}

TEST(DataPrecomp, Utf8Validator) {
  EXPECT_EQ(find_invalid_utf8("plain ascii"), -1);
  EXPECT_EQ(find_invalid_utf8("caf\xC3\xA9 \xE2\x80\x9Cq\xE2\x80\x9D \xF0\x9F\x9A\x80"), -1);
  EXPECT_EQ(find_invalid_utf8("ab\x80"), 2);              // lone continuation
  EXPECT_EQ(find_invalid_utf8("a\xC0\xAF"), 1);           // overlong '/'
  EXPECT_EQ(find_invalid_utf8("a\xED\xA0\x80"), 1);       // surrogate
  EXPECT_EQ(find_invalid_utf8("a\xF4\x90\x80\x80"), 1);   // > U+10FFFF
  EXPECT_EQ(find_invalid_utf8("abc\xE2\x80"), 3);         // truncated at the end
}

TEST(DataPrecomp, AllMissingImagesAndMasksListed) {
  TempDir t{"data_test"};
  t.write("train_caps.txt", caps_text(4));
  t.write("train_filename.txt", names_text(4, 1));
  t.write("img/img_1.tif", "x");
  t.write("masks/mask_img_0.png", "x");
  PrecompOptions opt;
  opt.image_dir = (t.path / "img").string();
  opt.mask_dir = (t.path / "masks").string();
  std::string msg = error_of<IOError>([&] { read_precomp(t.path.string(), "train", opt); });
  EXPECT_NE(msg.find("3 of 4 image files named in"), std::string::npos) << msg;
  EXPECT_NE(msg.find("img/img_0.tif"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("img/img_1.tif"), std::string::npos) << msg;
  EXPECT_NE(msg.find("img/img_2.tif"), std::string::npos) << msg;
  EXPECT_NE(msg.find("img/img_3.tif"), std::string::npos) << msg;
  // Masks are reported in the same error.
  EXPECT_NE(msg.find("3 of 4 mask files"), std::string::npos) << msg;
  EXPECT_NE(msg.find("masks/mask_img_3.png"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("masks/mask_img_0.png"), std::string::npos) << msg;
}

TEST(DataPrecomp, MissingMasksListedAndCapped) {
  TempDir t{"data_test"};
  t.write("train_caps.txt", caps_text(25));
  t.write("train_filename.txt", names_text(25, 1));
  PrecompOptions opt;
  opt.mask_dir = (t.path / "masks").string();
  std::string msg = error_of<IOError>([&] { read_precomp(t.path.string(), "train", opt); });
  EXPECT_NE(msg.find("25 of 25 mask files"), std::string::npos) << msg;
  EXPECT_NE(msg.find("masks/mask_img_19.png"), std::string::npos) << msg;
  EXPECT_EQ(msg.find("masks/mask_img_20.png"), std::string::npos) << msg;
  EXPECT_NE(msg.find("... and 5 more"), std::string::npos) << msg;
}

TEST(DataPrecomp, MissingListFile) {
  TempDir t{"data_test"};
  std::string msg = error_of<IOError>([&] { read_precomp(t.path.string(), "train"); });
  EXPECT_NE(msg.find("train_caps.txt"), std::string::npos) << msg;
}
