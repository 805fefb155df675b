// The SIRS model (shared/DESIGN.md sections 3 and 6): image encoder, optional
// segmentation decoder, SSA and AMW, the skip-thoughts text encoder, and the
// image-caption similarity. Every tensor carries the reference's name:
//
//   extract_feature.resnet.*        models/resnet.h (torchvision names)
//   decoder.*                       models/decoder.h        (config.decoder)
//   ss_attention.norm{1..4}.*       models/ssa.h            (config.ssa, normalization on)
//   visual_feature.mapping{1..4}.*  models/amw.h            (config.vfm)
//   visual_feature.linear.*         models/amw.h            (!config.vfm)
//   text_feature.*                  models/text_encoder.h
//
//   SirsModel model(cfg);
//   SirsOutput out = model.forward(images, tokens, lengths);
//   SirsLoss loss = sirs_loss(out, masks, class_weights);
//   loss.total.backward();
//
// Without VFM the single head maps mean(g_4), the last scale after SSA (the
// plain f_4 when SSA is off, as DESIGN section 3 writes it); with SSA on and
// VFM off the attention still shapes the retrieval vector.
//
// For retrieval over many images and captions, encode the two sides
// separately (encode_images in batches, encode_text in batches) and score
// with similarity(); image_descriptor() (models/losses.h) turns the
// per-scale vectors into the single search vector.
#pragma once

#include <memory>
#include <vector>

#include "layers/layers.h"
#include "models/amw.h"
#include "models/config.h"
#include "models/decoder.h"
#include "models/losses.h"
#include "models/resnet.h"
#include "models/ssa.h"
#include "models/text_encoder.h"

namespace sirs {

struct SirsOutput {
  Tensor sims;                     // [B_img, B_cap]
  Tensor seg_logits;               // [B, K, H, W], undefined without the decoder
  std::vector<Tensor> image_vecs;  // v_k [B_img, E]: 4 with VFM, 1 without
  Tensor text_vec;                 // [B_cap, E]
};

struct ImageEncoding {
  std::vector<Tensor> image_vecs;  // v_k [B, E]
  Tensor seg_logits;               // [B, K, H, W] or undefined
};

// The module "extract_feature" of the reference: it holds the ResNet as "resnet".
class ExtractFeature : public Module {
 public:
  ExtractFeature(int depth, int64_t width, Generator* gen);
  std::shared_ptr<ResNet> resnet;
};

class SirsModel : public Module {
 public:
  // Validates cfg (ValueError naming the key). Parameters are initialised as
  // the reference does (torchvision ResNet init, PyTorch layer defaults),
  // drawing from gen (the default generator when null).
  explicit SirsModel(const SirsConfig& cfg, Generator* gen = nullptr);

  // images [B, 3, H, W] (H, W >= 32), tokens int64 [B_cap, T], lengths int64
  // [B_cap]. sims is [B, B_cap].
  SirsOutput forward(const Tensor& images, const Tensor& tokens, const Tensor& lengths);
  ImageEncoding encode_images(const Tensor& images);
  Tensor encode_text(const Tensor& tokens, const Tensor& lengths);
  // similarity_matrix of models/losses.h: mean over scales of the cosines.
  static Tensor similarity(const std::vector<Tensor>& image_vecs, const Tensor& text_vec) {
    return similarity_matrix(image_vecs, text_vec);
  }

  const SirsConfig& config() const { return cfg_; }
  std::array<int64_t, 4> feature_channels() const;

  // Children; null when the configuration leaves them out.
  std::shared_ptr<ExtractFeature> extract_feature;
  std::shared_ptr<SegDecoder> decoder;
  std::shared_ptr<SemanticSpatialAttention> ss_attention;
  std::shared_ptr<MultiScaleWeighting> amw;      // "visual_feature" with VFM
  std::shared_ptr<SingleScaleHead> single_head;  // "visual_feature" without
  std::shared_ptr<SkipThoughtsEncoder> text_feature;

 private:
  SirsConfig cfg_;
};

struct SirsLoss {
  Tensor ss;     // segmentation loss, undefined without decoder or masks
  Tensor ir;     // retrieval loss
  Tensor total;  // (w.ss * ss + w.ir * ir) / number of terms
};

// The joint loss of one training batch whose images and captions pair up
// on the diagonal of out.sims (B >= 2). masks int64 [B, H, W] (255 =
// ignore) or undefined; class_weights [K] or undefined.
SirsLoss sirs_loss(const SirsOutput& out, const Tensor& masks, const Tensor& class_weights,
                   LossWeight w = {}, double margin = 0.2, bool max_violation = false);

}  // namespace sirs
