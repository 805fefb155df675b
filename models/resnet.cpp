// torchvision's ResNet (models/resnet.h). Tests:
// ./build/sirs_tests --gtest_filter='ResNet*'
#include "models/resnet.h"

#include "autograd/ops.h"
#include "layers/init.h"

namespace sirs {

const std::vector<std::string> kResNetUnusedKeys = {"fc.weight", "fc.bias"};

namespace {

// torchvision: every convolution kaiming_normal_(fan_out, relu), no bias.
std::shared_ptr<Conv2d> conv(int64_t in, int64_t out, int64_t k, int64_t stride, int64_t pad,
                             Generator* gen) {
  auto c = std::make_shared<Conv2d>(in, out, k, stride, pad, /*dilation=*/1, /*bias=*/false, gen,
                                    /*default_init=*/false);
  kaiming_normal_(c->weight, FanMode::FanOut, Nonlinearity::ReLU, 0, gen);
  return c;
}

std::shared_ptr<Sequential> make_downsample(int64_t in, int64_t out, int64_t stride,
                                            Generator* gen) {
  auto d = std::make_shared<Sequential>();
  d->push_back("", conv(in, out, 1, stride, 0, gen));
  d->push_back("", std::make_shared<BatchNorm2d>(out));
  return d;
}

}  // namespace

BasicBlock::BasicBlock(int64_t inplanes, int64_t planes, int64_t stride, bool with_downsample,
                       Generator* gen) {
  conv1 = register_module("conv1", conv(inplanes, planes, 3, stride, 1, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  relu = register_module("relu", std::make_shared<ReLU>());
  conv2 = register_module("conv2", conv(planes, planes, 3, 1, 1, gen));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  if (with_downsample)
    downsample = register_module("downsample", make_downsample(inplanes, planes, stride, gen));
}

Tensor BasicBlock::forward(const Tensor& x) {
  Tensor out = relu->forward(bn1->forward(conv1->forward(x)));
  out = bn2->forward(conv2->forward(out));
  return relu->forward(add(out, downsample ? downsample->forward(x) : x));
}

Bottleneck::Bottleneck(int64_t inplanes, int64_t planes, int64_t stride, bool with_downsample,
                       Generator* gen) {
  conv1 = register_module("conv1", conv(inplanes, planes, 1, 1, 0, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(planes));
  conv2 = register_module("conv2", conv(planes, planes, 3, stride, 1, gen));
  bn2 = register_module("bn2", std::make_shared<BatchNorm2d>(planes));
  conv3 = register_module("conv3", conv(planes, planes * kExpansion, 1, 1, 0, gen));
  bn3 = register_module("bn3", std::make_shared<BatchNorm2d>(planes * kExpansion));
  relu = register_module("relu", std::make_shared<ReLU>());
  if (with_downsample)
    downsample = register_module(
        "downsample", make_downsample(inplanes, planes * kExpansion, stride, gen));
}

Tensor Bottleneck::forward(const Tensor& x) {
  Tensor out = relu->forward(bn1->forward(conv1->forward(x)));
  out = relu->forward(bn2->forward(conv2->forward(out)));
  out = bn3->forward(conv3->forward(out));
  return relu->forward(add(out, downsample ? downsample->forward(x) : x));
}

namespace {

// One stage of `blocks` blocks; the first one strides and may change channels.
template <class Block>
std::shared_ptr<Sequential> make_stage(int64_t* inplanes, int64_t planes, int blocks,
                                       int64_t stride, Generator* gen) {
  auto s = std::make_shared<Sequential>();
  bool ds = stride != 1 || *inplanes != planes * Block::kExpansion;
  s->push_back("", std::make_shared<Block>(*inplanes, planes, stride, ds, gen));
  *inplanes = planes * Block::kExpansion;
  for (int i = 1; i < blocks; ++i)
    s->push_back("", std::make_shared<Block>(*inplanes, planes, 1, false, gen));
  return s;
}

}  // namespace

ResNet::ResNet(int depth, int64_t base_width, Generator* gen) : depth_(depth) {
  std::array<int, 4> blocks{};
  bool bottleneck = false;
  switch (depth) {
    case 18: blocks = {2, 2, 2, 2}; break;
    case 34: blocks = {3, 4, 6, 3}; break;
    case 50: blocks = {3, 4, 6, 3}, bottleneck = true; break;
    case 101: blocks = {3, 4, 23, 3}, bottleneck = true; break;
    case 152: blocks = {3, 8, 36, 3}, bottleneck = true; break;
    default:
      throw ValueError(str_cat("ResNet: depth ", depth, " is not one of 18, 34, 50, 101, 152"));
  }
  SIRS_CHECK(base_width > 0, ValueError, "ResNet: base_width ", base_width, " must be positive");
  const int64_t b = base_width;
  conv1 = register_module("conv1", conv(3, b, 7, 2, 3, gen));
  bn1 = register_module("bn1", std::make_shared<BatchNorm2d>(b));
  relu = register_module("relu", std::make_shared<ReLU>());
  maxpool = register_module("maxpool", std::make_shared<MaxPool2d>(3, 2, 1));
  int64_t inplanes = b;
  std::array<std::shared_ptr<Sequential>*, 4> stages{&layer1, &layer2, &layer3, &layer4};
  for (int k = 0; k < 4; ++k) {
    int64_t planes = b << k, stride = k == 0 ? 1 : 2;
    *stages[k] = bottleneck ? make_stage<Bottleneck>(&inplanes, planes, blocks[k], stride, gen)
                            : make_stage<BasicBlock>(&inplanes, planes, blocks[k], stride, gen);
    register_module("layer" + std::to_string(k + 1), *stages[k]);
    channels_[k] = inplanes;
  }
}

ResNetFeatures ResNet::forward(const Tensor& x) {
  SIRS_CHECK(x.defined() && x.dim() == 4 && x.size(1) == 3, ShapeError,
             "ResNet: expected images [B, 3, H, W], got ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  Tensor y = maxpool->forward(relu->forward(bn1->forward(conv1->forward(x))));
  ResNetFeatures f;
  f.f1 = layer1->forward(y);
  f.f2 = layer2->forward(f.f1);
  f.f3 = layer3->forward(f.f2);
  f.f4 = layer4->forward(f.f3);
  return f;
}

std::shared_ptr<ResNet> resnet18(Generator* gen) { return std::make_shared<ResNet>(18, 64, gen); }
std::shared_ptr<ResNet> resnet50(Generator* gen) { return std::make_shared<ResNet>(50, 64, gen); }

}  // namespace sirs
