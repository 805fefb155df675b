// Semantic-guided spatial attention (formula in models/ssa.h).
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='SirsModel*'
#include "models/ssa.h"

#include "autograd/ops.h"
#include "models/config.h"

namespace sirs {

SsaDownsample parse_ssa_downsample(const std::string& s, const char* key) {
  if (s == "averagePooling") return SsaDownsample::AveragePooling;
  if (s == "maxPooling") return SsaDownsample::MaxPooling;
  if (s == "interpolation") return SsaDownsample::Interpolation;
  if (s == "None") return SsaDownsample::None;
  throw ValueError(str_cat(
      key, ": must be one of averagePooling, maxPooling, interpolation, None; got '", s, "'"));
}

SsaNormalization parse_ssa_normalization(const std::string& s, const char* key) {
  if (s == "batchNorm") return SsaNormalization::BatchNorm;
  if (s == "groupNorm") return SsaNormalization::GroupNorm;
  if (s == "None") return SsaNormalization::None;
  throw ValueError(str_cat(key, ": must be one of batchNorm, groupNorm, None; got '", s, "'"));
}

SemanticSpatialAttention::SemanticSpatialAttention(const std::array<int64_t, 4>& channels_,
                                                   SsaDownsample downsample_,
                                                   SsaNormalization normalization_)
    : downsample(downsample_), normalization(normalization_), channels(channels_) {
  if (normalization == SsaNormalization::None) return;
  for (int k = 0; k < 4; ++k) {
    std::shared_ptr<Layer> norm;
    if (normalization == SsaNormalization::BatchNorm) {
      norm = std::make_shared<BatchNorm2d>(channels[k]);
    } else {
      SIRS_CHECK(channels[k] % kSsaGroupNormGroups == 0, ValueError,
                 "ssa_normalization=groupNorm: GroupNorm(", kSsaGroupNormGroups,
                 " groups) needs channels divisible by ", kSsaGroupNormGroups, ", scale ", k + 1,
                 " has ", channels[k], " (raise resnet_width)");
      norm = std::make_shared<GroupNorm>(kSsaGroupNormGroups, channels[k], 1e-5, true);
    }
    norms.push_back(register_module(str_cat("norm", k + 1), norm));
  }
}

Tensor SemanticSpatialAttention::attention_map(const Tensor& seg_logits) {
  SIRS_CHECK(seg_logits.defined() && seg_logits.dim() == 4 && seg_logits.size(1) >= 2, ShapeError,
             "SSA: seg_logits must be [B, K, S, S] with K >= 2, got ",
             seg_logits.defined() ? shape_str(seg_logits.shape()) : std::string("undefined"));
  return sum(seg_logits.narrow(1, 1, seg_logits.size(1) - 1), {1}, /*keepdim=*/true);
}

Tensor SemanticSpatialAttention::resize_attention(const Tensor& att, int64_t h, int64_t w) const {
  switch (downsample) {
    case SsaDownsample::AveragePooling:
      return adaptive_avg_pool2d(att, h, w);
    case SsaDownsample::MaxPooling:
      return adaptive_max_pool2d(att, h, w);
    case SsaDownsample::Interpolation:
      return upsample_bilinear2d(att, h, w, false);
    case SsaDownsample::None:
      break;
  }
  return att;
}

std::vector<Tensor> SemanticSpatialAttention::forward(const std::vector<Tensor>& features,
                                                      const Tensor& seg_logits) {
  SIRS_CHECK(!features.empty() && features.size() <= 4, ValueError,
             "SSA: expected 1 to 4 feature scales, got ", features.size());
  Tensor att;
  if (downsample != SsaDownsample::None) att = attention_map(seg_logits);
  std::vector<Tensor> out;
  out.reserve(features.size());
  for (size_t k = 0; k < features.size(); ++k) {
    const Tensor& f = features[k];
    SIRS_CHECK(f.defined() && f.dim() == 4 && f.size(1) == channels[k], ShapeError, "SSA: feature ",
               k + 1, " must be [B, ", channels[k], ", H, W], got ",
               f.defined() ? shape_str(f.shape()) : std::string("undefined"));
    Tensor g = f;
    if (downsample != SsaDownsample::None) {
      SIRS_CHECK(att.size(0) == f.size(0), ShapeError, "SSA: seg_logits ",
                 shape_str(seg_logits.shape()), " and feature ", k + 1, " ", shape_str(f.shape()),
                 " have different batch sizes");
      g = f * resize_attention(att, f.size(2), f.size(3));
    }
    if (!norms.empty()) g = norms[k]->forward(g);
    out.push_back(g);
  }
  return out;
}

}  // namespace sirs
