// Class weights for the segmentation loss (DESIGN §4): over the training
// masks, w_c = max_k(count_k) / count_c, ignore pixels (255) excluded. The
// public code divided by zero for a class absent from the masks (infinite
// weight); here such a class gets weight 0 and a warning naming it.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Mask*'
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "data/mask.h"

namespace sirs {

// Adds the pixels of each class of `mask` to counts ([K], resized if empty).
void accumulate_class_counts(const Mask& mask, std::vector<int64_t>& counts);

// [K] weights from [K] counts; absent classes get 0 and one warning line on
// `warn` (std::cerr in the first overload) naming them. ValueError when every
// count is zero or a count is negative.
std::vector<float> class_weights_from_counts(const std::vector<int64_t>& counts);
std::vector<float> class_weights_from_counts(const std::vector<int64_t>& counts,
                                             std::ostream& warn);

// Reads every mask and returns the weights of the model's num_classes classes
// ([num_classes]; classes the masks cannot hold, >= kNumClasses, get 0). A
// mask pixel of a class >= num_classes is a ValueError naming the file: the
// model could not predict it.
std::vector<float> class_weights_from_masks(const std::vector<std::string>& mask_paths,
                                            int64_t num_classes = kNumClasses);

}  // namespace sirs
