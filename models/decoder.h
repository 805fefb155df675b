// The SIRS segmentation decoder (module "decoder"; shared/DESIGN.md section 3):
// the semantic branch of a Panoptic-FPN head on the ResNet features.
//
//   p4 = latlayer1(f3), p3 = latlayer2(f2), p2 = latlayer3(f1)   1x1 convs -> 256, bias
//   s_k = relu(gn1(semantic_branch(p_k)))                       shared: conv 256 -> 128,
//                                                               GroupNorm(128 groups, 128)
//   s3, s4 resized to p2's size (bilinear, align_corners = true)
//   logits = bilinear_ac(conv3(s2 + s3 + s4), out_h, out_w)       conv3: 1x1 128 -> K, bias
//
// toplayer (1x1 conv C4 -> 256, bias) is a parameter of the reference
// (checkpoints hold it) whose output the reference computes and discards.
// We keep the parameter, so checkpoints load, and skip the computation: the
// logits and every gradient are identical (toplayer's gradient stays
// undefined, as PyTorch leaves it None), and the forward saves a conv.
#pragma once

#include <array>
#include <cstdint>
#include <memory>

#include "layers/layers.h"
#include "models/resnet.h"

namespace sirs {

class SegDecoder : public Module {
 public:
  // channels: of f1..f4. semantic_kernel: 1 (DESIGN) or 3 (padding 1); see models/config.h.
  SegDecoder(const std::array<int64_t, 4>& channels, int64_t num_classes,
             int64_t semantic_kernel = 1, Generator* gen = nullptr);
  // f1..f4 [B, C_k, H_k, W_k] -> logits [B, K, out_h, out_w].
  Tensor forward(const ResNetFeatures& f, int64_t out_h, int64_t out_w);

  std::shared_ptr<Conv2d> toplayer, latlayer1, latlayer2, latlayer3, semantic_branch, conv3;
  std::shared_ptr<GroupNorm> gn1;
  int64_t num_classes;

  static constexpr int64_t kPyramidChannels = 256;
  static constexpr int64_t kSemanticChannels = 128;
};

}  // namespace sirs
