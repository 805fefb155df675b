// torchvision ResNet (models/resnet.h): names, parameter counts, feature
// shapes and strides, init statistics, BN buffers, gradients through blocks.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <sstream>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "layers/safetensors.h"
#include "models/resnet.h"
#include "tests/golden_util.h"

using namespace sirs;
using golden::expect_close;

namespace {

// torchvision.models.resnet18().state_dict().keys() without fc.weight / fc.bias,
// produced with /usr/bin/python3 (torch 1.13) from the same module tree
// (torchvision itself is not installed here); 120 names, in order.
const char* kResNet18Keys =
    "conv1.weight bn1.weight bn1.bias bn1.running_mean bn1.running_var "
    "bn1.num_batches_tracked layer1.0.conv1.weight layer1.0.bn1.weight layer1.0.bn1.bias "
    "layer1.0.bn1.running_mean layer1.0.bn1.running_var layer1.0.bn1.num_batches_tracked "
    "layer1.0.conv2.weight layer1.0.bn2.weight layer1.0.bn2.bias layer1.0.bn2.running_mean "
    "layer1.0.bn2.running_var layer1.0.bn2.num_batches_tracked layer1.1.conv1.weight "
    "layer1.1.bn1.weight layer1.1.bn1.bias layer1.1.bn1.running_mean layer1.1.bn1.running_var "
    "layer1.1.bn1.num_batches_tracked layer1.1.conv2.weight layer1.1.bn2.weight "
    "layer1.1.bn2.bias layer1.1.bn2.running_mean layer1.1.bn2.running_var "
    "layer1.1.bn2.num_batches_tracked layer2.0.conv1.weight layer2.0.bn1.weight "
    "layer2.0.bn1.bias layer2.0.bn1.running_mean layer2.0.bn1.running_var "
    "layer2.0.bn1.num_batches_tracked layer2.0.conv2.weight layer2.0.bn2.weight "
    "layer2.0.bn2.bias layer2.0.bn2.running_mean layer2.0.bn2.running_var "
    "layer2.0.bn2.num_batches_tracked layer2.0.downsample.0.weight "
    "layer2.0.downsample.1.weight layer2.0.downsample.1.bias "
    "layer2.0.downsample.1.running_mean layer2.0.downsample.1.running_var "
    "layer2.0.downsample.1.num_batches_tracked layer2.1.conv1.weight layer2.1.bn1.weight "
    "layer2.1.bn1.bias layer2.1.bn1.running_mean layer2.1.bn1.running_var "
    "layer2.1.bn1.num_batches_tracked layer2.1.conv2.weight layer2.1.bn2.weight "
    "layer2.1.bn2.bias layer2.1.bn2.running_mean layer2.1.bn2.running_var "
    "layer2.1.bn2.num_batches_tracked layer3.0.conv1.weight layer3.0.bn1.weight "
    "layer3.0.bn1.bias layer3.0.bn1.running_mean layer3.0.bn1.running_var "
    "layer3.0.bn1.num_batches_tracked layer3.0.conv2.weight layer3.0.bn2.weight "
    "layer3.0.bn2.bias layer3.0.bn2.running_mean layer3.0.bn2.running_var "
    "layer3.0.bn2.num_batches_tracked layer3.0.downsample.0.weight "
    "layer3.0.downsample.1.weight layer3.0.downsample.1.bias "
    "layer3.0.downsample.1.running_mean layer3.0.downsample.1.running_var "
    "layer3.0.downsample.1.num_batches_tracked layer3.1.conv1.weight layer3.1.bn1.weight "
    "layer3.1.bn1.bias layer3.1.bn1.running_mean layer3.1.bn1.running_var "
    "layer3.1.bn1.num_batches_tracked layer3.1.conv2.weight layer3.1.bn2.weight "
    "layer3.1.bn2.bias layer3.1.bn2.running_mean layer3.1.bn2.running_var "
    "layer3.1.bn2.num_batches_tracked layer4.0.conv1.weight layer4.0.bn1.weight "
    "layer4.0.bn1.bias layer4.0.bn1.running_mean layer4.0.bn1.running_var "
    "layer4.0.bn1.num_batches_tracked layer4.0.conv2.weight layer4.0.bn2.weight "
    "layer4.0.bn2.bias layer4.0.bn2.running_mean layer4.0.bn2.running_var "
    "layer4.0.bn2.num_batches_tracked layer4.0.downsample.0.weight "
    "layer4.0.downsample.1.weight layer4.0.downsample.1.bias "
    "layer4.0.downsample.1.running_mean layer4.0.downsample.1.running_var "
    "layer4.0.downsample.1.num_batches_tracked layer4.1.conv1.weight layer4.1.bn1.weight "
    "layer4.1.bn1.bias layer4.1.bn1.running_mean layer4.1.bn1.running_var "
    "layer4.1.bn1.num_batches_tracked layer4.1.conv2.weight layer4.1.bn2.weight "
    "layer4.1.bn2.bias layer4.1.bn2.running_mean layer4.1.bn2.running_var "
    "layer4.1.bn2.num_batches_tracked";

std::vector<std::string> split(const std::string& s) {
  std::istringstream in(s);
  std::vector<std::string> out;
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::vector<std::string> names(const NamedTensors& ts) {
  std::vector<std::string> out;
  for (const auto& [k, t] : ts) out.push_back(k);
  return out;
}

double stddev(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  double m = 0, s = 0;
  for (double x : v) m += x;
  m /= v.size();
  for (double x : v) s += (x - m) * (x - m);
  return std::sqrt(s / v.size());
}

}  // namespace

TEST(ResNet, Resnet18NamesAndCountMatchTorchvision) {
  Generator g(1);
  auto r = resnet18(&g);
  std::vector<std::string> want = split(kResNet18Keys);
  ASSERT_EQ(want.size(), 120u);
  EXPECT_EQ(names(r->state_dict()), want);
  // torch: sum(p.numel() for p in resnet18().parameters()) - fc (512*1000 + 1000).
  EXPECT_EQ(r->num_parameters(), 11176512);
  EXPECT_EQ(r->channels(), (std::array<int64_t, 4>{64, 128, 256, 512}));
  // Shapes of a few tensors as torchvision has them.
  std::map<std::string, Tensor> sd;
  for (auto& [k, t] : r->state_dict()) sd[k] = t;
  EXPECT_EQ(sd["conv1.weight"].shape(), (Shape{64, 3, 7, 7}));
  EXPECT_EQ(sd["layer2.0.downsample.0.weight"].shape(), (Shape{128, 64, 1, 1}));
  EXPECT_EQ(sd["layer4.1.conv2.weight"].shape(), (Shape{512, 512, 3, 3}));
  EXPECT_EQ(sd["layer3.0.bn1.num_batches_tracked"].dtype(), DType::I64);
  EXPECT_EQ(kResNetUnusedKeys, (std::vector<std::string>{"fc.weight", "fc.bias"}));
}

TEST(ResNet, Resnet50NamesAndCount) {
  Generator g(2);
  auto r = resnet50(&g);
  NamedTensors sd = r->state_dict();
  // torch: len(resnet50().state_dict()) - 2 = 318; parameters without fc 23,508,032.
  EXPECT_EQ(sd.size(), 318u);
  EXPECT_EQ(r->num_parameters(), 23508032);
  EXPECT_EQ(r->channels(), (std::array<int64_t, 4>{256, 512, 1024, 2048}));
  std::map<std::string, Tensor> m;
  for (auto& [k, t] : sd) m[k] = t;
  // v1.5: the stride sits on the 3x3 conv2; layer1 has a channel-only downsample.
  EXPECT_EQ(m.at("layer1.0.downsample.0.weight").shape(), (Shape{256, 64, 1, 1}));
  EXPECT_EQ(m.at("layer2.0.conv2.weight").shape(), (Shape{128, 128, 3, 3}));
  EXPECT_EQ(m.at("layer4.2.conv3.weight").shape(), (Shape{2048, 512, 1, 1}));
  EXPECT_EQ(m.at("layer4.2.bn3.running_var").shape(), (Shape{2048}));
  EXPECT_EQ(m.count("layer1.1.downsample.0.weight"), 0u);
  auto* b = dynamic_cast<Bottleneck*>((*r->layer2)[0].get());
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->conv1->stride, 1);
  EXPECT_EQ(b->conv2->stride, 2);
}

TEST(ResNet, FeatureShapesAndStrides) {
  Generator g(3);
  ResNet r18(18, 8, &g);
  ResNetFeatures f = r18.forward(randn({2, 3, 64, 64}, {}, &g));
  EXPECT_EQ(f.f1.shape(), (Shape{2, 8, 16, 16}));
  EXPECT_EQ(f.f2.shape(), (Shape{2, 16, 8, 8}));
  EXPECT_EQ(f.f3.shape(), (Shape{2, 32, 4, 4}));
  EXPECT_EQ(f.f4.shape(), (Shape{2, 64, 2, 2}));
  ResNet r50(50, 4, &g);
  EXPECT_EQ(r50.channels(), (std::array<int64_t, 4>{16, 32, 64, 128}));
  f = r50.forward(randn({1, 3, 96, 64}, {}, &g));
  EXPECT_EQ(f.f1.shape(), (Shape{1, 16, 24, 16}));
  EXPECT_EQ(f.f2.shape(), (Shape{1, 32, 12, 8}));
  EXPECT_EQ(f.f3.shape(), (Shape{1, 64, 6, 4}));
  EXPECT_EQ(f.f4.shape(), (Shape{1, 128, 3, 2}));
  // Features follow ReLU: non-negative.
  for (double v : f.f4.to_vector()) EXPECT_GE(v, 0);
}

TEST(ResNet, InitAndBatchNormBuffers) {
  Generator g(4);
  ResNet r(18, 16, &g);
  // kaiming_normal_(fan_out, relu): std = sqrt(2 / (16 * 7 * 7)).
  EXPECT_NEAR(stddev(r.conv1->weight), std::sqrt(2.0 / (16 * 49)), 0.05 * std::sqrt(2.0 / (16 * 49)));
  auto* blk = dynamic_cast<BasicBlock*>((*r.layer3)[0].get());
  ASSERT_NE(blk, nullptr);
  double want = std::sqrt(2.0 / (64 * 9));
  EXPECT_NEAR(stddev(blk->conv1->weight), want, 0.05 * want);
  EXPECT_EQ(blk->bn1->weight.to_vector(), std::vector<double>(64, 1.0));
  EXPECT_EQ(blk->bn1->bias.to_vector(), std::vector<double>(64, 0.0));

  r.forward(randn({2, 3, 32, 32}, {}, &g));
  r.forward(randn({2, 3, 32, 32}, {}, &g));
  int bns = 0;
  for (auto& [k, t] : r.named_buffers())
    if (k.size() > 19 && k.substr(k.size() - 19) == "num_batches_tracked") {
      EXPECT_EQ(t.item(), 2) << k;
      ++bns;
    }
  EXPECT_EQ(bns, 20);  // bn1 + 8 blocks x 2 + 3 downsample BNs
  r.eval();
  Tensor x = randn({1, 3, 32, 32}, {}, &g);
  EXPECT_EQ(r.forward(x).f4.to_vector(), r.forward(x).f4.to_vector());
  EXPECT_EQ(blk->bn1->num_batches_tracked.item(), 2);
}

TEST(ResNet, GradcheckBasicBlock) {
  Generator g(5);
  BasicBlock b(2, 3, 2, true, &g);
  b.to(DType::F64);
  Tensor x = randn({2, 2, 5, 4}, DType::F64, &g).set_requires_grad();
  std::vector<Tensor> in = {x};
  for (auto& p : b.parameters()) in.push_back(p);
  auto r = gradcheck([&](const std::vector<Tensor>& v) { return b(v[0]); }, in);
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(ResNet, GradcheckBottleneck) {
  Generator g(6);
  Bottleneck b(3, 2, 2, true, &g);
  b.to(DType::F64);
  Tensor x = randn({2, 3, 4, 5}, DType::F64, &g).set_requires_grad();
  std::vector<Tensor> in = {x};
  for (auto& p : b.parameters()) in.push_back(p);
  auto r = gradcheck([&](const std::vector<Tensor>& v) { return b(v[0]); }, in);
  EXPECT_TRUE(r.ok) << r.report;
  // Identity shortcut (no downsample) as well.
  Bottleneck id(8, 2, 1, false, &g);
  id.to(DType::F64);
  Tensor x2 = randn({2, 8, 3, 3}, DType::F64, &g).set_requires_grad();
  auto r2 = gradcheck([&](const std::vector<Tensor>& v) { return id(v[0]); }, {x2});
  EXPECT_TRUE(r2.ok) << r2.report;
}

TEST(ResNet, Errors) {
  EXPECT_THROW(ResNet(19), ValueError);
  EXPECT_THROW(ResNet(18, 0), ValueError);
  ResNet r(18, 4);
  EXPECT_THROW(r.forward(zeros({1, 1, 32, 32})), ShapeError);
  EXPECT_THROW(r.forward(zeros({3, 32, 32})), ShapeError);
}

namespace {

// Loads the case's weights by name (strict), runs one training forward and
// backward and one eval forward, and compares everything the golden holds.
// float64 on both sides: only the order of summation differs.
constexpr double kTol = 1e-9;

void run_resnet_golden(const std::string& c, int depth, int64_t base) {
  std::map<std::string, Tensor> g =
      golden::load("resnet", "1", "/usr/bin/python3 scripts/gen_golden_resnet.py tests/golden").t;
  ResNet r(depth, base);
  r.to(DType::F64);
  NamedTensors state;
  for (auto& [k, t] : r.state_dict()) state.emplace_back(k, g.at(c + "." + k));
  r.load_state_dict(state);
  Tensor x = view::clone(g.at(c + ".x")).set_requires_grad();
  ResNetFeatures fs = r.forward(x);
  Tensor loss = zeros({}, DType::F64);
  const Tensor* out[4] = {&fs.f1, &fs.f2, &fs.f3, &fs.f4};
  for (int k = 0; k < 4; ++k) {
    std::string n = std::to_string(k + 1);
    expect_close(c + ".f" + n, *out[k], g.at(c + ".f" + n), kTol);
    loss = add(loss, sum(mul(*out[k], g.at(c + ".d" + n))));
  }
  loss.backward();
  expect_close(c + ".dx", x.grad(), g.at(c + ".dx"), kTol);
  for (auto& [k, p] : r.named_parameters())
    expect_close(c + ".grad." + k, p.grad(), g.at(c + ".grad." + k), kTol);
  for (auto& [k, b] : r.named_buffers())
    expect_close(c + ".after." + k, b, g.at(c + ".after." + k), kTol);
  r.eval();
  expect_close(c + ".eval.f4", r.forward(g.at(c + ".x")).f4, g.at(c + ".eval.f4"), kTol);
}

}  // namespace

// Golden runs written by scripts/gen_golden_resnet.py (PyTorch, the same
// module tree as torchvision), float64: features, input and parameter
// gradients, BN buffers after a training forward, and eval features.
TEST(ResNet, GoldenResnet18MatchesTorch) { run_resnet_golden("r18", 18, 2); }
TEST(ResNet, GoldenResnet50MatchesTorch) { run_resnet_golden("r50", 50, 2); }
