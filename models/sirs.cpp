// The SIRS model: composition of the encoders, decoder, SSA and AMW
// (models/sirs.h), and the validation of its configuration (models/config.h).
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='SirsModel*'
#include "models/sirs.h"

#include "autograd/ops.h"

namespace sirs {

namespace {

int backbone_depth(const std::string& backbone) {
  if (backbone == "resnet18") return 18;
  if (backbone == "resnet50") return 50;
  throw ValueError(
      str_cat("SirsConfig.backbone: must be one of resnet18, resnet50; got '", backbone, "'"));
}

void check_positive(const char* key, int64_t v) {
  SIRS_CHECK(v > 0, ValueError, "SirsConfig.", key, ": must be positive, got ", v);
}

}  // namespace

int64_t SirsConfig::feature_channels(int k) const {
  SIRS_CHECK(k >= 0 && k < 4, IndexError, "SirsConfig::feature_channels: scale ", k,
             " outside 0..3");
  int64_t c = resnet_width << k;
  return backbone_depth(backbone) == 50 ? 4 * c : c;
}

void SirsConfig::validate() const {
  backbone_depth(backbone);
  check_positive("resnet_width", resnet_width);
  check_positive("embed_dim", embed_dim);
  check_positive("vocab_size", vocab_size);
  check_positive("word_dim", word_dim);
  check_positive("hidden_dim", hidden_dim);
  SIRS_CHECK(image_size >= 32, ValueError, "SirsConfig.image_size: must be >= 32, got ",
             image_size);
  SIRS_CHECK(gru_dropout >= 0 && gru_dropout < 1, ValueError,
             "SirsConfig.gru_dropout: must be in [0, 1), got ", gru_dropout);
  parse_ssa_downsample(ssa_downsample, "SirsConfig.ssa_downsample");
  SsaNormalization norm =
      parse_ssa_normalization(ssa_normalization, "SirsConfig.ssa_normalization");
  parse_vfm_sample(vfm_sample, "SirsConfig.vfm_sample");
  if (decoder) {
    SIRS_CHECK(num_classes >= 2, ValueError,
               "SirsConfig.num_classes: must be >= 2 (Background + foreground classes), got ",
               num_classes);
    SIRS_CHECK(decoder_semantic_kernel == 1 || decoder_semantic_kernel == 3, ValueError,
               "SirsConfig.decoder_semantic_kernel: must be 1 or 3, got ", decoder_semantic_kernel);
  }
  SIRS_CHECK(
      !ssa || decoder, ValueError,
      "SirsConfig.ssa: SSA needs the segmentation decoder (set decoder = true or ssa = false)");
  if (ssa && norm == SsaNormalization::GroupNorm)
    for (int k = 0; k < 4; ++k)
      SIRS_CHECK(feature_channels(k) % kSsaGroupNormGroups == 0, ValueError,
                 "SirsConfig.ssa_normalization: groupNorm (", kSsaGroupNormGroups,
                 " groups) needs every scale's channels divisible by ", kSsaGroupNormGroups,
                 "; resnet_width ", resnet_width, " gives ", feature_channels(k), " at scale ",
                 k + 1);
}

ExtractFeature::ExtractFeature(int depth, int64_t width, Generator* gen) {
  resnet = register_module("resnet", std::make_shared<ResNet>(depth, width, gen));
}

SirsModel::SirsModel(const SirsConfig& cfg, Generator* gen) : cfg_(cfg) {
  cfg_.validate();
  extract_feature = register_module(
      "extract_feature",
      std::make_shared<ExtractFeature>(backbone_depth(cfg_.backbone), cfg_.resnet_width, gen));
  const std::array<int64_t, 4> ch = feature_channels();
  if (cfg_.decoder)
    decoder = register_module(
        "decoder",
        std::make_shared<SegDecoder>(ch, cfg_.num_classes, cfg_.decoder_semantic_kernel, gen));
  if (cfg_.ssa)
    ss_attention =
        register_module("ss_attention", std::make_shared<SemanticSpatialAttention>(
                                            ch, parse_ssa_downsample(cfg_.ssa_downsample),
                                            parse_ssa_normalization(cfg_.ssa_normalization)));
  if (cfg_.vfm)
    amw = register_module("visual_feature",
                          std::make_shared<MultiScaleWeighting>(
                              ch, cfg_.embed_dim, parse_vfm_sample(cfg_.vfm_sample), gen));
  else
    single_head = register_module("visual_feature",
                                  std::make_shared<SingleScaleHead>(ch[3], cfg_.embed_dim, gen));
  text_feature = register_module(
      "text_feature",
      std::make_shared<SkipThoughtsEncoder>(cfg_.vocab_size, cfg_.word_dim, cfg_.hidden_dim,
                                            cfg_.embed_dim, cfg_.gru_dropout, gen));
}

std::array<int64_t, 4> SirsModel::feature_channels() const {
  return extract_feature->resnet->channels();
}

ImageEncoding SirsModel::encode_images(const Tensor& images) {
  SIRS_CHECK(images.defined() && images.dim() == 4 && images.size(1) == 3 && images.size(2) >= 32 &&
                 images.size(3) >= 32,
             ShapeError, "SirsModel: images must be [B, 3, H, W] with H, W >= 32, got ",
             images.defined() ? shape_str(images.shape()) : std::string("undefined"));
  ResNetFeatures f = extract_feature->resnet->forward(images);
  ImageEncoding enc;
  if (decoder) enc.seg_logits = decoder->forward(f, images.size(2), images.size(3));
  std::vector<Tensor> g = {f.f1, f.f2, f.f3, f.f4};
  if (ss_attention) g = ss_attention->forward(g, enc.seg_logits);
  if (amw)
    enc.image_vecs = amw->forward(g);
  else
    enc.image_vecs = {single_head->forward(g[3])};
  return enc;
}

Tensor SirsModel::encode_text(const Tensor& tokens, const Tensor& lengths) {
  return text_feature->forward(tokens, lengths);
}

SirsOutput SirsModel::forward(const Tensor& images, const Tensor& tokens, const Tensor& lengths) {
  ImageEncoding enc = encode_images(images);
  SirsOutput out;
  out.text_vec = encode_text(tokens, lengths);
  out.sims = similarity(enc.image_vecs, out.text_vec);
  out.seg_logits = enc.seg_logits;
  out.image_vecs = std::move(enc.image_vecs);
  return out;
}

SirsLoss sirs_loss(const SirsOutput& out, const Tensor& masks, const Tensor& class_weights,
                   LossWeight w, double margin, bool max_violation) {
  SirsLoss l;
  if (out.seg_logits.defined() && masks.defined())
    l.ss = segmentation_loss(out.seg_logits, masks, class_weights);
  l.ir = contrastive_loss(out.sims, margin, max_violation);
  l.total = total_loss(l.ss, l.ir, w);
  return l;
}

}  // namespace sirs
