// Segmentation class weights (see data/class_weights.h).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Mask*'
#include "data/class_weights.h"

#include <algorithm>
#include <iostream>

#include "tensor/error.h"

namespace sirs {

void accumulate_class_counts(const Mask& mask, std::vector<int64_t>& counts) {
  if (counts.empty()) counts.assign(kNumClasses, 0);
  SIRS_CHECK(counts.size() == size_t(kNumClasses), ValueError,
             "accumulate_class_counts: counts has ", counts.size(), " entries, expected ",
             kNumClasses);
  for (uint8_t l : mask.labels)
    if (l < kNumClasses) ++counts[l];
}

std::vector<float> class_weights_from_counts(const std::vector<int64_t>& counts,
                                             std::ostream& warn) {
  SIRS_CHECK(!counts.empty(), ValueError, "class_weights: no classes");
  int64_t max_count = 0;
  for (size_t c = 0; c < counts.size(); ++c) {
    SIRS_CHECK(counts[c] >= 0, ValueError, "class_weights: negative count ", counts[c],
               " for class ", c);
    max_count = std::max(max_count, counts[c]);
  }
  SIRS_CHECK(max_count > 0, ValueError, "class_weights: all ", counts.size(),
             " class counts are zero (no labelled pixel in the masks)");
  std::vector<float> w(counts.size(), 0.f);
  std::string absent;
  for (size_t c = 0; c < counts.size(); ++c) {
    if (counts[c] == 0) {
      absent += str_cat(absent.empty() ? "" : ", ", c,
                        c < size_t(kNumClasses) ? str_cat(" (", kClassNames[c], ")") : "");
      continue;
    }
    w[c] = float(double(max_count) / double(counts[c]));
  }
  if (!absent.empty())
    warn << "sirs: warning: class_weights: no pixels of class " << absent
         << " in the training masks; weight set to 0\n";
  return w;
}

std::vector<float> class_weights_from_counts(const std::vector<int64_t>& counts) {
  return class_weights_from_counts(counts, std::cerr);
}

std::vector<float> class_weights_from_masks(const std::vector<std::string>& mask_paths,
                                            int64_t num_classes) {
  SIRS_CHECK(!mask_paths.empty(), ValueError, "class_weights_from_masks: no mask files");
  SIRS_CHECK(num_classes >= 1, ValueError,
             "class_weights_from_masks: num_classes must be >= 1, got ", num_classes);
  std::vector<int64_t> counts(kNumClasses, 0);
  for (const auto& p : mask_paths) {
    std::vector<int64_t> c(kNumClasses, 0);
    accumulate_class_counts(read_mask(p), c);
    for (int64_t k = 0; k < kNumClasses; ++k) {
      SIRS_CHECK(k < num_classes || c[size_t(k)] == 0, ValueError, "class_weights: ", p, " has ",
                 c[size_t(k)], " pixels of class ", k, " (", kClassNames[k],
                 ") but the model has num_classes ", num_classes);
      counts[size_t(k)] += c[size_t(k)];
    }
  }
  counts.resize(size_t(num_classes), 0);
  return class_weights_from_counts(counts);
}

}  // namespace sirs
