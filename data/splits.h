// Train/validation splits of a training list, as the public SIRS code makes
// them for each fold of its k-fold loop (train.py: generate_random_samples,
// generate_sceneGuided_samples, generate_allTraining_samples):
//   kTrainVal    random 80/20: the images are shuffled and the first
//                floor(0.8 N) train, the rest validate (the reference's
//                choice for UCM).
//   kSceneGuided 80/20 within each scene: an image's scene is its file name
//                up to the first '_' ("airport_4691.tif" -> "airport"; the
//                whole name when it has no '_'); each scene's images are
//                shuffled and its first floor(0.8 N_scene) train (the
//                reference's "trainval" for RSITMD and RSICD).
//   kAll         every image trains, none validates.
// Splitting is by image: an image's captions all go to its side.
//
// Differences from the reference, on purpose:
//   - the draw is seeded: fold k of seed s always gives the same split, and
//     each fold draws anew (the reference reshuffles with Python's unseeded
//     global `random` for every fold);
//   - its scene-guided code drops the first image of every scene (it only
//     appends to a scene's list from the second occurrence on); here every
//     image is kept;
//   - returned indices are in file order (the reference writes them
//     shuffled; the loader shuffles per epoch anyway).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Splits*'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sirs {

enum class SplitMode { kAll, kTrainVal, kSceneGuided };

// "all", "trainval", "scene" (also "scene_guided"); ValueError otherwise.
SplitMode parse_split_mode(const std::string& name);
const char* split_mode_name(SplitMode mode);

// "airport_4691.tif" -> "airport".
std::string scene_of(const std::string& image_name);

struct ImageSplit {
  std::vector<int64_t> train;  // image indices, ascending
  std::vector<int64_t> val;    // image indices, ascending
};

// Splits images 0..N-1 (named image_names[i]) for fold `fold` under `seed`.
// train_fraction in (0, 1] (the reference uses 0.8); ValueError otherwise.
ImageSplit split_images(const std::vector<std::string>& image_names, SplitMode mode, uint64_t seed,
                        int64_t fold, double train_fraction = 0.8);

}  // namespace sirs
