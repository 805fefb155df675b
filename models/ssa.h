// Semantic-guided Spatial Attention, SSA (module "ss_attention";
// shared/DESIGN.md section 3). The decoder's prediction re-weights every
// feature scale:
//
//   att   = sum_{c = 1..K-1} logits[:, c]        [B, 1, S, S] (all foreground classes;
//                                               differentiable: gradients reach the decoder)
//   att_k = resize(att, H_k, W_k)                averagePooling: adaptive average pooling
//                                               maxPooling:     adaptive max pooling
//                                               interpolation:  bilinear, align_corners = false
//   g_k   = norm_k(f_k * att_k)                  att_k broadcast over the channels
//
// downsample None leaves g_k = norm_k(f_k). norm_k (names "norm1".."norm4") is
// BatchNorm2d(C_k) (batchNorm), GroupNorm(16, C_k) (groupNorm, affine, eps
// 1e-5) or the identity (None: no parameters).
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/layers.h"

namespace sirs {

enum class SsaDownsample { AveragePooling, MaxPooling, Interpolation, None };
enum class SsaNormalization { BatchNorm, GroupNorm, None };

// Parse the reference's spellings ("averagePooling", ..., "None"); ValueError
// naming `key` and the allowed values otherwise.
SsaDownsample parse_ssa_downsample(const std::string& s, const char* key = "ssa_downsample");
SsaNormalization parse_ssa_normalization(const std::string& s,
                                         const char* key = "ssa_normalization");

class SemanticSpatialAttention : public Module {
 public:
  // channels of f1..f4. groupNorm needs each C_k divisible by 16 (ValueError).
  SemanticSpatialAttention(const std::array<int64_t, 4>& channels, SsaDownsample downsample,
                           SsaNormalization normalization);
  // features f_k [B, C_k, H_k, W_k] (any number of scales up to 4, matching
  // the constructor's channels), seg_logits [B, K, S, S] with K >= 2 -> g_k.
  std::vector<Tensor> forward(const std::vector<Tensor>& features, const Tensor& seg_logits);
  // att = sum of the foreground logits, [B, 1, S, S].
  static Tensor attention_map(const Tensor& seg_logits);
  // att resized to h x w by the configured downsampling.
  Tensor resize_attention(const Tensor& att, int64_t h, int64_t w) const;

  std::vector<std::shared_ptr<Layer>> norms;  // empty for None
  SsaDownsample downsample;
  SsaNormalization normalization;
  std::array<int64_t, 4> channels;
};

}  // namespace sirs
