// Loader (data/loader.h) and splits (data/splits.h): tiny TIFF/PNG images and
// masks written into a temporary folder by the test; the real RSITMD samples
// (SIRS_SAMPLES_DIR, skipped when absent) for the splits of the real
// training list and one batch of the real images.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Loader*:Splits*'
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/image_io.h"
#include "data/loader.h"
#include "data/mask.h"
#include "data/precomp.h"
#include "data/splits.h"
#include "data/transforms.h"
#include "data/vocab.h"
#include "tensor/error.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;
namespace fs = std::filesystem;

namespace {

constexpr int kSide = 12;

Image test_image(int i) {
  Image img(kSide, kSide, 3);
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x)
      for (int c = 0; c < 3; ++c)
        img.at(y, x, c) = uint8_t((x * 19 + y * 7 + c * 50 + i * 31) % 256);
  return img;
}

Mask test_mask(int i) {
  Mask m;
  m.h = m.w = kSide;
  for (int y = 0; y < kSide; ++y)
    for (int x = 0; x < kSide; ++x)
      m.labels.push_back(uint8_t((x + y + i) % 7 == 6 ? 255 : (x / 3 + y / 4 + i) % 15));
  return m;
}

// n_img images (TIFF, every third a PNG) with masks and 5 captions each of
// varying length (sample s has s % 6 + 1 tokens).
struct Fixture {
  TempDir dir{"loader_test"};
  LoaderDataset data;
  explicit Fixture(int n_img, bool masks = true) {
    for (int i = 0; i < n_img; ++i) {
      const std::string name = "scene_" + std::to_string(i) + (i % 3 == 2 ? ".png" : ".tif");
      const std::string ip = dir.file(name);
      if (i % 3 == 2)
        write_png(ip, test_image(i));
      else
        write_tiff(ip, test_image(i));
      data.image_paths.push_back(ip);
      if (masks) {
        const std::string mp = dir.file(mask_name_for(name));
        write_mask(mp, test_mask(i));
        data.mask_paths.push_back(mp);
      }
      data.image_ids.push_back(100 + i);
      for (int j = 0; j < 5; ++j) {
        LoaderDataset::Sample s;
        s.image = i;
        s.caption_id = 5 * i + j;
        const int len = int(data.samples.size() % 6) + 1;
        for (int t = 0; t < len; ++t) s.tokens.push_back(1 + (s.caption_id + t) % 9);
        data.samples.push_back(s);
      }
    }
  }
};

LoaderOptions small_options(int workers, int64_t batch = 8) {
  LoaderOptions o;
  o.batch_size = batch;
  o.num_workers = workers;
  o.seed = 7;
  o.pipeline = PipelineOptions::training(14, 10, 90);  // resize 14, crop 10 on 12x12 images
  return o;
}

std::vector<Batch> run_epoch(Loader& loader, int64_t epoch) {
  loader.start_epoch(epoch);
  std::vector<Batch> out;
  Batch b;
  while (loader.next(b)) out.push_back(b);
  return out;
}

void expect_same_batches(const std::vector<Batch>& a, const std::vector<Batch>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].index, int64_t(i));
    EXPECT_EQ(a[i].samples, b[i].samples) << i;
    EXPECT_EQ(a[i].images.to_vector(), b[i].images.to_vector()) << i;
    EXPECT_EQ(a[i].masks.defined(), b[i].masks.defined());
    if (a[i].masks.defined()) {
      EXPECT_EQ(a[i].masks.to_vector(), b[i].masks.to_vector()) << i;
    }
    EXPECT_EQ(a[i].tokens.to_vector(), b[i].tokens.to_vector()) << i;
    EXPECT_EQ(a[i].lengths.to_vector(), b[i].lengths.to_vector()) << i;
  }
}

template <class E, class Fn>
std::string expect_throw_msg(Fn fn) {
  try {
    fn();
  } catch (const E& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "wrong exception type: " << e.what();
    return "";
  }
  ADD_FAILURE() << "no exception";
  return "";
}

}  // namespace

// ---------------------------------------------------------------- loader

TEST(Loader, ShapesPaddingLengthsAndIds) {
  Fixture f(7);  // 35 samples
  LoaderOptions o = small_options(2, 8);
  o.shuffle = false;
  Loader loader(f.data, o);
  EXPECT_EQ(loader.num_samples(), 35);
  EXPECT_EQ(loader.num_batches(), 5);
  const auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 5u);
  for (size_t k = 0; k < batches.size(); ++k) {
    const Batch& b = batches[k];
    const int64_t B = k < 4 ? 8 : 3;  // the last partial batch is kept
    EXPECT_EQ(b.images.shape(), (Shape{B, 3, 10, 10}));
    EXPECT_EQ(b.images.dtype(), DType::F32);
    EXPECT_EQ(b.masks.shape(), (Shape{B, 10, 10}));
    EXPECT_EQ(b.masks.dtype(), DType::I64);
    EXPECT_EQ(b.lengths.shape(), (Shape{B}));
    int64_t T = 0;
    for (int64_t i = 0; i < B; ++i) {
      const int64_t s = int64_t(k) * 8 + i;  // file order
      EXPECT_EQ(b.samples[i], s);
      EXPECT_EQ(b.caption_ids[i], s);
      EXPECT_EQ(b.image_ids[i], 100 + s / 5);
      T = std::max<int64_t>(T, s % 6 + 1);
    }
    ASSERT_EQ(b.tokens.shape(), (Shape{B, T}));  // T = longest caption of the batch
    const std::vector<double> tok = b.tokens.to_vector(), len = b.lengths.to_vector();
    for (int64_t i = 0; i < B; ++i) {
      const auto& want = f.data.samples[b.samples[i]].tokens;
      EXPECT_EQ(len[i], double(want.size()));
      for (int64_t t = 0; t < T; ++t)
        EXPECT_EQ(tok[i * T + t], t < int64_t(want.size()) ? double(want[t]) : 0.0)
            << i << " " << t;
    }
  }
  o.drop_last = true;
  Loader dropping(f.data, o);
  EXPECT_EQ(dropping.num_batches(), 4);
  EXPECT_EQ(run_epoch(dropping, 0).size(), 4u);
}

TEST(Loader, ImagesAndMasksLandInTheirSlots) {
  // Evaluation pipeline at the image size: each slot must hold exactly its
  // own image, normalised, and its own mask (PNG and TIFF images alike).
  Fixture f(4);
  LoaderOptions o = small_options(3, 6);
  o.pipeline = PipelineOptions::evaluation(kSide);
  Loader loader(f.data, o);
  for (const Batch& b : run_epoch(loader, 2)) {
    const std::vector<double> imgs = b.images.to_vector(), masks = b.masks.to_vector();
    const size_t plane = kSide * kSide;
    for (size_t i = 0; i < b.samples.size(); ++i) {
      const int64_t img = f.data.samples[b.samples[i]].image;
      std::vector<float> want(3 * plane);
      to_chw_normalized(test_image(int(img)), kImageNetMean, kImageNetStd, want.data());
      for (size_t j = 0; j < 3 * plane; ++j) ASSERT_EQ(imgs[i * 3 * plane + j], double(want[j]));
      const Mask m = test_mask(int(img));
      for (size_t j = 0; j < plane; ++j) ASSERT_EQ(masks[i * plane + j], double(m.labels[j]));
    }
  }
}

TEST(Loader, SameBatchesWhateverTheNumberOfWorkers) {
  Fixture f(5);
  Loader l0(f.data, small_options(0));
  Loader l1(f.data, small_options(1));
  Loader l3(f.data, small_options(3));
  for (int64_t e : {0, 1}) {
    const auto b0 = run_epoch(l0, e);
    expect_same_batches(b0, run_epoch(l1, e));
    expect_same_batches(b0, run_epoch(l3, e));
  }
  // Training augmentation really is random per epoch and per sample.
  const auto e0 = run_epoch(l1, 0), e1 = run_epoch(l1, 1);
  EXPECT_NE(e0[0].samples, e1[0].samples);
  // A different seed gives other batches.
  LoaderOptions other = small_options(2);
  other.seed = 8;
  Loader l8(f.data, other);
  EXPECT_NE(run_epoch(l8, 0)[0].samples, e0[0].samples);
}

TEST(Loader, AugmentationDependsOnSampleNotPosition) {
  // The same sample gets the same augmentation in two loaders whose batch
  // sizes (hence positions) differ.
  Fixture f(3);
  LoaderOptions a = small_options(2, 4), b = small_options(1, 5);
  a.shuffle = b.shuffle = false;
  Loader la(f.data, a), lb(f.data, b);
  const auto ba = run_epoch(la, 3), bb = run_epoch(lb, 3);
  const std::vector<double> x = ba[1].images.to_vector();  // samples 4..7
  const std::vector<double> y = bb[0].images.to_vector();  // samples 0..4
  const size_t n = 3 * 10 * 10;
  EXPECT_TRUE(std::equal(x.begin(), x.begin() + n, y.begin() + 4 * n));  // sample 4
  EXPECT_FALSE(std::equal(x.begin(), x.begin() + n, y.begin() + 3 * n));
}

TEST(Loader, ShuffleCoversEverySampleOncePerEpoch) {
  Fixture f(6, /*masks=*/false);
  Loader loader(f.data, small_options(2, 7));
  std::vector<std::vector<int64_t>> orders;
  for (int64_t e = 0; e < 3; ++e) {
    std::vector<int64_t> seen;
    for (const Batch& b : run_epoch(loader, e))
      seen.insert(seen.end(), b.samples.begin(), b.samples.end());
    EXPECT_EQ(seen, loader.epoch_order(e));
    std::vector<int64_t> sorted = seen;
    std::sort(sorted.begin(), sorted.end());
    for (int64_t i = 0; i < 30; ++i) ASSERT_EQ(sorted[i], i);  // each exactly once
    orders.push_back(seen);
  }
  EXPECT_NE(orders[0], orders[1]);
  EXPECT_NE(orders[1], orders[2]);
  Loader again(f.data, small_options(0, 7));
  EXPECT_EQ(again.epoch_order(1), orders[1]);  // a seed gives the same order
  LoaderOptions plain = small_options(1, 7);
  plain.shuffle = false;
  Loader ordered(f.data, plain);
  std::vector<int64_t> file_order(30);
  for (int64_t i = 0; i < 30; ++i) file_order[i] = i;
  EXPECT_EQ(ordered.epoch_order(5), file_order);
}

TEST(Loader, NoMasksGiveAnUndefinedTensor) {
  Fixture f(2, /*masks=*/false);
  Loader loader(f.data, small_options(1));
  EXPECT_FALSE(loader.has_masks());
  const auto b = run_epoch(loader, 0);
  ASSERT_FALSE(b.empty());
  EXPECT_FALSE(b[0].masks.defined());
  EXPECT_EQ(b[0].images.shape(), (Shape{8, 3, 10, 10}));
}

TEST(Loader, WorkerErrorNamesTheFile) {
  Fixture f(6);
  // Truncate image 3 (samples 15..19) to half its bytes.
  const std::string bad = f.data.image_paths[3];
  const auto size = fs::file_size(bad);
  fs::resize_file(bad, size / 2);
  for (int workers : {0, 1, 3}) {
    LoaderOptions o = small_options(workers, 5);
    o.shuffle = false;
    Loader loader(f.data, o);
    loader.start_epoch(0);
    Batch b;
    for (int k = 0; k < 3; ++k) ASSERT_TRUE(loader.next(b)) << k;  // batches 0..2 are fine
    const std::string msg = expect_throw_msg<IOError>([&] { loader.next(b); });
    EXPECT_NE(msg.find(bad), std::string::npos) << msg;
    EXPECT_NE(msg.find("sample 15"), std::string::npos) << msg;
    EXPECT_FALSE(loader.next(b));  // that epoch is over
    loader.start_epoch(1);         // the loader stays usable
  }
  // A bad mask value is a ValueError naming the mask file.
  Fixture g(2);
  Image bad_mask(kSide, kSide, 1);
  std::fill(bad_mask.data.begin(), bad_mask.data.end(), 37);
  write_png(g.data.mask_paths[1], bad_mask);
  LoaderOptions o = small_options(2, 5);
  o.shuffle = false;
  Loader ordered(g.data, o);
  ordered.start_epoch(0);
  Batch b;
  ASSERT_TRUE(ordered.next(b));
  const std::string msg = expect_throw_msg<ValueError>([&] { ordered.next(b); });
  EXPECT_NE(msg.find(g.data.mask_paths[1]), std::string::npos) << msg;
  EXPECT_NE(msg.find("37"), std::string::npos) << msg;
}

TEST(Loader, ShutdownAndRestartMidEpoch) {
  Fixture f(8);
  {
    Loader loader(f.data, small_options(2, 4));
    loader.start_epoch(0);
    Batch b;
    ASSERT_TRUE(loader.next(b));
  }  // destroyed with batches in flight: joins without hanging
  {
    Loader loader(f.data, small_options(3, 4));
    loader.start_epoch(0);
  }  // destroyed before the first next()
  Loader loader(f.data, small_options(2, 4));
  loader.start_epoch(0);
  Batch b;
  ASSERT_TRUE(loader.next(b));
  ASSERT_TRUE(loader.next(b));
  const auto restarted = run_epoch(loader, 1);  // abandons epoch 0 halfway
  Loader fresh(f.data, small_options(0, 4));
  expect_same_batches(restarted, run_epoch(fresh, 1));
}

TEST(Loader, Misuse) {
  Fixture f(1);
  Loader loader(f.data, small_options(1));
  Batch b;
  EXPECT_NE(expect_throw_msg<ValueError>([&] { loader.next(b); }).find("start_epoch"),
            std::string::npos);
  LoaderOptions o = small_options(1);
  o.batch_size = 0;
  EXPECT_NE(expect_throw_msg<ValueError>([&] { Loader l(f.data, o); }).find("batch_size"),
            std::string::npos);
  o = small_options(1);
  o.pipeline.crop = 20;
  EXPECT_NE(expect_throw_msg<ValueError>([&] { Loader l(f.data, o); }).find("crop"),
            std::string::npos);
  LoaderDataset d = f.data;
  d.samples[0].image = 4;
  EXPECT_NE(expect_throw_msg<ValueError>([&] { Loader l(d, small_options(1)); }).find("sample 0"),
            std::string::npos);
}

TEST(Loader, FromPrecompSplitAndSubset) {
  TempDir t{"loader_test"};
  fs::create_directories(t.path / "img");
  fs::create_directories(t.path / "masks");
  std::ofstream caps(t.file("train_caps.txt")), names(t.file("train_filename.txt"));
  for (int i = 0; i < 3; ++i) {
    const std::string name = "field_" + std::to_string(i) + ".tif";
    write_tiff((t.path / "img" / name).string(), test_image(i));
    write_mask((t.path / "masks" / mask_name_for(name)).string(), test_mask(i));
    names << name << "\n";
    for (int j = 0; j < 5; ++j) caps << "a green field with " << (j + 1) << " trees .\n";
  }
  caps.close();
  names.close();
  PrecompOptions po;
  po.image_dir = (t.path / "img").string();
  po.mask_dir = (t.path / "masks").string();
  const PrecompSplit split = read_precomp(t.path.string(), "train", po);
  Vocab vocab;
  for (const char* w : {"green", "field", "trees", "<unk>"}) vocab.add_word(w);
  const LoaderDataset d = make_loader_dataset(split, vocab, {2, 0});
  ASSERT_EQ(d.samples.size(), 10u);
  EXPECT_EQ(d.image_ids, (std::vector<int64_t>{2, 0}));
  EXPECT_EQ(d.samples[0].caption_id, 10);
  EXPECT_EQ(d.samples[5].caption_id, 0);
  EXPECT_EQ(d.samples[0].image, 0);
  EXPECT_EQ(d.samples[7].image, 1);
  // "a green field with 1 trees ." -> a(unk) green field with(unk) 1(unk) trees
  EXPECT_EQ(d.samples[0].tokens, (std::vector<int64_t>{4, 1, 2, 4, 4, 3}));
  EXPECT_EQ(d.mask_paths.size(), 2u);
  Loader loader(d, small_options(2, 4));
  const auto batches = run_epoch(loader, 0);
  ASSERT_EQ(batches.size(), 3u);
  EXPECT_EQ(batches[2].images.size(0), 2);
  std::set<int64_t> ids;
  for (const auto& b : batches) ids.insert(b.image_ids.begin(), b.image_ids.end());
  EXPECT_EQ(ids, (std::set<int64_t>{0, 2}));
  EXPECT_THROW(make_loader_dataset(split, vocab, {3}), IndexError);
}

TEST(Loader, RealSamplesTrainingBatch) {
  SKIP_WITHOUT_SAMPLES();
  // The two RSITMD images with their masks through the reference training
  // pipeline (278 / rotation [0, 90] / crop 256).
  LoaderDataset d;
  for (const char* name : {"airport_4691.tif", "river_3583.tif"}) {
    d.image_paths.push_back(rsitmd_dir() + "/images/" + name);
    d.mask_paths.push_back(rsitmd_dir() + "/masks/" + mask_name_for(name));
    LoaderDataset::Sample s;
    s.image = int64_t(d.samples.size());
    s.caption_id = s.image;
    s.tokens = {5, 6};
    d.samples.push_back(s);
  }
  LoaderOptions o;
  o.batch_size = 2;
  o.num_workers = 2;
  Loader loader(d, o);
  const auto b = run_epoch(loader, 0);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].images.shape(), (Shape{2, 3, 256, 256}));
  std::set<double> labels;
  for (double v : b[0].masks.to_vector()) labels.insert(v);
  for (double v : labels) EXPECT_TRUE(v == 255 || (v >= 0 && v < kNumClasses)) << v;
  EXPECT_GE(labels.size(), 2u);
  // Evaluation at 256 is the decoded image, normalised.
  o.pipeline = PipelineOptions::evaluation();
  o.shuffle = false;
  Loader ev(d, o);
  const std::vector<double> got = run_epoch(ev, 0)[0].images.to_vector();
  std::vector<float> want(3 * 256 * 256);
  to_chw_normalized(read_image_rgb(d.image_paths[1]), kImageNetMean, kImageNetStd, want.data());
  for (size_t j = 0; j < want.size(); j += 97)
    ASSERT_EQ(got[want.size() + j], double(want[j])) << j;
}

// ---------------------------------------------------------------- splits

TEST(Splits, SceneOf) {
  EXPECT_EQ(scene_of("airport_4691.tif"), "airport");
  EXPECT_EQ(scene_of("baseballfield_452.tif"), "baseballfield");
  EXPECT_EQ(scene_of("a_b_c.tif"), "a");
  EXPECT_EQ(scene_of("1.tif"), "1.tif");  // no '_': the whole name, as the reference
  EXPECT_EQ(parse_split_mode("scene"), SplitMode::kSceneGuided);
  EXPECT_EQ(parse_split_mode("trainval"), SplitMode::kTrainVal);
  EXPECT_EQ(parse_split_mode("all"), SplitMode::kAll);
  EXPECT_THROW(parse_split_mode("kfold"), ValueError);
}

TEST(Splits, SizesDisjointDeterministic) {
  std::vector<std::string> names;
  for (int i = 0; i < 23; ++i) names.push_back("beach_" + std::to_string(i) + ".tif");
  for (int i = 0; i < 10; ++i) names.push_back("port_" + std::to_string(i) + ".tif");
  for (int i = 0; i < 4; ++i) names.push_back("pond_" + std::to_string(i) + ".tif");
  const int64_t n = int64_t(names.size());  // 37
  for (SplitMode mode : {SplitMode::kTrainVal, SplitMode::kSceneGuided}) {
    const ImageSplit s = split_images(names, mode, 11, 0);
    // trainval: int(37 * 0.8) = 29; scene: int(23*.8) + int(10*.8) + int(4*.8) = 18 + 8 + 3 = 29
    EXPECT_EQ(s.train.size(), 29u) << split_mode_name(mode);
    EXPECT_EQ(s.val.size(), 8u) << split_mode_name(mode);
    std::vector<int64_t> all = s.train;
    all.insert(all.end(), s.val.begin(), s.val.end());
    std::sort(all.begin(), all.end());
    for (int64_t i = 0; i < n; ++i) ASSERT_EQ(all[i], i);  // disjoint and complete
    EXPECT_TRUE(std::is_sorted(s.train.begin(), s.train.end()));
    const ImageSplit again = split_images(names, mode, 11, 0);
    EXPECT_EQ(again.train, s.train);
    EXPECT_NE(split_images(names, mode, 11, 1).train, s.train);  // new draw per fold
    EXPECT_NE(split_images(names, mode, 12, 0).train, s.train);
  }
  // Scene-guided: 80/20 inside every scene.
  const ImageSplit s = split_images(names, SplitMode::kSceneGuided, 3, 2);
  std::map<std::string, int> train_per_scene;
  for (int64_t i : s.train) ++train_per_scene[scene_of(names[i])];
  EXPECT_EQ(train_per_scene["beach"], 18);
  EXPECT_EQ(train_per_scene["port"], 8);
  EXPECT_EQ(train_per_scene["pond"], 3);
  const ImageSplit all = split_images(names, SplitMode::kAll, 3, 2);
  EXPECT_EQ(int64_t(all.train.size()), n);
  EXPECT_TRUE(all.val.empty());
  EXPECT_THROW(split_images(names, SplitMode::kTrainVal, 0, 0, 0.0), ValueError);
}

TEST(Splits, ByImageKeepsAllCaptionsTogether) {
  // A split is a list of images; make_loader_dataset turns each into its 5 captions.
  std::vector<std::string> names;
  for (int i = 0; i < 10; ++i) names.push_back("farm_" + std::to_string(i) + ".tif");
  const ImageSplit s = split_images(names, SplitMode::kTrainVal, 1, 0);
  PrecompSplit p;
  p.split = "train";
  p.image_names = names;
  for (const auto& nm : names) {
    p.image_paths.push_back("/nowhere/" + nm);
    for (int j = 0; j < 5; ++j) p.captions.push_back("farm");
  }
  Vocab v;
  v.add_word("farm");
  v.add_word("<unk>");
  const LoaderDataset tr = make_loader_dataset(p, v, s.train),
                      va = make_loader_dataset(p, v, s.val);
  EXPECT_EQ(tr.samples.size(), 40u);
  EXPECT_EQ(va.samples.size(), 10u);
  std::set<int64_t> tr_imgs, va_imgs;
  for (const auto& smp : tr.samples) tr_imgs.insert(smp.caption_id / 5);
  for (const auto& smp : va.samples) va_imgs.insert(smp.caption_id / 5);
  for (int64_t i : va_imgs) EXPECT_EQ(tr_imgs.count(i), 0u);
  EXPECT_EQ(tr_imgs.size() + va_imgs.size(), 10u);
}

TEST(Splits, RealTrainingList) {
  SKIP_WITHOUT_SAMPLES();
  const std::vector<std::string> names =
      read_text_lines(rsitmd_dir() + "/precomp/train_filename.txt");
  ASSERT_EQ(names.size(), 4291u);
  std::map<std::string, int64_t> per_scene;
  for (const auto& nm : names) ++per_scene[scene_of(nm)];
  int64_t want_train = 0;
  for (const auto& kv : per_scene) want_train += int64_t(double(kv.second) * 0.8);
  const ImageSplit s = split_images(names, SplitMode::kSceneGuided, 0, 0);
  EXPECT_EQ(int64_t(s.train.size()), want_train);
  EXPECT_EQ(s.train.size() + s.val.size(), 4291u);
  std::vector<int64_t> both;
  std::set_intersection(s.train.begin(), s.train.end(), s.val.begin(), s.val.end(),
                        std::back_inserter(both));
  EXPECT_TRUE(both.empty());
  const ImageSplit r = split_images(names, SplitMode::kTrainVal, 0, 0);
  EXPECT_EQ(r.train.size(), 3432u);  // int(4291 * 0.8)
  EXPECT_EQ(r.val.size(), 859u);
}
