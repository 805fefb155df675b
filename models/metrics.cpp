#include "models/metrics.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace sirs {

namespace {

struct Scores {
  std::vector<double> v;
  int64_t n_img = 0, n_cap = 0;
  double at(int64_t i, int64_t j) const { return v[i * n_cap + j]; }
};

Scores read_scores(const Tensor& sims, int64_t cpi) {
  SIRS_CHECK(sims.dim() == 2, ShapeError, "retrieval_metrics: expected a 2-d score matrix "
             "[images, captions], got ", shape_str(sims.shape()));
  SIRS_CHECK(cpi >= 1, ValueError, "retrieval_metrics: captions_per_image must be >= 1, got ", cpi);
  Scores s;
  s.n_img = sims.size(0);
  s.n_cap = sims.size(1);
  SIRS_CHECK(s.n_img > 0 && s.n_cap == s.n_img * cpi, ShapeError, "retrieval_metrics: ",
             s.n_cap, " captions for ", s.n_img, " images; expected ", cpi,
             " captions per image (score matrix ", shape_str(sims.shape()), ")");
  s.v = sims.to_vector();
  for (double x : s.v)
    SIRS_CHECK(std::isfinite(x), ValueError, "retrieval_metrics: the score matrix holds ", x);
  return s;
}

// 0-based position of `target` when items are sorted by descending score,
// ties to the lower index: the number of items that beat it.
template <class F>
int64_t position(int64_t n, int64_t target, F&& score) {
  double t = score(target);
  int64_t ahead = 0;
  for (int64_t k = 0; k < n; ++k) {
    double s = score(k);
    if (s > t || (s == t && k < target)) ++ahead;
  }
  return ahead;
}

double recall(const std::vector<int64_t>& ranks, int64_t k) {
  int64_t hit = 0;
  for (int64_t r : ranks) hit += r < k;
  return 100.0 * static_cast<double>(hit) / static_cast<double>(ranks.size());
}

double medr(std::vector<int64_t> ranks) {
  std::sort(ranks.begin(), ranks.end());
  size_t n = ranks.size();
  double med = n % 2 ? static_cast<double>(ranks[n / 2])
                     : 0.5 * static_cast<double>(ranks[n / 2 - 1] + ranks[n / 2]);
  return std::floor(med) + 1;
}

double meanr(const std::vector<int64_t>& ranks) {
  double s = std::accumulate(ranks.begin(), ranks.end(), 0.0);
  return s / static_cast<double>(ranks.size()) + 1;
}

}  // namespace

std::vector<int64_t> image_to_text_ranks(const Tensor& sims, int64_t cpi) {
  Scores s = read_scores(sims, cpi);
  std::vector<int64_t> ranks(s.n_img);
#pragma omp parallel for schedule(static) if (s.n_img * s.n_cap > 1 << 16)
  for (int64_t i = 0; i < s.n_img; ++i) {
    int64_t best = s.n_cap;
    for (int64_t c = i * cpi; c < (i + 1) * cpi; ++c)
      best = std::min(best, position(s.n_cap, c, [&](int64_t j) { return s.at(i, j); }));
    ranks[i] = best;
  }
  return ranks;
}

std::vector<int64_t> text_to_image_ranks(const Tensor& sims, int64_t cpi) {
  Scores s = read_scores(sims, cpi);
  std::vector<int64_t> ranks(s.n_cap);
#pragma omp parallel for schedule(static) if (s.n_img * s.n_cap > 1 << 16)
  for (int64_t j = 0; j < s.n_cap; ++j)
    ranks[j] = position(s.n_img, j / cpi, [&](int64_t i) { return s.at(i, j); });
  return ranks;
}

RetrievalMetrics retrieval_metrics(const Tensor& sims, int64_t cpi) {
  std::vector<int64_t> ri = image_to_text_ranks(sims, cpi);
  std::vector<int64_t> rt = text_to_image_ranks(sims, cpi);
  RetrievalMetrics m;
  m.n_images = static_cast<int64_t>(ri.size());
  m.n_captions = static_cast<int64_t>(rt.size());
  m.r1i = recall(ri, 1), m.r5i = recall(ri, 5), m.r10i = recall(ri, 10);
  m.medri = medr(ri), m.meanri = meanr(ri);
  m.r1t = recall(rt, 1), m.r5t = recall(rt, 5), m.r10t = recall(rt, 10);
  m.medrt = medr(rt), m.meanrt = meanr(rt);
  m.mR = (m.r1i + m.r5i + m.r10i + m.r1t + m.r5t + m.r10t) / 6.0;
  return m;
}

ConfusionMatrix::ConfusionMatrix(int64_t num_classes) : k_(num_classes) {
  SIRS_CHECK(num_classes >= 1, ValueError, "ConfusionMatrix: num_classes must be >= 1, got ",
             num_classes);
  m_.assign(static_cast<size_t>(k_ * k_), 0);
}

void ConfusionMatrix::add(const int64_t* labels, const int64_t* pred, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    int64_t y = labels[i];
    if (y < 0 || y >= k_) continue;  // ignore label (255) and anything outside the classes
    int64_t p = pred[i];
    SIRS_CHECK(p >= 0 && p < k_, ValueError, "ConfusionMatrix: predicted class ", p,
               " outside [0, ", k_, ") at pixel ", i);
    m_[y * k_ + p]++;
  }
}

void ConfusionMatrix::add(const Tensor& labels, const Tensor& predictions) {
  SIRS_CHECK(labels.shape() == predictions.shape(), ShapeError, "ConfusionMatrix: labels ",
             shape_str(labels.shape()), " and predictions ", shape_str(predictions.shape()),
             " differ in shape");
  Tensor l = view::to_dtype(labels.device().is_cpu() ? labels : view::to_device(labels, Device::cpu()), DType::I64);
  Tensor p = view::to_dtype(predictions.device().is_cpu() ? predictions : view::to_device(predictions, Device::cpu()), DType::I64);
  add(l.data<int64_t>(), p.data<int64_t>(), l.numel());
}

int64_t ConfusionMatrix::total() const { return std::accumulate(m_.begin(), m_.end(), int64_t(0)); }

SegmentationMetrics segmentation_metrics(const ConfusionMatrix& cm) {
  int64_t k = cm.num_classes();
  double total = static_cast<double>(cm.total());
  SIRS_CHECK(total > 0, ValueError, "segmentation_metrics: no labelled pixels were counted");
  std::vector<double> row(k, 0), col(k, 0), diag(k, 0);
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < k; ++j) {
      double v = static_cast<double>(cm.at(i, j));
      row[i] += v;
      col[j] += v;
      if (i == j) diag[i] = v;
    }
  SegmentationMetrics m;
  double acc_sum = 0, iou_sum = 0, f1_sum = 0;
  int64_t acc_n = 0, iou_n = 0, f1_n = 0;
  for (int64_t c = 0; c < k; ++c) {
    m.Acc += diag[c];
    if (row[c] > 0) acc_sum += diag[c] / row[c], ++acc_n;
    double uni = row[c] + col[c] - diag[c];
    if (uni > 0) {
      double iou = diag[c] / uni;
      iou_sum += iou, ++iou_n;
      m.FWIoU += row[c] / total * iou;
    }
    if (row[c] + col[c] > 0) f1_sum += 2 * diag[c] / (row[c] + col[c]), ++f1_n;
  }
  m.Acc /= total;
  m.Acc_class = acc_n ? acc_sum / acc_n : 0;
  m.mIoU = iou_n ? iou_sum / iou_n : 0;
  m.F1 = f1_n ? f1_sum / f1_n : 0;
  return m;
}

}  // namespace sirs
