// The switches of the SIRS model (the reference's `model:` configuration
// section; shared/DESIGN.md section 3). A plain struct: fill it, call
// validate() (SirsModel's constructor does), build the model.
//
//   key                reference key           values
//   backbone           model.backbone          resnet18 | resnet50
//   resnet_width       (ours)                  base width of the ResNet (64 = torchvision);
//                                              f1..f4 have width x (1,2,4,8) channels
//                                              (x4 for resnet50). Small for tests.
//   num_classes        model.num_classes       segmentation classes incl. Background (>= 2)
//   embed_dim          model.embed_dim         joint embedding size
//   decoder            model.decoder           segmentation decoder present
//   ssa                model.SSA               semantic-guided spatial attention (needs decoder)
//   ssa_downsample     SSA.downsample          averagePooling | maxPooling | interpolation | None
//   ssa_normalization  SSA.normalization       batchNorm | groupNorm | None
//   vfm                model.VFM               AMW over four scales; off: one head on f4
//   vfm_sample         VFM.sample              mean | max
//   vocab_size         len(vocab)              words (ids 1..vocab_size; 0 = padding)
//   word_dim, hidden_dim, gru_dropout          skip-thoughts GRU (620, 2400, 0.25)
//   image_size         dataset.image_size      the size the data pipeline feeds (256); the
//                                              model accepts any square or rectangular input
//                                              with sides >= 32
//   decoder_semantic_kernel (ours)             kernel of decoder.semantic_branch: 1 as
//                                              DESIGN section 3 says; 3 (padding 1) is the
//                                              Panoptic-FPN code the reference decoder
//                                              derives from. Importers can read it off the
//                                              checkpoint's weight shape.
#pragma once

#include <cstdint>
#include <string>

namespace sirs {

struct SirsConfig {
  std::string backbone = "resnet18";
  int64_t resnet_width = 64;
  int64_t num_classes = 15;
  int64_t embed_dim = 512;
  bool decoder = true;
  bool ssa = true;
  std::string ssa_downsample = "averagePooling";  // maxPooling | interpolation | None
  std::string ssa_normalization = "None";         // batchNorm | groupNorm | None
  bool vfm = true;
  std::string vfm_sample = "mean";  // max
  int64_t vocab_size = 0;           // must be set
  int64_t word_dim = 620, hidden_dim = 2400;
  double gru_dropout = 0.25;
  int64_t image_size = 256;
  int64_t decoder_semantic_kernel = 1;

  // ValueError naming the offending key and its allowed values.
  void validate() const;
  // Channels of f1..f4 for this backbone and width.
  int64_t feature_channels(int k) const;  // k = 0..3
};

// Number of groups of the SSA GroupNorm (per scale).
constexpr int64_t kSsaGroupNormGroups = 16;

}  // namespace sirs
