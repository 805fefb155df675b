// The standard layers: modules that own their parameters and buffers under
// PyTorch's names (so state dicts move between the engines) and compute with
// the differentiable ops of autograd/ops.h. They never launch kernels.
//
//   auto net = std::make_shared<Sequential>();
//   net->push_back("", std::make_shared<Conv2d>(3, 8, 3, 1, 1));  // "0.weight", "0.bias"
//   net->push_back("", std::make_shared<BatchNorm2d>(8));         // "1.weight", ... "1.num_batches_tracked"
//   net->push_back("", std::make_shared<ReLU>());
//   Tensor y = (*net)(x);
//
// Initialisation follows PyTorch's reset_parameters(): Conv2d and Linear
// draw weight and bias from U(-1/sqrt(fan_in), 1/sqrt(fan_in)); norms start
// at weight 1, bias 0, running mean 0, running var 1; Embedding draws N(0, 1)
// and zeroes the padding row. Every initialiser takes an optional Generator
// (the default generator when null).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "layers/module.h"
#include "tensor/tensor.h"

namespace sirs {

// A module with one input and one output.
class Layer : public Module {
 public:
  virtual Tensor forward(const Tensor& x) = 0;
  Tensor operator()(const Tensor& x) { return forward(x); }
};

// x [B, in_ch, H, W] -> [B, out_ch, Ho, Wo]; weight [out_ch, in_ch, k, k], bias [out_ch].
// default_init = false leaves weight and bias uninitialised, for callers that
// initialise them their own way (ResNet's kaiming_normal_) without paying for
// two draws.
class Conv2d : public Layer {
 public:
  Conv2d(int64_t in_ch, int64_t out_ch, int64_t kernel, int64_t stride = 1, int64_t padding = 0,
         int64_t dilation = 1, bool bias = true, Generator* gen = nullptr,
         bool default_init = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;  // bias undefined when built without one
  int64_t in_channels, out_channels, kernel_size, stride, padding, dilation;
};

// x [B, in] or [..., in] -> [..., out]; weight [out, in], bias [out].
class Linear : public Layer {
 public:
  Linear(int64_t in, int64_t out, bool bias = true, Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;
  int64_t in_features, out_features;
};

// Batch statistics in training (and the running statistics updated in place,
// num_batches_tracked incremented), running statistics in eval.
// x [B, C] or [B, C, *].
class BatchNorm2d : public Layer {
 public:
  explicit BatchNorm2d(int64_t C, double eps = 1e-5, double momentum = 0.1);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;                                  // parameters [C]
  Tensor running_mean, running_var, num_batches_tracked;  // buffers [C], [C], int64 0-d
  int64_t num_features;
  double eps, momentum;

 private:
  Tensor one_;  // int64 1 on num_batches_tracked's device, made on first use
};

// x [B, C, *]; statistics per sample over groups of C / groups channels.
class GroupNorm : public Layer {
 public:
  GroupNorm(int64_t groups, int64_t C, double eps = 1e-5, bool affine = true);
  Tensor forward(const Tensor& x) override;
  Tensor weight, bias;  // [C], undefined when !affine
  int64_t num_groups, num_channels;
  double eps;
};

class ReLU : public Layer {
 public:
  Tensor forward(const Tensor& x) override;
};

// PyTorch's MaxPool2d(kernel_size=k, stride=s, padding=p), floor mode.
class MaxPool2d : public Layer {
 public:
  MaxPool2d(int64_t k, int64_t s, int64_t p = 0);
  Tensor forward(const Tensor& x) override;
  int64_t kernel_size, stride, padding;
};

class AdaptiveAvgPool2d : public Layer {
 public:
  AdaptiveAvgPool2d(int64_t oh, int64_t ow);
  Tensor forward(const Tensor& x) override;
  int64_t out_h, out_w;
};

class AdaptiveMaxPool2d : public Layer {
 public:
  AdaptiveMaxPool2d(int64_t oh, int64_t ow);
  Tensor forward(const Tensor& x) override;
  int64_t out_h, out_w;
};

// Bilinear resize of [B, C, H, W] to [B, C, oh, ow] (F.interpolate, mode "bilinear").
class Upsample : public Layer {
 public:
  Upsample(int64_t oh, int64_t ow, bool align_corners);
  Tensor forward(const Tensor& x) override;
  int64_t out_h, out_w;
  bool align_corners;
};

// int64 indices of any shape -> indices.shape + [E]. weight [V, E]; the
// padding_idx row (when >= 0) starts at zero and gets no gradient.
class Embedding : public Layer {
 public:
  Embedding(int64_t V, int64_t E, int64_t padding_idx = -1, Generator* gen = nullptr);
  Tensor forward(const Tensor& indices) override;
  Tensor weight;
  int64_t num_embeddings, embedding_dim, padding_idx;
};

// Inverted dropout in training mode, identity in eval. Masks come from
// `generator` (the default generator when null).
class Dropout : public Layer {
 public:
  explicit Dropout(double p);
  Tensor forward(const Tensor& x) override;
  double p;
  Generator* generator = nullptr;
};

// Applies its children in order. push_back with an empty name registers the
// child under its position ("0", "1", ...), as nn.Sequential does.
class Sequential : public Layer {
 public:
  Sequential() = default;
  void push_back(const std::string& name, std::shared_ptr<Layer> layer);
  Tensor forward(const Tensor& x) override;
  size_t size() const { return layers_.size(); }
  const std::shared_ptr<Layer>& operator[](size_t i) const { return layers_.at(i); }

 private:
  std::vector<std::shared_ptr<Layer>> layers_;
};

}  // namespace sirs
