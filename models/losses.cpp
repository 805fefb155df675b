// SIRS similarity and losses: compositions of autograd ops, so the backward
// of each comes from the ops (checked by gradcheck in tests/test_losses.cpp).
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Losses*'
#include "models/losses.h"

#include <limits>
#include <string>

#include "autograd/ops.h"

namespace sirs {

namespace {

constexpr double kCosEps = 1e-8;
constexpr double kInf = std::numeric_limits<double>::infinity();

void check_matrix(const char* op, const std::string& what, const Tensor& t) {
  SIRS_CHECK(t.defined(), ValueError, op, ": ", what, " is undefined");
  SIRS_CHECK(t.dim() == 2, ShapeError, op, ": ", what, " must be [B, E], got ",
             shape_str(t.shape()));
  check_float(op, t);
}

void check_scales(const char* op, const std::vector<Tensor>& image_vecs) {
  SIRS_CHECK(!image_vecs.empty(), ValueError, op, ": no image vectors (need one per scale)");
  for (size_t k = 0; k < image_vecs.size(); ++k) {
    check_matrix(op, str_cat("image_vecs[", k, "]"), image_vecs[k]);
    SIRS_CHECK(image_vecs[k].shape() == image_vecs[0].shape(), ShapeError, op, ": image_vecs[", k,
               "] has shape ", shape_str(image_vecs[k].shape()), " but image_vecs[0] has ",
               shape_str(image_vecs[0].shape()));
  }
}

// cos(a[i], b[j]) for all pairs: [Ba, Bb].
Tensor pairwise_cosine(const Tensor& a, const Tensor& b) {
  Tensor dots = matmul(a, b.transpose(0, 1));
  Tensor na = norm(a, {1}, /*keepdim=*/true);                // [Ba, 1]
  Tensor nb = norm(b, {1}, /*keepdim=*/true).view({1, -1});  // [1, Bb]
  return dots / clamp(na * nb, kCosEps, kInf);
}

}  // namespace

Tensor similarity_matrix(const std::vector<Tensor>& image_vecs, const Tensor& text_vec) {
  const char* op = "similarity_matrix";
  check_scales(op, image_vecs);
  check_matrix(op, "text_vec", text_vec);
  SIRS_CHECK(text_vec.size(1) == image_vecs[0].size(1), ShapeError, op,
             ": embedding sizes differ: image ", shape_str(image_vecs[0].shape()), " text ",
             shape_str(text_vec.shape()));
  Tensor s = pairwise_cosine(image_vecs[0], text_vec);
  for (size_t k = 1; k < image_vecs.size(); ++k) s = s + pairwise_cosine(image_vecs[k], text_vec);
  return image_vecs.size() == 1 ? s : s / static_cast<double>(image_vecs.size());
}

Tensor l2_normalize_rows(const Tensor& x) {
  check_matrix("l2_normalize_rows", "x", x);
  // A zero row divided by the clamp floor stays zero.
  return x / clamp(norm(x, {1}, true), 1e-30, kInf);
}

Tensor image_descriptor(const std::vector<Tensor>& image_vecs) {
  check_scales("image_descriptor", image_vecs);
  Tensor d = l2_normalize_rows(image_vecs[0]);
  for (size_t k = 1; k < image_vecs.size(); ++k) d = d + l2_normalize_rows(image_vecs[k]);
  return image_vecs.size() == 1 ? d : d / static_cast<double>(image_vecs.size());
}

Tensor contrastive_loss(const Tensor& scores, double margin, bool max_violation) {
  const char* op = "contrastive_loss";
  SIRS_CHECK(scores.defined() && scores.dim() == 2 && scores.size(0) == scores.size(1), ShapeError,
             op, ": scores must be a square [B, B] matrix, got ",
             scores.defined() ? shape_str(scores.shape()) : std::string("undefined"));
  check_float(op, scores);
  const int64_t B = scores.size(0);
  SIRS_CHECK(B >= 2, ValueError, op, ": needs B >= 2 image-caption pairs, got B = ", B);
  Tensor idx = arange(B, Options(DType::I64, scores.device())).view({B, 1});
  Tensor diag = gather(scores, 1, idx);  // [B, 1]: S[i, i]
  // 1 off the diagonal, 0 on it: the reference's masked_fill of the diagonal.
  Tensor off = ones({B, B}, Options(scores.dtype(), scores.device()));
  view::fill(view::as_strided(off, {B}, {B + 1}, 0), 0.0);
  Tensor cost_c = relu(scores - diag + margin) * off;               // vs S[i, i]
  Tensor cost_i = relu(scores - diag.view({1, B}) + margin) * off;  // vs S[j, j]
  Tensor total;
  if (max_violation)
    total = sum(max(cost_c, 1).values) + sum(max(cost_i, 0).values);
  else
    total = sum(cost_c) + sum(cost_i);
  return total / static_cast<double>(2 * B * B - 2 * B);
}

Tensor segmentation_loss(const Tensor& logits, const Tensor& masks, const Tensor& class_weights) {
  const char* op = "segmentation_loss";
  SIRS_CHECK(logits.defined() && logits.dim() == 4, ShapeError, op,
             ": logits must be [B, K, H, W], got ",
             logits.defined() ? shape_str(logits.shape()) : std::string("undefined"));
  SIRS_CHECK(masks.defined() && masks.dim() == 3 && masks.size(0) == logits.size(0) &&
                 masks.size(1) == logits.size(2) && masks.size(2) == logits.size(3),
             ShapeError, op, ": masks must be [B, H, W] = [", logits.size(0), ", ", logits.size(2),
             ", ", logits.size(3), "], got ",
             masks.defined() ? shape_str(masks.shape()) : std::string("undefined"));
  SIRS_CHECK(masks.dtype() == DType::I64, DTypeError, op, ": masks must be int64, got ",
             dtype_name(masks.dtype()));
  if (class_weights.defined())
    SIRS_CHECK(class_weights.dim() == 1 && class_weights.size(0) == logits.size(1), ShapeError, op,
               ": class_weights must be [K] = [", logits.size(1), "], got ",
               shape_str(class_weights.shape()));
  Tensor ce = cross_entropy(logits, masks, class_weights, kIgnoreIndex, Reduction::Mean);
  return ce / static_cast<double>(logits.size(0));
}

Tensor total_loss(const Tensor& loss_ss, const Tensor& loss_ir, LossWeight w) {
  SIRS_CHECK(loss_ss.defined() || loss_ir.defined(), ValueError,
             "total_loss: both loss terms are undefined");
  Tensor total;
  int n = 0;
  if (loss_ss.defined()) total = loss_ss * w.ss, ++n;
  if (loss_ir.defined()) total = total.defined() ? total + loss_ir * w.ir : loss_ir * w.ir, ++n;
  return n == 1 ? total : total / static_cast<double>(n);
}

}  // namespace sirs
