// Adaptive Multi-scale Weighting, AMW (module "visual_feature" when
// model.VFM is on; shared/DESIGN.md section 3), and the single-scale head
// used when it is off.
//
//   AMW:          v_k = mapping_k(pool(g_k))   k = 1..4, pool over all spatial
//                                              positions (mean or max),
//                                              mapping_k: Linear C_k -> E, bias
//   single scale: v   = linear(mean(g_4))     linear: Linear C_4 -> E, bias
//
// g_k are the (SSA-weighted, when SSA is on) features [B, C_k, H, W];
// v_k [B, E].
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/layers.h"

namespace sirs {

enum class VfmSample { Mean, Max };
// "mean" | "max"; ValueError naming key otherwise.
VfmSample parse_vfm_sample(const std::string& s, const char* key = "vfm_sample");

// x [B, C, H, W] -> [B, C]: mean or max over the H * W positions (max sends
// the gradient to the first maximum).
Tensor spatial_pool(const Tensor& x, VfmSample sample);

class MultiScaleWeighting : public Module {
 public:
  MultiScaleWeighting(const std::array<int64_t, 4>& channels, int64_t embed_dim,
                      VfmSample sample = VfmSample::Mean, Generator* gen = nullptr);
  // g: 4 tensors [B, C_k, H_k, W_k] -> 4 tensors [B, E].
  std::vector<Tensor> forward(const std::vector<Tensor>& g);
  std::array<std::shared_ptr<Linear>, 4> mapping;  // names mapping1..mapping4
  VfmSample sample;
};

class SingleScaleHead : public Module {
 public:
  SingleScaleHead(int64_t channels, int64_t embed_dim, Generator* gen = nullptr);
  // g4 [B, C_4, H, W] -> [B, E].
  Tensor forward(const Tensor& g4);
  std::shared_ptr<Linear> linear;
};

}  // namespace sirs
