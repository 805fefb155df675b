// AMW and the single-scale head (formulas in models/amw.h).
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='SirsModel*'
#include "models/amw.h"

#include "autograd/ops.h"

namespace sirs {

VfmSample parse_vfm_sample(const std::string& s, const char* key) {
  if (s == "mean") return VfmSample::Mean;
  if (s == "max") return VfmSample::Max;
  throw ValueError(str_cat(key, ": must be one of mean, max; got '", s, "'"));
}

Tensor spatial_pool(const Tensor& x, VfmSample sample) {
  SIRS_CHECK(x.defined() && x.dim() == 4, ShapeError, "spatial_pool: x must be [B, C, H, W], got ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  if (sample == VfmSample::Mean) return mean(x, {2, 3});
  return max(x.flatten(2), 2).values;
}

MultiScaleWeighting::MultiScaleWeighting(const std::array<int64_t, 4>& channels, int64_t embed_dim,
                                         VfmSample sample_, Generator* gen)
    : sample(sample_) {
  for (int k = 0; k < 4; ++k)
    mapping[k] = register_module(str_cat("mapping", k + 1),
                                 std::make_shared<Linear>(channels[k], embed_dim, true, gen));
}

std::vector<Tensor> MultiScaleWeighting::forward(const std::vector<Tensor>& g) {
  SIRS_CHECK(g.size() == 4, ValueError, "AMW: expected 4 feature scales, got ", g.size());
  std::vector<Tensor> v;
  v.reserve(4);
  for (int k = 0; k < 4; ++k) {
    SIRS_CHECK(g[k].defined() && g[k].dim() == 4 && g[k].size(1) == mapping[k]->in_features,
               ShapeError, "AMW: scale ", k + 1, " must be [B, ", mapping[k]->in_features,
               ", H, W], got ",
               g[k].defined() ? shape_str(g[k].shape()) : std::string("undefined"));
    v.push_back(mapping[k]->forward(spatial_pool(g[k], sample)));
  }
  return v;
}

SingleScaleHead::SingleScaleHead(int64_t channels, int64_t embed_dim, Generator* gen) {
  linear = register_module("linear", std::make_shared<Linear>(channels, embed_dim, true, gen));
}

Tensor SingleScaleHead::forward(const Tensor& g4) {
  SIRS_CHECK(g4.defined() && g4.dim() == 4 && g4.size(1) == linear->in_features, ShapeError,
             "single-scale head: input must be [B, ", linear->in_features, ", H, W], got ",
             g4.defined() ? shape_str(g4.shape()) : std::string("undefined"));
  return linear->forward(spatial_pool(g4, VfmSample::Mean));
}

}  // namespace sirs
