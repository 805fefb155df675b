// Synthetic remote-sensing dataset (data/synth.h): the written layout reads
// back with the dataset readers, the output is the same bytes for a seed,
// every class appears, masks agree with images, captions state counts that
// match the mask, and bad options fail with clear errors.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Synth*'
#include <gtest/gtest.h>
#include <omp.h>
#include <stdlib.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>
#include <set>
#include <sstream>

#include "data/image_io.h"
#include "data/mask.h"
#include "data/precomp.h"
#include "data/synth.h"
#include "data/synth_captions.h"
#include "data/synth_draw.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "tensor/error.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;
namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Every regular file under dir, relative path -> bytes.
std::map<std::string, std::string> tree(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir))
    if (e.is_regular_file()) out[fs::relative(e.path(), dir).string()] = slurp(e.path());
  return out;
}

// Number of 4-connected regions of label k.
int components(const Mask& m, uint8_t k) {
  std::vector<int> seen(m.labels.size(), 0);
  std::vector<int> stack;
  int n = 0;
  for (int i = 0; i < int(m.labels.size()); ++i) {
    if (m.labels[size_t(i)] != k || seen[size_t(i)]) continue;
    ++n;
    stack.push_back(i);
    seen[size_t(i)] = 1;
    while (!stack.empty()) {
      const int j = stack.back();
      stack.pop_back();
      const int y = j / m.w, x = j % m.w;
      const int nb[4][2] = {{y - 1, x}, {y + 1, x}, {y, x - 1}, {y, x + 1}};
      for (const auto& q : nb) {
        if (q[0] < 0 || q[1] < 0 || q[0] >= m.h || q[1] >= m.w) continue;
        const int t = q[0] * m.w + q[1];
        if (m.labels[size_t(t)] == k && !seen[size_t(t)]) {
          seen[size_t(t)] = 1;
          stack.push_back(t);
        }
      }
    }
  }
  return n;
}

int scene_type_index(const std::string& name) {
  const auto& types = synthetic_scene_types();
  for (size_t i = 0; i < types.size(); ++i)
    if (types[i] == name) return int(i);
  ADD_FAILURE() << "no scene type " << name;
  return 0;
}

}  // namespace

TEST(SynthOptions, BadOptionsGiveClearErrors) {
  TempDir tmp{"synth_test"};
  SynthOptions o;
  o.images = 0;
  try {
    write_synthetic_dataset(tmp.str(), o);
    ADD_FAILURE() << "no error for 0 images";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("number of images must be positive, got 0"), std::string::npos)
        << e.what();
  }
  o.images = 2;
  o.size = 32;
  try {
    write_synthetic_dataset(tmp.str(), o);
    ADD_FAILURE() << "no error for size 32";
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("image size must be in [64, 4096] pixels, got 32"), std::string::npos)
        << e.what();
  }
  o.size = 64;
  o.test_fraction = 1.0;
  EXPECT_THROW(generate_synthetic_scene(0, o), ValueError);
  o.test_fraction = 0.1;
  // A folder below a regular file cannot be created.
  std::ofstream(tmp.path / "file") << "x";
  const std::string bad = (tmp.path / "file" / "data").string();
  try {
    write_synthetic_dataset(bad, o);
    ADD_FAILURE() << "no error for an unwritable folder";
  } catch (const IOError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot create folder " + bad), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(tmp.path / "file" / "data"));
}

TEST(SynthDataset, LayoutReadsBackWithPrecompMasksAndVocab) {
  TempDir tmp{"synth_test"};
  SynthOptions o;
  o.images = 12;
  o.size = 64;
  o.test_fraction = 0.25;
  const SynthSummary sum = write_synthetic_dataset(tmp.str(), o);
  EXPECT_EQ(sum.train_images, 9);
  EXPECT_EQ(sum.test_images, 3);
  EXPECT_EQ(sum.train_captions, 45);
  EXPECT_EQ(sum.test_captions, 15);
  int64_t pixels = 0;
  for (int64_t c : sum.class_pixels) pixels += c;
  EXPECT_EQ(pixels, 12 * 64 * 64);

  PrecompOptions po;
  po.image_dir = tmp.str() + "/images";
  po.mask_dir = tmp.str() + "/masks";
  const PrecompSplit train = read_precomp(tmp.str() + "/precomp", "train", po);
  const PrecompSplit test = read_precomp(tmp.str() + "/precomp", "test", po);
  EXPECT_EQ(train.names_per_image, 1);
  EXPECT_EQ(test.names_per_image, 5);
  EXPECT_EQ(train.num_images(), 9);
  EXPECT_EQ(test.num_images(), 3);
  EXPECT_EQ(train.num_captions(), 45);
  EXPECT_EQ(test.num_captions(), 15);
  // The raw files: one name per line in train, each test name five times.
  std::istringstream tf(slurp(tmp.path / "precomp" / "test_filename.txt"));
  std::vector<std::string> lines;
  for (std::string l; std::getline(tf, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 15u);
  for (size_t i = 0; i < lines.size(); ++i) EXPECT_EQ(lines[i], lines[i - i % 5]);
  // Indices 3, 7, 11 are the test images (f = 1/4); names are <scene>_<i+1>.tif.
  const auto& types = synthetic_scene_types();
  EXPECT_EQ(test.image_names[0], types[3] + "_4.tif");
  EXPECT_EQ(test.image_names[2], types[11] + "_12.tif");
  EXPECT_EQ(train.image_names[0], types[0] + "_1.tif");

  const Vocab vocab = Vocab::load_json(tmp.str() + "/vocab.json");
  EXPECT_EQ(vocab.size(), sum.vocab_words);
  for (const PrecompSplit* s : {&train, &test}) {
    for (int64_t i = 0; i < s->num_images(); ++i) {
      const Image img = read_image_rgb(s->image_paths[size_t(i)]);
      const Mask m = read_mask(s->mask_paths[size_t(i)]);  // throws on any invalid value
      EXPECT_EQ(img.h, 64);
      EXPECT_EQ(img.w, 64);
      EXPECT_NO_THROW(check_mask_matches_image(m, s->mask_paths[size_t(i)], img.h, img.w,
                                               s->image_paths[size_t(i)]));
    }
    for (const auto& cap : s->captions)
      for (const auto& t : caption_tokens(cap))
        if (!is_english_stopword(t)) {
          EXPECT_TRUE(vocab.contains(t)) << t << " in: " << cap;
        }
  }
}

TEST(SynthDataset, SameSeedSameBytesOtherSeedOtherData) {
  TempDir a, b, c;
  SynthOptions o;
  o.images = 6;
  o.size = 64;
  write_synthetic_dataset(a.str(), o);
  // The same bytes whatever the number of threads.
  const int threads = omp_get_max_threads();
  omp_set_num_threads(threads == 1 ? 2 : 1);
  write_synthetic_dataset(b.str(), o);
  omp_set_num_threads(threads);
  const auto ta = tree(a.path), tb = tree(b.path);
  EXPECT_EQ(ta.size(), 6u * 2 + 4 + 1);  // images, masks, four precomp files, vocab
  EXPECT_TRUE(ta == tb);
  o.seed = 2;
  write_synthetic_dataset(c.str(), o);
  const auto tc = tree(c.path);
  ASSERT_EQ(ta.size(), tc.size());
  int differing_images = 0;
  for (const auto& kv : ta)
    if (kv.first.rfind("images/", 0) == 0) differing_images += tc.at(kv.first) != kv.second;
  EXPECT_EQ(differing_images, 6);
  EXPECT_NE(ta.at("precomp/train_caps.txt"), tc.at("precomp/train_caps.txt"));
}

TEST(SynthScene, EveryClassAppearsInHundredImagesAndMasksMatchImages) {
  SynthOptions o;
  o.size = 64;
  std::array<int64_t, kNumClasses> counts{};
  for (int64_t i = 0; i < 100; ++i) {
    const SynthScene s = generate_synthetic_scene(i, o);
    ASSERT_EQ(s.image.h, 64);
    ASSERT_EQ(s.image.w, 64);
    ASSERT_EQ(s.image.c, 3);
    ASSERT_EQ(s.mask.h, s.image.h);
    ASSERT_EQ(s.mask.w, s.image.w);
    ASSERT_EQ(s.mask.labels.size(), size_t(64 * 64));
    for (uint8_t l : s.mask.labels) {
      ASSERT_LT(l, kNumClasses);
      ++counts[l];
    }
    // The counted class is present whenever the scene counts one.
    if (s.main_count > 0) {
      EXPECT_GT(components(s.mask, uint8_t(s.main_class)), 0) << s.name;
    }
  }
  for (int k = 0; k < kNumClasses; ++k) EXPECT_GT(counts[size_t(k)], 0) << kClassNames[k];
}

TEST(SynthScene, CaptionCountsMatchMaskRegions) {
  // Three scenes of each counted type at 128 pixels: the count the captions
  // state is the number of 4-connected regions of the class in the mask
  // (checked over 680 scenes at 64, 96, 128 and 256 pixels while writing it).
  SynthOptions o;
  o.size = 128;
  const int64_t period = int64_t(synthetic_scene_types().size());
  for (const char* type : {"storagetanks", "airport", "port", "pond", "playground", "resort", "school",
                           "baseballfield", "center", "church", "stadium", "bridge"}) {
    const int t = scene_type_index(type);
    for (int k = 0; k < 3; ++k) {
      const SynthScene s = generate_synthetic_scene(t + k * period, o);
      ASSERT_GT(s.main_count, 0) << s.name;
      EXPECT_EQ(components(s.mask, uint8_t(s.main_class)), s.main_count) << s.name;
      const std::string word = s.main_count == 1 ? " a " : " " + synth::count_word(s.main_count) + " ";
      bool stated = false;
      for (const auto& cap : s.captions) stated = stated || (" " + to_lower_ascii(cap)).find(word) != std::string::npos;
      EXPECT_TRUE(stated) << s.name << " count " << s.main_count;
    }
  }
}

TEST(SynthScene, CaptionsDifferWithinAnImageAndDetailsVaryWithinAType) {
  SynthOptions o;
  o.size = 64;
  const int64_t period = int64_t(synthetic_scene_types().size());
  std::map<std::string, std::set<std::string>> caption_sets;
  std::map<std::string, std::set<int>> counts;
  for (int64_t i = 0; i < 6 * period; ++i) {
    const SynthScene s = generate_synthetic_scene(i, o);
    ASSERT_EQ(s.captions.size(), 5u);
    EXPECT_EQ(std::set<std::string>(s.captions.begin(), s.captions.end()).size(), 5u) << s.name;
    std::string all;
    for (const auto& c : s.captions) {
      EXPECT_FALSE(c.empty());
      EXPECT_EQ(c.find("scene number"), std::string::npos) << "templates ran out: " << s.name;
      all += c + "\n";
    }
    caption_sets[s.scene].insert(all);
    counts[s.scene].insert(s.main_count);
  }
  for (const auto& kv : caption_sets) EXPECT_EQ(kv.second.size(), 6u) << kv.first;
  // Counted types do not always show the same number of entities.
  for (const char* type : {"storagetanks", "airport", "port", "resort", "school"})
    EXPECT_GE(counts[type].size(), 2u) << type;
}

TEST(SynthScene, TestSplitIsSpreadEvenly) {
  SynthOptions o;
  o.test_fraction = 0.1;
  int n = 0;
  for (int64_t i = 0; i < 1000; ++i) n += synthetic_is_test(i, o);
  EXPECT_EQ(n, 100);
  EXPECT_TRUE(synthetic_is_test(9, o));
  EXPECT_FALSE(synthetic_is_test(0, o));
  o.test_fraction = 0;
  for (int64_t i = 0; i < 50; ++i) EXPECT_FALSE(synthetic_is_test(i, o));
}

TEST(SynthDraw, MaskLabelsPixelCentresInsideTheShape) {
  // A circle of radius 5 at (10, 10): the label is set exactly where the
  // pixel centre is strictly inside, and those pixels are mostly painted.
  synth::Canvas cv(24, synth::Rgb{0, 0, 0});
  const synth::Vec2 c{10.f, 10.f};
  cv.fill(synth::around(c, 5), [&](synth::Vec2 p) { return synth::sd_circle(p, c, 5.f); },
          [](synth::Vec2) { return synth::Rgb{1, 1, 1}; }, 3);
  const auto bytes = cv.to_bytes();
  for (int y = 0; y < 24; ++y)
    for (int x = 0; x < 24; ++x) {
      const float dx = x + 0.5f - 10, dy = y + 0.5f - 10;
      const bool inside = dx * dx + dy * dy < 25;
      EXPECT_EQ(cv.label(x, y), inside ? 3 : 0) << x << "," << y;
      const int v = bytes[size_t(y * 24 + x) * 3];
      if (inside) EXPECT_GT(v, 127) << x << "," << y;
      else EXPECT_LE(v, 128) << x << "," << y;
    }
}
