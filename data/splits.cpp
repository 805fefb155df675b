// Train/validation splits: see data/splits.h.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Splits*'
#include "data/splits.h"

#include <algorithm>
#include <cmath>
#include <map>

#include "data/pipeline.h"
#include "tensor/error.h"

namespace sirs {

namespace {
constexpr uint64_t kSplitTag = 0x73706c74;  // "splt"
}  // namespace

SplitMode parse_split_mode(const std::string& name) {
  if (name == "all") return SplitMode::kAll;
  if (name == "trainval") return SplitMode::kTrainVal;
  if (name == "scene" || name == "scene_guided") return SplitMode::kSceneGuided;
  throw ValueError(
      str_cat("split mode must be one of all, trainval, scene (scene_guided), got \"", name, "\""));
}

const char* split_mode_name(SplitMode mode) {
  switch (mode) {
    case SplitMode::kAll:
      return "all";
    case SplitMode::kTrainVal:
      return "trainval";
    case SplitMode::kSceneGuided:
      return "scene";
  }
  return "?";
}

std::string scene_of(const std::string& image_name) {
  return image_name.substr(0, image_name.find('_'));
}

ImageSplit split_images(const std::vector<std::string>& image_names, SplitMode mode, uint64_t seed,
                        int64_t fold, double train_fraction) {
  SIRS_CHECK(train_fraction > 0.0 && train_fraction <= 1.0, ValueError,
             "split_images: train_fraction must be in (0, 1], got ", train_fraction);
  const int64_t n = int64_t(image_names.size());
  ImageSplit out;
  if (mode == SplitMode::kAll) {
    out.train.resize(n);
    for (int64_t i = 0; i < n; ++i) out.train[i] = i;
    return out;
  }
  RandomStream rng(mix_key(seed, uint64_t(fold), kSplitTag), 0);
  // Groups in order of first appearance (one group for kTrainVal).
  std::vector<std::vector<int64_t>> groups;
  if (mode == SplitMode::kTrainVal) {
    groups.emplace_back(n);
    for (int64_t i = 0; i < n; ++i) groups[0][i] = i;
  } else {
    std::map<std::string, size_t> index;
    for (int64_t i = 0; i < n; ++i) {
      auto it = index.emplace(scene_of(image_names[i]), groups.size()).first;
      if (it->second == groups.size()) groups.emplace_back();
      groups[it->second].push_back(i);
    }
  }
  for (auto& g : groups) {
    shuffle_in_place(g, rng);
    // int(len * percent) as the reference computes it, in double.
    const size_t n_train = size_t(double(g.size()) * train_fraction);
    out.train.insert(out.train.end(), g.begin(), g.begin() + n_train);
    out.val.insert(out.val.end(), g.begin() + n_train, g.end());
  }
  std::sort(out.train.begin(), out.train.end());
  std::sort(out.val.begin(), out.val.end());
  return out;
}

}  // namespace sirs
