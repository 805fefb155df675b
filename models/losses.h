// SIRS scores and losses (shared/DESIGN.md sections 3 and 4), built from
// autograd ops so every function here is differentiable.
//
//   cos(a, b)      = a.b / max(|a| |b|, 1e-8)
//   S[i, j]        = mean_k cos(v_k[i], t[j])              similarity_matrix
//                  = t_hat[j] . mean_k v_hat_k[i]           image_descriptor
//   cost_c[i, j]   = max(0, m + S[i, j] - S[i, i])   (j != i)
//   cost_i[i, j]   = max(0, m + S[i, j] - S[j, j])   (i != j)
//   L_IR           = (sum cost_c + sum cost_i) / (2 B^2 - 2 B)     contrastive_loss
//                    (max_violation: only the largest cost_c of each row and
//                    the largest cost_i of each column enter the sums; the
//                    normaliser stays 2 B^2 - 2 B, as in the reference)
//   L_SS           = [sum_p w[y_p] (-log softmax(logits_p)[y_p]) / sum_p w[y_p]] / B
//                    over pixels p with y_p != 255                 segmentation_loss
//   total          = (w_ss L_SS + w_ir L_IR) / (number of terms present)  total_loss
#pragma once

#include <cstdint>
#include <vector>

#include "tensor/tensor.h"

namespace sirs {

// The ignore label of the RSITMD-SS masks.
constexpr int64_t kIgnoreIndex = 255;

// Image-caption similarity matrix [B_img, B_cap]: the mean over scales k of
// the cosine of image_vecs[k] [B_img, E] and text_vec [B_cap, E]. One GEMM
// per scale (v_k t^T divided by max(|v_k| |t|^T, 1e-8)), so large
// image x caption matrices never materialise a [B_img, B_cap, E] tensor.
// image_vecs must be non-empty with equal shapes; ShapeError otherwise.
Tensor similarity_matrix(const std::vector<Tensor>& image_vecs, const Tensor& text_vec);

// The single search descriptor of each image: mean_k v_k / |v_k| [B_img, E]
// (a zero vector stays zero). For captions t with |v_k| |t| > 1e-8,
//   similarity_matrix(image_vecs, t) = image_descriptor(image_vecs) t_hat^T,
// with t_hat = t / |t|: retrieval over an archive is one matrix product.
Tensor image_descriptor(const std::vector<Tensor>& image_vecs);
// Rows scaled to unit length (zero rows stay zero): t_hat for the identity above.
Tensor l2_normalize_rows(const Tensor& x);

// Hinge triplet loss on the square score matrix S [B, B] (diagonal =
// matching pairs), margin m; see the formula above. B >= 2 (the normaliser
// is 0 for B = 1): ValueError otherwise. Returns a 0-d tensor.
Tensor contrastive_loss(const Tensor& scores, double margin = 0.2, bool max_violation = false);

// Class-weighted pixel cross-entropy divided by the batch size B.
// logits [B, K, H, W] float; masks [B, H, W] int64 with values in [0, K) or
// 255 (ignored); class_weights [K] (same dtype as logits) or undefined for
// unweighted. Returns a 0-d tensor (NaN when every pixel is ignored).
Tensor segmentation_loss(const Tensor& logits, const Tensor& masks,
                         const Tensor& class_weights = Tensor());

// optim.loss_weight of the reference configuration.
struct LossWeight {
  double ss = 80;  // segmentation
  double ir = 20;  // retrieval
};

// (w.ss * loss_ss + w.ir * loss_ir) / n, n = number of defined terms (the
// segmentation term is absent when the model has no decoder: pass an
// undefined tensor). At least one term must be defined (ValueError).
Tensor total_loss(const Tensor& loss_ss, const Tensor& loss_ir, LossWeight w = {});

}  // namespace sirs
