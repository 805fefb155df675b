// The standard layers (layers/layers.h): names, initialisation, modes,
// buffers, gradients through the modules, misuse errors.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "layers/layers.h"

using namespace sirs;

namespace {

std::vector<std::string> names(const NamedTensors& ts) {
  std::vector<std::string> out;
  for (const auto& [k, t] : ts) out.push_back(k);
  return out;
}

Tensor rnd64(const Shape& s, uint64_t seed, double scale = 1.0) {
  Generator g(seed);
  return mul(randn(s, DType::F64, &g), scale);
}

}  // namespace

TEST(Layers, Conv2dNamesShapesInit) {
  Generator g(1);
  Conv2d c(3, 8, 3, 1, 1, 1, true, &g);
  EXPECT_EQ(names(c.state_dict()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(c.weight.shape(), (Shape{8, 3, 3, 3}));
  EXPECT_EQ(c.bias.shape(), (Shape{8}));
  // U(-1/sqrt(fan_in), 1/sqrt(fan_in)), fan_in = 27: every value inside, spread over it.
  double bound = 1.0 / std::sqrt(27.0), mx = 0;
  for (double v : c.weight.to_vector()) {
    EXPECT_LE(std::fabs(v), bound);
    mx = std::max(mx, std::fabs(v));
  }
  EXPECT_GT(mx, 0.8 * bound);
  for (double v : c.bias.to_vector()) EXPECT_LE(std::fabs(v), bound);
  Conv2d nb(3, 4, 1, 1, 0, 1, false);
  EXPECT_EQ(names(nb.state_dict()), (std::vector<std::string>{"weight"}));
  EXPECT_FALSE(nb.bias.defined());
  // stride 2, padding 1, dilation 2: Ho = floor((9 + 2 - 4 - 1) / 2) + 1 = 4.
  Conv2d d(3, 5, 3, 2, 1, 2);
  EXPECT_EQ(d(zeros({2, 3, 9, 9})).shape(), (Shape{2, 5, 4, 4}));
}

TEST(Layers, LinearValues) {
  Linear l(3, 2);
  view::copy_into(l.weight.detach(), from_vector({1, 2, 3, -1, 0, 0.5}, {2, 3}));
  view::copy_into(l.bias.detach(), from_vector({0.5, -2}, {2}));
  Tensor y = l(from_vector({1, 1, 2, 0, -1, 4}, {2, 3}));
  // row 0: [1+2+6+0.5, -1+0+1-2] = [9.5, -2]; row 1: [0-2+12+0.5, 0+0+2-2] = [10.5, 0]
  EXPECT_EQ(y.to_vector(), (std::vector<double>{9.5, -2, 10.5, 0}));
  EXPECT_EQ(l(zeros({4, 5, 3})).shape(), (Shape{4, 5, 2}));
  Linear nb(3, 2, false);
  EXPECT_EQ(names(nb.state_dict()), (std::vector<std::string>{"weight"}));
}

TEST(Layers, BatchNorm2dBuffersAndModes) {
  BatchNorm2d bn(3);
  EXPECT_EQ(names(bn.state_dict()),
            (std::vector<std::string>{"weight", "bias", "running_mean", "running_var",
                                      "num_batches_tracked"}));
  EXPECT_EQ(names(bn.named_parameters()), (std::vector<std::string>{"weight", "bias"}));
  EXPECT_EQ(bn.num_batches_tracked.dtype(), DType::I64);
  EXPECT_EQ(bn.num_batches_tracked.dim(), 0);
  EXPECT_EQ(bn.num_batches_tracked.item(), 0);
  EXPECT_EQ(bn.running_var.to_vector(), (std::vector<double>{1, 1, 1}));

  // Channel c holds the values c + {0, 2} (mean c + 1, unbiased var 2).
  Tensor x = from_vector({0, 2, 1, 3, 2, 4}, {1, 3, 2, 1});
  Tensor y = bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item(), 1);
  std::vector<double> yv = y.to_vector();
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(yv[2 * c], -1 / std::sqrt(1 + 1e-5), 1e-6);
    EXPECT_NEAR(bn.running_mean.to_vector()[c], 0.1 * (c + 1), 1e-6);
    EXPECT_NEAR(bn.running_var.to_vector()[c], 0.9 + 0.1 * 2, 1e-6);
  }
  bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item(), 2);
  bn.eval();
  Tensor ye = bn(x);
  EXPECT_EQ(bn.num_batches_tracked.item(), 2);  // eval leaves buffers alone
  std::vector<double> rm = bn.running_mean.to_vector(), rv = bn.running_var.to_vector();
  EXPECT_NEAR(ye.to_vector()[0], (0 - rm[0]) / std::sqrt(rv[0] + 1e-5), 1e-5);
  EXPECT_NEAR(rm[0], 0.19, 1e-6);
}

TEST(Layers, GroupNormAffineAndNot) {
  GroupNorm gn(2, 4);
  EXPECT_EQ(names(gn.state_dict()), (std::vector<std::string>{"weight", "bias"}));
  GroupNorm plain(2, 4, 1e-5, false);
  EXPECT_TRUE(plain.state_dict().empty());
  // group 0 = {1, 3}: mean 2, var 1 -> -1 / sqrt(1 + eps) first;
  // group 1 = {5, 9}: mean 7, var 4 -> 2 / sqrt(4 + eps) last.
  Tensor y = plain(from_vector({1, 3, 5, 9}, {1, 4, 1, 1}));
  std::vector<double> v = y.to_vector();
  EXPECT_NEAR(v[0], -1 / std::sqrt(1 + 1e-5), 1e-6);
  EXPECT_NEAR(v[3], 2 / std::sqrt(4 + 1e-5), 1e-6);
  EXPECT_THROW(GroupNorm(3, 4), ValueError);
}

TEST(Layers, PoolsUpsampleReLU) {
  Tensor x = from_vector({1, -2, 3, 4, 5, -6, 7, 8, 9, 10, 11, 12, 13, 14, 15, -16}, {1, 1, 4, 4});
  EXPECT_EQ(ReLU()(x).to_vector()[1], 0);
  // 3x3 windows at stride 2 from (-1, -1): rows/cols {-1..1} and {1..3}.
  EXPECT_EQ(MaxPool2d(3, 2, 1)(x).to_vector(), (std::vector<double>{5, 8, 14, 15}));
  EXPECT_EQ(AdaptiveAvgPool2d(1, 1)(x).to_vector(), (std::vector<double>{88.0 / 16}));
  EXPECT_EQ(AdaptiveMaxPool2d(2, 2)(x).to_vector(), (std::vector<double>{5, 8, 14, 15}));
  // align_corners: the corners are kept exactly.
  Tensor u = Upsample(7, 7, true)(x);
  EXPECT_EQ(u.shape(), (Shape{1, 1, 7, 7}));
  EXPECT_EQ(u.to_vector()[48], -16);
  EXPECT_EQ(Upsample(2, 2, false)(x).shape(), (Shape{1, 1, 2, 2}));
}

TEST(Layers, EmbeddingPaddingRow) {
  Generator g(3);
  Embedding e(6, 4, 0, &g);
  EXPECT_EQ(names(e.state_dict()), (std::vector<std::string>{"weight"}));
  std::vector<double> w = e.weight.to_vector();
  for (int j = 0; j < 4; ++j) EXPECT_EQ(w[j], 0);
  double ss = 0;
  for (int j = 4; j < 24; ++j) ss += w[j] * w[j];
  EXPECT_GT(ss, 0);
  Tensor idx = from_vector({0, 2, 5, 2}, {2, 2}, DType::I64);
  Tensor y = e(idx);
  EXPECT_EQ(y.shape(), (Shape{2, 2, 4}));
  sum(y).backward();
  std::vector<double> dw = e.weight.grad().to_vector();
  EXPECT_EQ(dw[0], 0);       // padding row: no gradient
  EXPECT_EQ(dw[2 * 4], 2);   // row 2 used twice
  EXPECT_THROW(Embedding(4, 2, 4), ValueError);
}

TEST(Layers, DropoutModes) {
  Dropout d(0.5);
  Generator g1(9), g2(9);
  Tensor x = ones({1000});
  d.generator = &g1;
  std::vector<double> a = d(x).to_vector();
  int zeros_n = 0;
  for (double v : a) {
    EXPECT_TRUE(v == 0 || v == 2);
    zeros_n += v == 0;
  }
  EXPECT_GT(zeros_n, 400);
  EXPECT_LT(zeros_n, 600);
  d.generator = &g2;
  EXPECT_EQ(d(x).to_vector(), a);  // same seed, same mask
  d.eval();
  EXPECT_EQ(d(x).to_vector(), x.to_vector());
  EXPECT_THROW(Dropout(1.5), ValueError);
}

TEST(Layers, SequentialNamesAndChain) {
  Sequential s;
  s.push_back("", std::make_shared<Conv2d>(2, 3, 1));
  s.push_back("", std::make_shared<BatchNorm2d>(3));
  s.push_back("act", std::make_shared<ReLU>());
  s.push_back("", std::make_shared<Conv2d>(3, 1, 1, 1, 0, 1, false));
  EXPECT_EQ(names(s.state_dict()),
            (std::vector<std::string>{"0.weight", "0.bias", "1.weight", "1.bias",
                                      "1.running_mean", "1.running_var",
                                      "1.num_batches_tracked", "3.weight"}));
  EXPECT_EQ(s.size(), 4u);
  Tensor y = s(randn({2, 2, 3, 3}));
  EXPECT_EQ(y.shape(), (Shape{2, 1, 3, 3}));
  // Chain equals the composition.
  s.eval();
  Tensor x = randn({1, 2, 2, 2});
  Tensor ref = (*s[3])((*s[2])((*s[1])((*s[0])(x))));
  EXPECT_EQ(s(x).to_vector(), ref.to_vector());
  EXPECT_THROW(s.push_back("", nullptr), ValueError);
}

TEST(Layers, GradcheckConvLinearBN) {
  Conv2d c(2, 3, 3, 2, 1);
  c.to(DType::F64);
  Tensor x = rnd64({2, 2, 5, 4}, 11).set_requires_grad();
  auto rc = gradcheck(
[&](const std::vector<Tensor>& in) { return c(in[0]); }, {x});
  EXPECT_TRUE(rc.ok) << rc.report;
  // Parameters: through the module's own handles.
  auto rw = gradcheck([&](const std::vector<Tensor>&) { return c(x.detach()); },
                      {c.weight, c.bias});
  EXPECT_TRUE(rw.ok) << rw.report;

  Linear l(4, 3);
  l.to(DType::F64);
  Tensor xl = rnd64({2, 5, 4}, 12).set_requires_grad();
  auto rl = gradcheck([&](const std::vector<Tensor>& in) { return l(in[0]); },
                      {xl, l.weight, l.bias});
  EXPECT_TRUE(rl.ok) << rl.report;

  BatchNorm2d bn(3);
  bn.to(DType::F64);
  view::copy_into(bn.weight.detach(), from_vector({0.5, 1.5, -1}, {3}, DType::F64));
  Tensor xb = rnd64({3, 3, 2, 2}, 13, 2.0).set_requires_grad();
  auto rb = gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0]); },
                      {xb, bn.weight, bn.bias});
  EXPECT_TRUE(rb.ok) << rb.report;
  bn.eval();
  auto re = gradcheck([&](const std::vector<Tensor>& in) { return bn(in[0]); },
                      {xb, bn.weight, bn.bias});
  EXPECT_TRUE(re.ok) << re.report;
}

TEST(Layers, MisuseErrors) {
  Conv2d c(3, 4, 3);
  EXPECT_THROW(c(zeros({1, 2, 5, 5})), ShapeError);
  EXPECT_THROW(c(zeros({3, 5, 5})), ShapeError);
  EXPECT_THROW(Conv2d(3, 4, 0), ValueError);
  Linear l(3, 2);
  EXPECT_THROW(l(zeros({2, 4})), ShapeError);
  BatchNorm2d bn(3);
  EXPECT_THROW(bn(zeros({2, 4, 2, 2})), ShapeError);
  GroupNorm gn(2, 4);
  EXPECT_THROW(gn(zeros({2, 6, 2, 2})), ShapeError);
  try {
    c(zeros({1, 2, 5, 5}));
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("[1, 2, 5, 5]"), std::string::npos) << e.what();
  }
}
