// The built-in synthetic remote-sensing dataset (issue #5): aerial-looking
// scenes with the 14 foreground classes of RSITMD-SS, exact masks and five
// captions per image, written in exactly the RSITMD + RSITMD-SS layout:
//
//   <out>/images/<scene>_<number>.tif       256x256 RGB, PackBits (like RSITMD)
//   <out>/masks/mask_<scene>_<number>.png   8-bit gray, 10 x class index
//   <out>/precomp/train_caps.txt            5 captions per image
//   <out>/precomp/train_filename.txt        one name per image
//   <out>/precomp/test_caps.txt
//   <out>/precomp/test_filename.txt         the name once per caption (5 per image)
//   <out>/vocab.json                        reference JSON (data/vocab.h)
//
// Scene i is drawn from its own random stream mix(seed, i), so images are
// generated in parallel (OpenMP) and the output is the same bytes for a seed
// whatever the thread count. Scene types cycle with i (airport, port,
// storagetanks, pond, river, beach, playground, resort (pools), school
// (courts), baseballfield, center, church, stadium, bridge, and three
// background-only types: farmland, forest, denseresidential), so any 17
// consecutive images hold every type. Within a type the count, colour, size
// and layout of the entities, the ground and the other parts vary, and the
// captions state them: telling two airports apart needs the number and colour
// of the planes, not the word "airport".
//
// Image i goes to the test split when floor((i+1) f) > floor(i f), f =
// test_fraction: evenly spread over the indices (and so over scene types).
// The vocabulary is built from all captions with threshold 1 and the
// reference's stopword removal, so every non-stopword caption word is in it.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Synth*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=synth
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "data/image_io.h"
#include "data/mask.h"

namespace sirs {

struct SynthOptions {
  int64_t images = 1000;        // > 0
  int size = 256;               // image edge in pixels, >= 64 (shapes scale with it)
  uint64_t seed = 1;
  double test_fraction = 0.1;   // in [0, 1); RSITMD holds out 452 / 4743 = 0.095
};

struct SynthSummary {
  int64_t train_images = 0, test_images = 0;
  int64_t train_captions = 0, test_captions = 0;
  int64_t vocab_words = 0;                       // with <unk>
  std::array<int64_t, kNumClasses> class_pixels{};  // over all masks
  double seconds = 0;                            // wall time
};

// One generated image with its mask and captions.
struct SynthScene {
  std::string name;    // "airport_17.tif"
  std::string scene;   // "airport"
  Image image;         // [S, S, 3]
  Mask mask;           // [S, S]
  std::vector<std::string> captions;  // 5, all different
  int main_class = 0;  // class of the counted entities (0: the scene counts none)
  int main_count = 0;  // how many of them the captions state; each is one
                       // 4-connected region of main_class in the mask
};

// The scene-type cycle (file-name prefixes), in order.
const std::vector<std::string>& synthetic_scene_types();

// Scene `index` of the dataset for these options (ValueError for bad options).
SynthScene generate_synthetic_scene(int64_t index, const SynthOptions& opt);

// Whether image `index` belongs to the test split.
bool synthetic_is_test(int64_t index, const SynthOptions& opt);

// Checks the options (ValueError naming the option and its value).
void check_synth_options(const SynthOptions& opt);

// Writes the whole dataset under out_dir (created if missing; IOError naming
// the path when it cannot be created or written).
SynthSummary write_synthetic_dataset(const std::string& out_dir, const SynthOptions& opt);

}  // namespace sirs
