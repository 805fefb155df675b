// SIRS similarity matrix, search descriptor, hinge triplet loss,
// segmentation loss and the combined loss (models/losses.h).
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "models/losses.h"

using namespace sirs;

namespace {

Tensor rnd(const Shape& s, uint64_t seed, bool grad = false) {
  Generator g(seed);
  Tensor t = randn(s, DType::F64, &g);
  if (grad) t.set_requires_grad();
  return t;
}

// The reference score matrix used for the hand-computed values below.
Tensor example_scores() {
  return from_vector({0.9, 0.1, 0.8, 0.3, 0.5, 0.2, 0.75, 0.6, 0.7}, {3, 3}, DType::F64);
}

}  // namespace

TEST(Losses, ContrastiveForwardValues) {
  // Diagonal 0.9, 0.5, 0.7, margin 0.2. Row costs (vs S[i,i]): 0.1 (0,2),
  // 0.25 (2,0), 0.1 (2,1) = 0.45; column costs (vs S[j,j]): 0.05 (2,0),
  // 0.3 (2,1), 0.3 (0,2) = 0.65; (0.45 + 0.65) / (2*9 - 2*3) = 1.1 / 12.
  // Checked with PyTorch (the reference ContrastiveLoss: clamp, masked_fill
  // of the diagonal): 0.09166666666666667, max_violation 0.08333333333333333,
  // margin 0.5: 0.2916666666666667.
  Tensor s = example_scores();
  EXPECT_NEAR(contrastive_loss(s).item(), 1.1 / 12, 1e-12);
  // max_violation: row maxima 0.1, 0, 0.25; column maxima 0.05, 0.3, 0.3.
  EXPECT_NEAR(contrastive_loss(s, 0.2, true).item(), 1.0 / 12, 1e-12);
  EXPECT_NEAR(contrastive_loss(s, 0.5).item(), 0.2916666666666667, 1e-12);
  // Perfectly separated scores give exactly zero.
  Tensor sep = from_vector({1, 0, 0, 0, 1, 0, 0, 0, 1}, {3, 3}, DType::F64);
  EXPECT_EQ(contrastive_loss(sep).item(), 0.0);
  // float32 works and agrees.
  EXPECT_NEAR(contrastive_loss(s.to(DType::F32)).item(), 1.1 / 12, 1e-7);
}

TEST(Losses, ContrastiveGradcheck) {
  for (bool mv : {false, true}) {
    for (int64_t B : {2, 5}) {
      SCOPED_TRACE(testing::Message() << "B=" << B << " max_violation=" << mv);
      // Scaled scores in (-1, 1)-ish: the hinge kinks are hit with
      // probability 0 and the finite differences stay on one side.
      Tensor s = (rnd({B, B}, 10 + B) * 0.4).detach().set_requires_grad();
      auto r = gradcheck(
          [&](const std::vector<Tensor>& in) { return contrastive_loss(in[0], 0.2, mv); }, {s});
      EXPECT_TRUE(r.ok) << r.report;
    }
  }
  // A transposed (non-contiguous) input.
  Tensor s = (rnd({4, 4}, 3) * 0.4).detach().set_requires_grad();
  auto r = gradcheck(
      [](const std::vector<Tensor>& in) { return contrastive_loss(in[0].transpose(0, 1)); }, {s});
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(Losses, ContrastiveErrors) {
  EXPECT_THROW(contrastive_loss(zeros({2, 3})), ShapeError);
  EXPECT_THROW(contrastive_loss(zeros({4})), ShapeError);
  EXPECT_THROW(contrastive_loss(zeros({1, 1})), ValueError);
  EXPECT_THROW(contrastive_loss(zeros({2, 2}, DType::I64)), DTypeError);
  try {
    contrastive_loss(zeros({2, 3}));
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3]"), std::string::npos) << e.what();
  }
}

TEST(Losses, SegmentationForwardValue) {
  // torch.manual_seed(0); logits = torch.randn(2,3,2,2, dtype=float64);
  // F.cross_entropy(logits, masks, weight=[1, 2.5, 4], ignore_index=255) / 2
  // = 0.5208225837030661 (PyTorch 1.13).
  Tensor logits = from_vector(
      {-2.310411800234176,  -0.3732508612577643, -1.0608166785462863, 0.9995093547811761,
       -0.8840250045832653, -1.2755469302148053, -0.623224579866079,  -0.8664416019125772,
       0.23871805816817063, 0.7335283685272841,  -1.3218818291421377, 1.3148113651971234,
       -1.4874956356507338, -0.7135753396468577, 0.519998663178938,   -0.9528856397032842,
       0.6748575435940039,  1.0468653769814655,  0.15429517864658948, -0.7498915228391941,
       -0.7233897004977882, 0.08636989238234997, -1.746404903728242,  1.041012457033509},
      {2, 3, 2, 2}, DType::F64);
  Tensor masks = from_vector({0, 1, 2, 255, 1, 1, 0, 2}, {2, 2, 2}, DType::I64);
  Tensor w = from_vector({1.0, 2.5, 4.0}, {3}, DType::F64);
  EXPECT_NEAR(segmentation_loss(logits, masks, w).item(), 0.5208225837030661, 1e-12);
  // Unweighted = weights of one.
  EXPECT_NEAR(segmentation_loss(logits, masks).item(),
              segmentation_loss(logits, masks, ones({3}, DType::F64)).item(), 1e-12);
}

TEST(Losses, SegmentationGradcheck) {
  Tensor logits = rnd({2, 4, 3, 5}, 7, true);
  Generator g(8);
  Tensor masks = randint(0, 4, {2, 3, 5}, DType::I64, &g);
  masks.data<int64_t>()[3] = kIgnoreIndex;
  masks.data<int64_t>()[17] = kIgnoreIndex;
  Tensor w = from_vector({1.0, 3.0, 0.5, 2.0}, {4}, DType::F64);
  auto r = gradcheck(
      [&](const std::vector<Tensor>& in) { return segmentation_loss(in[0], masks, w); }, {logits});
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(Losses, SegmentationErrors) {
  Tensor logits = zeros({2, 3, 4, 4});
  EXPECT_THROW(segmentation_loss(logits, zeros({2, 4, 5}, DType::I64)), ShapeError);
  EXPECT_THROW(segmentation_loss(logits, zeros({2, 4, 4}, DType::F32)), DTypeError);
  EXPECT_THROW(segmentation_loss(zeros({2, 3, 4}), zeros({2, 4, 4}, DType::I64)), ShapeError);
  EXPECT_THROW(segmentation_loss(logits, zeros({2, 4, 4}, DType::I64), ones({4})), ShapeError);
  Tensor bad = zeros({2, 4, 4}, DType::I64);
  bad.data<int64_t>()[5] = 7;  // neither a class nor 255
  EXPECT_THROW(segmentation_loss(logits, bad), IndexError);
}

TEST(Losses, TotalLossWeights) {
  Tensor ss = scalar_tensor(0.5, DType::F64), ir = scalar_tensor(0.25, DType::F64);
  EXPECT_NEAR(total_loss(ss, ir).item(), (80 * 0.5 + 20 * 0.25) / 2, 1e-12);
  EXPECT_NEAR(total_loss(Tensor(), ir).item(), 20 * 0.25, 1e-12);
  EXPECT_NEAR(total_loss(ss, Tensor()).item(), 80 * 0.5, 1e-12);
  LossWeight w;
  w.ss = 1, w.ir = 3;
  EXPECT_NEAR(total_loss(ss, ir, w).item(), (0.5 + 0.75) / 2, 1e-12);
  EXPECT_THROW(total_loss(Tensor(), Tensor()), ValueError);
}

TEST(Losses, SimilarityMatrixIsMeanOfCosines) {
  std::vector<Tensor> v = {rnd({3, 5}, 1), rnd({3, 5}, 2), rnd({3, 5}, 3)};
  Tensor t = rnd({4, 5}, 4);
  Tensor s = similarity_matrix(v, t);
  ASSERT_EQ(s.shape(), (Shape{3, 4}));
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 4; ++j) {
      double want = 0;
      for (const Tensor& vk : v) {
        double dot = 0, na = 0, nb = 0;
        for (int64_t e = 0; e < 5; ++e) {
          double a = vk.data<double>()[i * 5 + e], b = t.data<double>()[j * 5 + e];
          dot += a * b, na += a * a, nb += b * b;
        }
        want += dot / std::max(std::sqrt(na) * std::sqrt(nb), 1e-8);
      }
      EXPECT_NEAR(s.data<double>()[i * 4 + j], want / 3, 1e-12);
    }
  // A zero caption vector gives cosines of 0, not NaN (the 1e-8 floor).
  Tensor tz = zeros({1, 5}, DType::F64);
  for (double x : similarity_matrix(v, tz).to_vector()) EXPECT_EQ(x, 0.0);
}

TEST(Losses, SimilarityEqualsDescriptorProduct) {
  // mean_k cos(v_k, t) = t_hat . mean_k v_hat_k (DESIGN section 3).
  std::vector<Tensor> v = {rnd({5, 8}, 11), rnd({5, 8}, 12) * 3.0, rnd({5, 8}, 13) * 0.01,
                           rnd({5, 8}, 14)};
  Tensor t = rnd({7, 8}, 15);
  Tensor s = similarity_matrix(v, t);
  Tensor d = image_descriptor(v);
  ASSERT_EQ(d.shape(), (Shape{5, 8}));
  Tensor s2 = matmul(d, l2_normalize_rows(t).transpose(0, 1));
  std::vector<double> a = s.to_vector(), b = s2.to_vector();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-12) << i;
}

TEST(Losses, SimilarityGradcheck) {
  Tensor v1 = rnd({3, 4}, 21, true), v2 = rnd({3, 4}, 22, true), t = rnd({2, 4}, 23, true);
  auto r = gradcheck(
      [](const std::vector<Tensor>& in) {
        return similarity_matrix({in[0], in[1]}, in[2]);
      },
      {v1, v2, t});
  EXPECT_TRUE(r.ok) << r.report;
  auto r2 = gradcheck(
      [](const std::vector<Tensor>& in) {
        return image_descriptor({in[0], in[1]});
      },
      {v1, v2});
  EXPECT_TRUE(r2.ok) << r2.report;
}

TEST(Losses, SimilarityErrors) {
  EXPECT_THROW(similarity_matrix({}, zeros({2, 4})), ValueError);
  EXPECT_THROW(similarity_matrix({zeros({2, 4})}, zeros({2, 5})), ShapeError);
  EXPECT_THROW(similarity_matrix({zeros({2, 4}), zeros({3, 4})}, zeros({2, 4})), ShapeError);
  EXPECT_THROW(similarity_matrix({zeros({2, 4, 1})}, zeros({2, 4})), ShapeError);
  EXPECT_THROW(image_descriptor({}), ValueError);
}
