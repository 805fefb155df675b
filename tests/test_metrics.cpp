// Retrieval and segmentation metrics (DESIGN §5) on hand-built cases whose
// ranks and confusion counts are worked out in the comments.
#include <gtest/gtest.h>

#include <cmath>

#include "models/metrics.h"

using namespace sirs;

TEST(Metrics, RetrievalRanksByHand) {
  // 2 images, 2 captions each (captions 0,1 -> image 0; 2,3 -> image 1).
  // Image 0 scores captions [0.1 0.9 0.5 0.2]: its own caption 1 is first -> rank 0.
  // Image 1 scores [0.8 0.7 0.6 0.1]: its captions 2, 3 come 3rd and 4th -> rank 2.
  Tensor s = from_vector({0.1, 0.9, 0.5, 0.2, 0.8, 0.7, 0.6, 0.1}, {2, 4}, DType::F64);
  EXPECT_EQ(image_to_text_ranks(s, 2), (std::vector<int64_t>{0, 2}));
  // Caption j: rank of its image in column j. col0 [0.1 0.8] -> image 0 second (1);
  // col1 [0.9 0.7] -> 0; col2 [0.5 0.6] -> image 1 first (0); col3 [0.2 0.1] -> image 1 second (1).
  EXPECT_EQ(text_to_image_ranks(s, 2), (std::vector<int64_t>{1, 0, 0, 1}));
  RetrievalMetrics m = retrieval_metrics(s, 2);
  EXPECT_DOUBLE_EQ(m.r1i, 50);
  EXPECT_DOUBLE_EQ(m.r5i, 100);
  EXPECT_DOUBLE_EQ(m.medri, 2);   // median of {0, 2} = 1 -> floor + 1
  EXPECT_DOUBLE_EQ(m.meanri, 2);  // mean 1 + 1
  EXPECT_DOUBLE_EQ(m.r1t, 50);
  EXPECT_DOUBLE_EQ(m.medrt, 1);   // median of {0,0,1,1} = 0.5 -> floor + 1
  EXPECT_DOUBLE_EQ(m.meanrt, 1.5);
  EXPECT_DOUBLE_EQ(m.mR, (50 + 100 + 100 + 50 + 100 + 100) / 6.0);
  EXPECT_EQ(m.n_images, 2);
  EXPECT_EQ(m.n_captions, 4);
}

TEST(Metrics, PerfectAndTiedScores) {
  // Identity-like scores: every item ranks first.
  std::vector<double> v(3 * 15, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int c = 0; c < 5; ++c) v[i * 15 + i * 5 + c] = 1.0;
  RetrievalMetrics m = retrieval_metrics(from_vector(v, {3, 15}), 5);
  EXPECT_DOUBLE_EQ(m.mR, 100);
  EXPECT_DOUBLE_EQ(m.medri, 1);
  // All scores equal: ties go to the lower index, so image 2's captions 10..14
  // come after 10 others and caption j's image comes after j/5 others.
  Tensor flat = zeros({3, 15});
  EXPECT_EQ(image_to_text_ranks(flat, 5), (std::vector<int64_t>{0, 5, 10}));
  EXPECT_EQ(text_to_image_ranks(flat, 5)[14], 2);
}

TEST(Metrics, RetrievalRejectsBadInput) {
  EXPECT_THROW(retrieval_metrics(zeros({2, 9}), 5), ShapeError);
  EXPECT_THROW(retrieval_metrics(zeros({10}), 5), ShapeError);
  EXPECT_THROW(retrieval_metrics(full({1, 5}, std::nan("")), 5), ValueError);
}

TEST(Metrics, SegmentationByHand) {
  // 3 classes; labels / predictions over 8 pixels, one ignored (255).
  Tensor y = from_vector({0, 0, 0, 1, 1, 2, 2, 255}, {8}, DType::I64);
  Tensor p = from_vector({0, 0, 1, 1, 2, 2, 2, 0}, {8}, DType::I64);
  ConfusionMatrix cm(3);
  cm.add(y, p);
  // rows (truth) x cols (pred): [2 1 0; 0 1 1; 0 0 2], total 7.
  EXPECT_EQ(cm.at(0, 0), 2);
  EXPECT_EQ(cm.at(0, 1), 1);
  EXPECT_EQ(cm.at(1, 2), 1);
  EXPECT_EQ(cm.total(), 7);
  SegmentationMetrics m = segmentation_metrics(cm);
  EXPECT_NEAR(m.Acc, 5.0 / 7, 1e-12);
  EXPECT_NEAR(m.Acc_class, (2.0 / 3 + 1.0 / 2 + 1.0) / 3, 1e-12);
  // IoU: c0 2/(3+2-2)=2/3, c1 1/(2+2-1)=1/3, c2 2/(2+3-2)=2/3.
  EXPECT_NEAR(m.mIoU, (2.0 / 3 + 1.0 / 3 + 2.0 / 3) / 3, 1e-12);
  EXPECT_NEAR(m.FWIoU, 3.0 / 7 * 2 / 3 + 2.0 / 7 * 1 / 3 + 2.0 / 7 * 2 / 3, 1e-12);
  // F1: c0 4/5, c1 2/4, c2 4/5.
  EXPECT_NEAR(m.F1, (0.8 + 0.5 + 0.8) / 3, 1e-12);
  ConfusionMatrix empty(3);
  EXPECT_THROW(segmentation_metrics(empty), ValueError);
  EXPECT_THROW(cm.add(y, from_vector({0, 0, 0, 1, 1, 2, 7, 0}, {8}, DType::I64)), ValueError);
}
