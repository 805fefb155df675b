// The standard layers (layers/layers.h). Tests: make -j2 build/sirs_tests &&
// ./build/sirs_tests --gtest_filter='Layers*'
#include "layers/layers.h"

#include <cmath>

#include "autograd/ops.h"
#include "layers/init.h"

namespace sirs {

Conv2d::Conv2d(int64_t in_ch, int64_t out_ch, int64_t kernel, int64_t stride_, int64_t padding_,
               int64_t dilation_, bool with_bias, Generator* gen, bool default_init)
    : in_channels(in_ch),
      out_channels(out_ch),
      kernel_size(kernel),
      stride(stride_),
      padding(padding_),
      dilation(dilation_) {
  SIRS_CHECK(in_ch > 0 && out_ch > 0 && kernel > 0 && stride_ > 0 && padding_ >= 0 &&
                 dilation_ > 0,
             ValueError, "Conv2d: bad configuration in_ch ", in_ch, " out_ch ", out_ch,
             " kernel ", kernel, " stride ", stride_, " padding ", padding_, " dilation ",
             dilation_);
  weight = register_parameter("weight", empty({out_ch, in_ch, kernel, kernel}));
  if (with_bias) bias = register_parameter("bias", empty({out_ch}));
  if (default_init) linear_default_init_(weight, bias, gen);
}

Tensor Conv2d::forward(const Tensor& x) {
  SIRS_CHECK(x.defined() && x.dim() == 4 && x.size(1) == in_channels, ShapeError,
             "Conv2d: expected input [B, ", in_channels, ", H, W], got ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  return conv2d(x, weight, bias, stride, padding, dilation);
}

Linear::Linear(int64_t in, int64_t out, bool with_bias, Generator* gen)
    : in_features(in), out_features(out) {
  SIRS_CHECK(in > 0 && out > 0, ValueError, "Linear: bad sizes in ", in, " out ", out);
  weight = register_parameter("weight", empty({out, in}));
  if (with_bias) bias = register_parameter("bias", empty({out}));
  linear_default_init_(weight, bias, gen);
}

Tensor Linear::forward(const Tensor& x) {
  SIRS_CHECK(x.defined() && x.dim() >= 1 && x.size(-1) == in_features, ShapeError,
             "Linear: expected input [..., ", in_features, "], got ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  return linear(x, weight, bias);
}

BatchNorm2d::BatchNorm2d(int64_t C, double eps_, double momentum_)
    : num_features(C), eps(eps_), momentum(momentum_) {
  SIRS_CHECK(C > 0, ValueError, "BatchNorm2d: bad channel count ", C);
  weight = register_parameter("weight", ones({C}));
  bias = register_parameter("bias", zeros({C}));
  running_mean = register_buffer("running_mean", zeros({C}));
  running_var = register_buffer("running_var", ones({C}));
  num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::I64));
}

Tensor BatchNorm2d::forward(const Tensor& x) {
  SIRS_CHECK(x.defined() && x.dim() >= 2 && x.size(1) == num_features, ShapeError,
             "BatchNorm2d: expected input [B, ", num_features, ", *], got ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  Tensor y = batch_norm(x, weight, bias, running_mean, running_var, is_training(), momentum, eps);
  // num_batches_tracked += 1 where it lives: a copy with beta = 1 adds a
  // one-element 1 into it, so a CUDA buffer needs no read back to the host
  // (an item() here would stall the GPU pipeline at every BatchNorm). The 1
  // is kept, so a training step does not allocate and fill one per layer.
  if (is_training()) {
    if (!one_.defined() || one_.device() != num_batches_tracked.device())
      one_ = ones({}, Options(DType::I64, num_batches_tracked.device()));
    view::copy_into(num_batches_tracked, one_, 1.0);
  }
  return y;
}

GroupNorm::GroupNorm(int64_t groups, int64_t C, double eps_, bool affine)
    : num_groups(groups), num_channels(C), eps(eps_) {
  SIRS_CHECK(groups > 0 && C > 0 && C % groups == 0, ValueError, "GroupNorm: ", C,
             " channels do not split into ", groups, " groups");
  if (affine) {
    weight = register_parameter("weight", ones({C}));
    bias = register_parameter("bias", zeros({C}));
  }
}

Tensor GroupNorm::forward(const Tensor& x) {
  SIRS_CHECK(x.defined() && x.dim() >= 2 && x.size(1) == num_channels, ShapeError,
             "GroupNorm: expected input [B, ", num_channels, ", *], got ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  return group_norm(x, num_groups, weight, bias, eps);
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }

MaxPool2d::MaxPool2d(int64_t k, int64_t s, int64_t p) : kernel_size(k), stride(s), padding(p) {}

Tensor MaxPool2d::forward(const Tensor& x) { return max_pool2d(x, kernel_size, stride, padding); }

AdaptiveAvgPool2d::AdaptiveAvgPool2d(int64_t oh, int64_t ow) : out_h(oh), out_w(ow) {}

Tensor AdaptiveAvgPool2d::forward(const Tensor& x) { return adaptive_avg_pool2d(x, out_h, out_w); }

AdaptiveMaxPool2d::AdaptiveMaxPool2d(int64_t oh, int64_t ow) : out_h(oh), out_w(ow) {}

Tensor AdaptiveMaxPool2d::forward(const Tensor& x) { return adaptive_max_pool2d(x, out_h, out_w); }

Upsample::Upsample(int64_t oh, int64_t ow, bool ac) : out_h(oh), out_w(ow), align_corners(ac) {}

Tensor Upsample::forward(const Tensor& x) {
  return upsample_bilinear2d(x, out_h, out_w, align_corners);
}

Embedding::Embedding(int64_t V, int64_t E, int64_t pad, Generator* gen)
    : num_embeddings(V), embedding_dim(E), padding_idx(pad) {
  SIRS_CHECK(V > 0 && E > 0, ValueError, "Embedding: bad sizes V ", V, " E ", E);
  SIRS_CHECK(pad < V, ValueError, "Embedding: padding_idx ", pad, " outside [0, ", V, ")");
  weight = register_parameter("weight", empty({V, E}));
  normal_(weight, 0.0, 1.0, gen);
  if (pad >= 0) view::fill(view::narrow(weight, 0, pad, 1), 0.0);
}

Tensor Embedding::forward(const Tensor& indices) {
  return embedding(weight, indices, padding_idx);
}

Dropout::Dropout(double p_) : p(p_) {
  SIRS_CHECK(p_ >= 0 && p_ <= 1, ValueError, "Dropout: p = ", p_, " outside [0, 1]");
}

Tensor Dropout::forward(const Tensor& x) { return dropout(x, p, is_training(), generator); }

void Sequential::push_back(const std::string& name, std::shared_ptr<Layer> layer) {
  SIRS_CHECK(layer != nullptr, ValueError, "Sequential: push_back of a null layer");
  register_module(name.empty() ? std::to_string(layers_.size()) : name, layer);
  layers_.push_back(std::move(layer));
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (const auto& l : layers_) y = l->forward(y);
  return y;
}

}  // namespace sirs
