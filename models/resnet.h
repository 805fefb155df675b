// torchvision's ResNet up to layer4 (no avgpool, no fc), with torchvision's
// module names so that ImageNet checkpoints load by name
// ("layer1.0.conv1.weight", "layer2.0.downsample.1.running_mean", ...).
//
//   x [B, 3, S, S] -> conv1 7x7/2 pad 3 (no bias) -> bn1 -> relu
//     -> maxpool 3x3/2 pad 1 -> layer1 (f1, S/4) -> layer2 (f2, S/8)
//     -> layer3 (f3, S/16) -> layer4 (f4, S/32)
//
// BasicBlock (ResNet-18/34): conv1 3x3/stride, bn1, relu, conv2 3x3, bn2,
// plus the shortcut. Bottleneck (ResNet-50/101/152, torchvision v1.5): conv1
// 1x1, bn1, conv2 3x3/stride, bn2, conv3 1x1 (x4 channels), bn3, relu. The
// shortcut is `downsample` = Sequential(conv1x1/stride no bias, BN) when the
// stride or the channel count changes, else the identity.
//
// base_width scales every channel count: planes per stage are base_width x
// (1, 2, 4, 8); 64 is the standard network. f1..f4 have base x (1, 2, 4, 8)
// channels for BasicBlock and 4x that for Bottleneck.
//
// Init as torchvision: convolutions kaiming_normal_(fan_out, relu), BN
// weight 1, bias 0 (zero_init_residual off).
//
// torchvision checkpoints also hold the classifier, "fc.weight" and
// "fc.bias", which this module does not have: kResNetUnusedKeys lists them
// for importers to skip.
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "layers/layers.h"

namespace sirs {

extern const std::vector<std::string> kResNetUnusedKeys;  // {"fc.weight", "fc.bias"}

class BasicBlock : public Layer {
 public:
  static constexpr int64_t kExpansion = 1;
  BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, bool with_downsample,
             Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Conv2d> conv1, conv2;
  std::shared_ptr<BatchNorm2d> bn1, bn2;
  std::shared_ptr<ReLU> relu;
  std::shared_ptr<Sequential> downsample;  // null: identity shortcut
};

class Bottleneck : public Layer {
 public:
  static constexpr int64_t kExpansion = 4;
  Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, bool with_downsample,
             Generator* gen = nullptr);
  Tensor forward(const Tensor& x) override;
  std::shared_ptr<Conv2d> conv1, conv2, conv3;
  std::shared_ptr<BatchNorm2d> bn1, bn2, bn3;
  std::shared_ptr<ReLU> relu;
  std::shared_ptr<Sequential> downsample;
};

struct ResNetFeatures {
  Tensor f1, f2, f3, f4;  // [B, C_k, S/4], [.., S/8], [.., S/16], [.., S/32]
};

class ResNet : public Module {
 public:
  // depth: 18, 34 (BasicBlock) or 50, 101, 152 (Bottleneck); ValueError otherwise.
  explicit ResNet(int depth = 18, int64_t base_width = 64, Generator* gen = nullptr);
  // x [B, 3, H, W] float32/float64.
  ResNetFeatures forward(const Tensor& x);
  // Channels of f1..f4.
  std::array<int64_t, 4> channels() const { return channels_; }
  int depth() const { return depth_; }

  std::shared_ptr<Conv2d> conv1;
  std::shared_ptr<BatchNorm2d> bn1;
  std::shared_ptr<ReLU> relu;
  std::shared_ptr<MaxPool2d> maxpool;
  std::shared_ptr<Sequential> layer1, layer2, layer3, layer4;

 private:
  int depth_;
  std::array<int64_t, 4> channels_{};
};

std::shared_ptr<ResNet> resnet18(Generator* gen = nullptr);
std::shared_ptr<ResNet> resnet50(Generator* gen = nullptr);

}  // namespace sirs
