// Segmentation decoder (formula in models/decoder.h).
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='SirsModel*'
#include "models/decoder.h"

#include "autograd/ops.h"

namespace sirs {

SegDecoder::SegDecoder(const std::array<int64_t, 4>& channels, int64_t num_classes_,
                       int64_t semantic_kernel, Generator* gen)
    : num_classes(num_classes_) {
  SIRS_CHECK(num_classes >= 1, ValueError, "SegDecoder: num_classes must be >= 1, got ",
             num_classes);
  SIRS_CHECK(semantic_kernel == 1 || semantic_kernel == 3, ValueError,
             "SegDecoder: semantic_kernel must be 1 or 3, got ", semantic_kernel);
  const int64_t P = kPyramidChannels, S = kSemanticChannels;
  // Registration order of the reference module (its unused layers left out).
  toplayer =
      register_module("toplayer", std::make_shared<Conv2d>(channels[3], P, 1, 1, 0, 1, true, gen));
  latlayer1 =
      register_module("latlayer1", std::make_shared<Conv2d>(channels[2], P, 1, 1, 0, 1, true, gen));
  latlayer2 =
      register_module("latlayer2", std::make_shared<Conv2d>(channels[1], P, 1, 1, 0, 1, true, gen));
  latlayer3 =
      register_module("latlayer3", std::make_shared<Conv2d>(channels[0], P, 1, 1, 0, 1, true, gen));
  semantic_branch = register_module(
      "semantic_branch",
      std::make_shared<Conv2d>(P, S, semantic_kernel, 1, semantic_kernel / 2, 1, true, gen));
  conv3 = register_module("conv3", std::make_shared<Conv2d>(S, num_classes, 1, 1, 0, 1, true, gen));
  gn1 = register_module("gn1", std::make_shared<GroupNorm>(S, S, 1e-5, true));
}

Tensor SegDecoder::forward(const ResNetFeatures& f, int64_t out_h, int64_t out_w) {
  SIRS_CHECK(f.f1.defined() && f.f2.defined() && f.f3.defined(), ValueError,
             "SegDecoder: features f1..f3 must be defined");
  SIRS_CHECK(out_h > 0 && out_w > 0, ValueError, "SegDecoder: output size must be positive, got ",
             out_h, "x", out_w);
  Tensor p4 = latlayer1->forward(f.f3);
  Tensor p3 = latlayer2->forward(f.f2);
  Tensor p2 = latlayer3->forward(f.f1);
  const int64_t h = p2.size(2), w = p2.size(3);
  auto branch = [&](const Tensor& p) { return relu(gn1->forward(semantic_branch->forward(p))); };
  Tensor s4 = upsample_bilinear2d(branch(p4), h, w, /*align_corners=*/true);
  Tensor s3 = upsample_bilinear2d(branch(p3), h, w, /*align_corners=*/true);
  Tensor s2 = branch(p2);
  return upsample_bilinear2d(conv3->forward(s2 + s3 + s4), out_h, out_w, /*align_corners=*/true);
}

}  // namespace sirs
