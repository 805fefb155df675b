// Module tree (names, PyTorch order, train/eval, state dicts, in-place
// moves) and the initialisers' statistics.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/node.h"
#include "layers/init.h"
#include "layers/module.h"

using namespace sirs;

namespace {

struct Lin : Module {
  Lin(int64_t in, int64_t out) {
    weight = register_parameter("weight", empty({out, in}));
    bias = register_parameter("bias", empty({out}));
    Generator g(7);
    linear_default_init_(weight, bias, &g);
  }
  Tensor weight, bias;
};

// Registers a buffer between its parameters: PyTorch still lists the
// parameters first.
struct BN : Module {
  explicit BN(int64_t c) {
    weight = register_parameter("weight", ones({c}));
    running_mean = register_buffer("running_mean", zeros({c}));
    bias = register_parameter("bias", zeros({c}));
    num_batches_tracked = register_buffer("num_batches_tracked", zeros({}, DType::I64));
  }
  void on_train(bool on) override { hook_calls += on ? 1 : 100; }
  Tensor weight, bias, running_mean, num_batches_tracked;
  int hook_calls = 0;
};

struct Block : Module {
  Block() {
    conv1 = register_module("conv1", std::make_shared<Lin>(3, 2));
    bn1 = register_module("bn1", std::make_shared<BN>(2));
  }
  std::shared_ptr<Lin> conv1;
  std::shared_ptr<BN> bn1;
};

// Children registered before the module's own parameter and buffer.
struct Net : Module {
  Net() {
    layer1 = register_module("layer1", std::make_shared<Module>());
    layer1->register_module("0", std::make_shared<Block>());
    layer1->register_module("1", std::make_shared<Block>());
    steps = register_buffer("steps", zeros({1}));
    scale = register_parameter("scale", ones({1}));
    fc = register_module("fc", std::make_shared<Lin>(2, 1));
  }
  std::shared_ptr<Module> layer1;
  std::shared_ptr<Lin> fc;
  Tensor steps, scale;
};

std::vector<std::string> names(const NamedTensors& v) {
  std::vector<std::string> out;
  for (const auto& e : v) out.push_back(e.first);
  return out;
}

}  // namespace

// Expected names printed by PyTorch 1.13 for the same tree built from
// nn.Module / nn.Sequential / nn.Linear (the buffer and parameter of Net
// registered after layer1): list(net.state_dict().keys()) and
// [k for k, _ in net.named_parameters()].
TEST(Module, NamesFollowPyTorchOrder) {
  Net net;
  std::vector<std::string> sd = {
      "scale", "steps", "layer1.0.conv1.weight", "layer1.0.conv1.bias", "layer1.0.bn1.weight",
      "layer1.0.bn1.bias", "layer1.0.bn1.running_mean", "layer1.0.bn1.num_batches_tracked",
      "layer1.1.conv1.weight", "layer1.1.conv1.bias", "layer1.1.bn1.weight", "layer1.1.bn1.bias",
      "layer1.1.bn1.running_mean", "layer1.1.bn1.num_batches_tracked", "fc.weight", "fc.bias"};
  EXPECT_EQ(names(net.state_dict()), sd);
  std::vector<std::string> params = {
      "scale", "layer1.0.conv1.weight", "layer1.0.conv1.bias", "layer1.0.bn1.weight",
      "layer1.0.bn1.bias", "layer1.1.conv1.weight", "layer1.1.conv1.bias", "layer1.1.bn1.weight",
      "layer1.1.bn1.bias", "fc.weight", "fc.bias"};
  EXPECT_EQ(names(net.named_parameters()), params);
  std::vector<std::string> bufs = {"steps", "layer1.0.bn1.running_mean",
                                   "layer1.0.bn1.num_batches_tracked", "layer1.1.bn1.running_mean",
                                   "layer1.1.bn1.num_batches_tracked"};
  EXPECT_EQ(names(net.named_buffers()), bufs);
  EXPECT_EQ(net.parameters().size(), params.size());
  // 1 + 2 * (6 + 2 + 2 + 2) + 2 + 1
  EXPECT_EQ(net.num_parameters(), 28);
  auto mods = net.named_modules();
  ASSERT_EQ(mods.size(), 9u);
  EXPECT_EQ(mods[0].first, "");
  EXPECT_EQ(mods[3].first, "layer1.0.conv1");
  EXPECT_EQ(mods[8].first, "fc");
}

TEST(Module, ParametersAreLeavesBuffersAreNot) {
  Net net;
  for (const Tensor& p : net.parameters()) {
    EXPECT_TRUE(p.requires_grad());
    EXPECT_TRUE(p.is_leaf());
  }
  for (const auto& b : net.named_buffers()) EXPECT_FALSE(b.second.requires_grad()) << b.first;
  // The returned handle is the registered tensor.
  EXPECT_EQ(net.parameters()[0].impl(), net.scale.impl());
}

TEST(Module, RegistrationErrors) {
  Module m;
  m.register_parameter("w", zeros({2}));
  EXPECT_THROW(m.register_parameter("w", zeros({2})), ValueError);
  EXPECT_THROW(m.register_buffer("w", zeros({2})), ValueError);
  EXPECT_THROW(m.register_module("w", std::make_shared<Module>()), ValueError);
  EXPECT_THROW(m.register_parameter("a.b", zeros({2})), ValueError);
  EXPECT_THROW(m.register_parameter("", zeros({2})), ValueError);
  EXPECT_THROW(m.register_parameter("i", zeros({2}, DType::I64)), DTypeError);
  EXPECT_THROW(m.register_parameter("u", Tensor()), ValueError);
  Tensor leaf = zeros({2}).set_requires_grad();
  EXPECT_THROW(m.register_parameter("v", leaf.reshape({2, 1})), AutogradError);
  EXPECT_THROW(m.register_buffer("b", leaf), AutogradError);
  EXPECT_THROW(m.register_module("n", std::shared_ptr<Module>()), ValueError);
}

TEST(Module, SharedParameterListedOnce) {
  auto shared = std::make_shared<Lin>(2, 2);
  Module m;
  m.register_module("a", shared);
  m.register_module("b", shared);
  EXPECT_EQ(names(m.named_parameters()), (std::vector<std::string>{"a.weight", "a.bias"}));
  EXPECT_EQ(m.state_dict().size(), 4u);  // state_dict lists every name, as PyTorch
  EXPECT_EQ(m.named_modules().size(), 2u);
}

TEST(Module, TrainEvalPropagates) {
  Net net;
  EXPECT_TRUE(net.is_training());
  net.eval();
  for (auto& m : net.named_modules()) EXPECT_FALSE(m.second->is_training()) << m.first;
  auto bn = std::static_pointer_cast<Block>(net.layer1->named_children()[1].second)->bn1;
  EXPECT_EQ(bn->hook_calls, 100);
  net.train();
  for (auto& m : net.named_modules()) EXPECT_TRUE(m.second->is_training()) << m.first;
  EXPECT_EQ(bn->hook_calls, 101);
  net.fc->train(false);
  EXPECT_FALSE(net.fc->is_training());
  EXPECT_TRUE(net.is_training());
}

TEST(Module, StateDictRoundTripInPlace) {
  Net a, b;
  Generator g(3);
  for (const Tensor& p : a.parameters()) normal_(p, 0, 1, &g);
  view::fill(a.steps, 5);
  Tensor handle = b.fc->weight;  // must see the loaded values
  const void* storage_before = handle.raw_data();
  // float64 values load into float32 tensors.
  NamedTensors sd;
  for (auto& e : a.state_dict())
    sd.emplace_back(e.first, is_floating(e.second.dtype()) ? view::to_dtype(e.second, DType::F64)
                                                           : e.second);
  StateDictReport rep = b.load_state_dict(sd);
  EXPECT_TRUE(rep.ok());
  EXPECT_EQ(handle.raw_data(), storage_before);
  EXPECT_EQ(handle.to_vector(), a.fc->weight.to_vector());
  auto sa = a.state_dict(), sb = b.state_dict();
  for (size_t i = 0; i < sa.size(); ++i)
    EXPECT_EQ(sa[i].second.to_vector(), sb[i].second.to_vector()) << sa[i].first;
  EXPECT_TRUE(b.fc->weight.requires_grad());
  EXPECT_TRUE(b.fc->weight.is_leaf());
  // The std::map overload.
  std::map<std::string, Tensor> m(sa.begin(), sa.end());
  Net c;
  c.load_state_dict(m);
  EXPECT_EQ(c.scale.to_vector(), a.scale.to_vector());
}

TEST(Module, LoadStateDictReportsEveryBadName) {
  Net net;
  NamedTensors sd = net.state_dict();
  // Drop two, add two, mis-shape one, wrong kind of dtype for another.
  NamedTensors bad;
  for (auto& e : sd) {
    if (e.first == "scale" || e.first == "layer1.1.bn1.running_mean") continue;
    if (e.first == "fc.weight") {
      bad.emplace_back(e.first, zeros({3, 2}));
      continue;
    }
    if (e.first == "layer1.0.bn1.num_batches_tracked") {
      bad.emplace_back(e.first, zeros({}, DType::F32));
      continue;
    }
    if (e.first == "layer1.0.conv1.weight") {
      bad.emplace_back(e.first, full({2, 3}, 9.0));  // valid, must not be copied
      continue;
    }
    bad.push_back(e);
  }
  bad.emplace_back("fc.extra", zeros({1}));
  bad.emplace_back("decoder.conv1.weight", zeros({1}));
  std::vector<double> before = net.state_dict()[2].second.to_vector();  // layer1.0.conv1.weight
  try {
    net.load_state_dict(bad);
    FAIL() << "expected StateDictError";
  } catch (const StateDictError& e) {
    std::string msg = e.what();
    for (const char* n : {"scale", "layer1.1.bn1.running_mean", "fc.extra", "decoder.conv1.weight",
                          "fc.weight", "[3, 2]", "[1, 2]", "layer1.0.bn1.num_batches_tracked"})
      EXPECT_NE(msg.find(n), std::string::npos) << n << " not in: " << msg;
    EXPECT_NE(msg.find("2 missing, 2 unexpected, 2 mismatched"), std::string::npos) << msg;
  }
  EXPECT_EQ(net.state_dict()[2].second.to_vector(), before);  // nothing was copied
  static_assert(std::is_base_of<Error, StateDictError>::value, "a sirs::Error");
}

TEST(Module, NonStrictToleratesMissingAndUnexpectedOnly) {
  Net src, dst;
  Generator g(4);
  for (const Tensor& p : src.parameters()) normal_(p, 0, 1, &g);
  NamedTensors partial;
  for (auto& e : src.state_dict())
    if (e.first.rfind("fc.", 0) == 0) partial.push_back(e);
  partial.emplace_back("decoder.smooth1.weight", zeros({2}));
  std::vector<double> scale_before = dst.scale.to_vector();
  EXPECT_THROW(dst.load_state_dict(partial), StateDictError);
  EXPECT_EQ(dst.fc->weight.to_vector(), Lin(2, 1).weight.to_vector());  // strict copied nothing
  StateDictReport rep = dst.load_state_dict(partial, false);
  EXPECT_EQ(rep.unexpected, std::vector<std::string>{"decoder.smooth1.weight"});
  EXPECT_EQ(rep.missing.size(), 14u);
  EXPECT_TRUE(rep.mismatched.empty());
  EXPECT_EQ(dst.fc->weight.to_vector(), src.fc->weight.to_vector());
  EXPECT_EQ(dst.scale.to_vector(), scale_before);
  // A shape mismatch is an error even when not strict.
  partial[0].second = zeros({5});
  EXPECT_THROW(dst.load_state_dict(partial, false), StateDictError);
}

TEST(Module, ToDtypeKeepsHandlesAndIntegerBuffers) {
  Net net;
  Tensor w = net.fc->weight;
  std::vector<double> v = w.to_vector();
  net.fc->weight.set_grad(ones({1, 2}));
  net.to(DType::F64);
  EXPECT_EQ(w.dtype(), DType::F64);
  EXPECT_EQ(w.to_vector(), v);
  EXPECT_EQ(w.grad().dtype(), DType::F64);
  EXPECT_TRUE(w.requires_grad());
  auto bufs = net.named_buffers();
  EXPECT_EQ(bufs[1].second.dtype(), DType::F64);   // running_mean
  EXPECT_EQ(bufs[2].second.dtype(), DType::I64);   // num_batches_tracked
  net.to(Device::cpu());  // same device: no-op
  EXPECT_EQ(w.to_vector(), v);
  if (cuda_available()) {
    net.to(Device::cuda());
    EXPECT_TRUE(w.device().is_cuda());
    EXPECT_TRUE(w.grad().device().is_cuda());
    net.to(Device::cpu());
    EXPECT_EQ(w.to_vector(), v);
  }
}

TEST(Module, ZeroGradDropsGradients) {
  Net net;
  for (const Tensor& p : net.parameters()) p.set_grad(ones_like(p));
  net.zero_grad();
  for (const Tensor& p : net.parameters()) EXPECT_FALSE(p.grad().defined());
}

// ------------------------------------------------------------ initialisers

namespace {
void mean_std(const Tensor& t, double* mean, double* std) {
  std::vector<double> v = t.to_vector();
  double s = 0, s2 = 0;
  for (double x : v) s += x;
  *mean = s / v.size();
  for (double x : v) s2 += (x - *mean) * (x - *mean);
  *std = std::sqrt(s2 / v.size());
}
}  // namespace

TEST(ModuleInit, KaimingNormalFanOutReluAsTorchvisionResNet) {
  // A ResNet 3x3 conv: fan_out = 64 * 3 * 3, std = sqrt(2 / 576).
  Tensor w = empty({64, 32, 3, 3});
  Generator g(11);
  kaiming_normal_(w, FanMode::FanOut, Nonlinearity::ReLU, 0, &g);
  double mean, std;
  mean_std(w, &mean, &std);
  double expect = std::sqrt(2.0 / 576.0);
  EXPECT_NEAR(mean, 0.0, 0.01 * expect * 10);
  EXPECT_NEAR(std, expect, 0.02 * expect);  // 18432 samples: ~0.5% std error
  // fan_in default with leaky_relu(0) gain sqrt(2): std = sqrt(2 / 288).
  kaiming_normal_(w, FanMode::FanIn, Nonlinearity::LeakyReLU, 0, &g);
  mean_std(w, &mean, &std);
  EXPECT_NEAR(std, std::sqrt(2.0 / 288.0), 0.02 * std::sqrt(2.0 / 288.0));
}

TEST(ModuleInit, LinearDefaultBoundsAreOneOverSqrtFanIn) {
  Tensor w = empty({200, 100}), b = empty({200});
  Generator g(12);
  linear_default_init_(w, b, &g);
  double bound = 1.0 / std::sqrt(100.0);
  double lo = 1, hi = -1;
  for (double x : w.to_vector()) lo = std::min(lo, x), hi = std::max(hi, x);
  EXPECT_GE(lo, -bound);
  EXPECT_LE(hi, bound);
  EXPECT_LT(lo, -0.98 * bound);  // fills the range
  EXPECT_GT(hi, 0.98 * bound);
  double mean, std;
  mean_std(w, &mean, &std);
  EXPECT_NEAR(std, bound / std::sqrt(3.0), 0.02 * bound);
  for (double x : b.to_vector()) EXPECT_LE(std::abs(x), bound);
  mean_std(b, &mean, &std);
  EXPECT_GT(std, 0.3 * bound);
  // Conv weight [out, in, kh, kw]: fan_in = in * kh * kw.
  Tensor c = empty({8, 4, 3, 3});
  linear_default_init_(c, Tensor(), &g);
  for (double x : c.to_vector()) EXPECT_LE(std::abs(x), 1.0 / 6.0);
}

TEST(ModuleInit, SimpleFillersAndDeterminism) {
  Tensor t = empty({4, 5}, DType::F64);
  Generator g1(5), g2(5);
  uniform_(t, -2, 3, &g1);
  for (double x : t.to_vector()) {
    EXPECT_GE(x, -2);
    EXPECT_LT(x, 3);
  }
  Tensor u = empty({4, 5}, DType::F64);
  uniform_(u, -2, 3, &g2);
  EXPECT_EQ(t.to_vector(), u.to_vector());
  constant_(t, 0.25);
  for (double x : t.to_vector()) EXPECT_EQ(x, 0.25);
  zeros_(t);
  EXPECT_EQ(t.to_vector(), std::vector<double>(20, 0.0));
  ones_(t);
  EXPECT_EQ(t.to_vector(), std::vector<double>(20, 1.0));
  // Non-contiguous target: only the view changes.
  Tensor base = zeros({4, 4});
  normal_(base.transpose(0, 1).narrow(0, 1, 2), 5, 0.1, &g1);
  std::vector<double> v = base.to_vector();
  for (int r = 0; r < 4; ++r)
    for (int c = 0; c < 4; ++c) EXPECT_EQ(v[r * 4 + c] != 0.0, c == 1 || c == 2) << r << "," << c;
  // Graph-free: a parameter stays a leaf.
  Tensor p = zeros({3, 3}).set_requires_grad();
  kaiming_uniform_(p, FanMode::FanIn, Nonlinearity::LeakyReLU, std::sqrt(5.0), &g1);
  EXPECT_TRUE(p.is_leaf());
  EXPECT_FALSE(p.grad().defined());
}

TEST(ModuleInit, Errors) {
  EXPECT_THROW(kaiming_normal_(empty({5})), ValueError);
  EXPECT_THROW(uniform_(empty({5}, DType::I64), 0, 1), DTypeError);
  EXPECT_THROW(fan_in_and_fan_out({3}), ValueError);
  EXPECT_EQ(fan_in_and_fan_out({64, 3, 7, 7}), (std::pair<int64_t, int64_t>(147, 3136)));
  EXPECT_DOUBLE_EQ(calculate_gain(Nonlinearity::LeakyReLU, std::sqrt(5.0)), std::sqrt(1.0 / 3.0));
  EXPECT_DOUBLE_EQ(calculate_gain(Nonlinearity::Tanh), 5.0 / 3.0);
}
