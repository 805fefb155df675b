// Evaluation metrics of DESIGN §5.
//
// Retrieval, on a score matrix S [N_images, N_captions] where caption j
// belongs to image j / captions_per_image (5 in RSITMD / RSICD / UCM):
//   image->text rank of image i: the best (lowest) 0-based position among
//     its own captions when all captions are sorted by descending S[i, :];
//   text->image rank of caption j: the 0-based position of its image when
//     all images are sorted by descending S[:, j];
//   R@K = 100 * (number of ranks < K) / count, K = 1, 5, 10;
//   medr = floor(median(rank)) + 1, meanr = mean(rank) + 1;
//   mR = mean of the six recalls.
// Ties are broken towards the lower index (a stable sort), as NumPy's
// argsort of the negated scores does for equal values.
//
// Segmentation, from a confusion matrix over the pixels whose label is a
// valid class (labels >= num_classes, e.g. the ignore label 255, are
// skipped): rows = true class, columns = predicted class.
//   Acc = trace / total; Acc_class = mean over classes present in the labels
//   of diag / row sum; IoU_c = diag / (row + col - diag), mIoU = mean over
//   classes with a non-zero denominator; FWIoU = sum_c (row_c / total) IoU_c;
//   F1_c = 2 diag / (row + col), F1 = mean over classes with a non-zero
//   denominator.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sirs {

struct RetrievalMetrics {
  double r1i = 0, r5i = 0, r10i = 0, medri = 0, meanri = 0;  // image -> text
  double r1t = 0, r5t = 0, r10t = 0, medrt = 0, meanrt = 0;  // text -> image
  double mR = 0;
  int64_t n_images = 0, n_captions = 0;
};

// sims: [N_images, N_images * captions_per_image], any float dtype, CPU.
RetrievalMetrics retrieval_metrics(const Tensor& sims, int64_t captions_per_image = 5);
// The per-item 0-based ranks behind the metrics.
std::vector<int64_t> image_to_text_ranks(const Tensor& sims, int64_t captions_per_image = 5);
std::vector<int64_t> text_to_image_ranks(const Tensor& sims, int64_t captions_per_image = 5);

class ConfusionMatrix {
 public:
  explicit ConfusionMatrix(int64_t num_classes);
  // Adds pixels: labels and predictions of equal shape, int64 (e.g. [B,H,W]).
  void add(const Tensor& labels, const Tensor& predictions);
  void add(const int64_t* labels, const int64_t* predictions, int64_t n);
  int64_t num_classes() const { return k_; }
  int64_t at(int64_t truth, int64_t pred) const { return m_[truth * k_ + pred]; }
  int64_t total() const;

 private:
  int64_t k_;
  std::vector<int64_t> m_;
};

struct SegmentationMetrics {
  double Acc = 0, Acc_class = 0, mIoU = 0, FWIoU = 0, F1 = 0;
};

SegmentationMetrics segmentation_metrics(const ConfusionMatrix& cm);

}  // namespace sirs
