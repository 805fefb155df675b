// Golden files written by PyTorch (scripts/gen_golden.py, `make golden`):
// conv2d, batch_norm, group_norm, bilinear, cross_entropy and one whole
// training step of a small CNN, compared at 1e-5 relative in float32.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "autograd/ops.h"
#include "layers/optim.h"
#include "layers/safetensors.h"
#include "tests/golden_util.h"

using namespace sirs;

namespace {

constexpr const char* kGoldenVersion = "1";

using golden::expect_close;
using golden::Golden;

Golden load(const std::string& name) { return golden::load(name, kGoldenVersion); }

Tensor param(const Tensor& t) { return view::clone(t).set_requires_grad(); }

}  // namespace

TEST(Golden, Conv2d) {
  Golden g = load("conv2d");
  Tensor x = param(g["x"]), w = param(g["w"]), b = param(g["b"]);
  Conv2dOptions o;
  o.stride_h = 2, o.stride_w = 1, o.pad_h = 1, o.pad_w = 2, o.dil_h = 1, o.dil_w = 2;
  Tensor y = conv2d(x, w, b, o);
  expect_close("y", y, g["y"]);
  y.backward(g["dy"]);
  expect_close("dx", x.grad(), g["dx"]);
  expect_close("dw", w.grad(), g["dw"]);
  expect_close("db", b.grad(), g["db"]);
}

TEST(Golden, BatchNorm) {
  Golden g = load("batch_norm");
  Tensor x = param(g["x"]), w = param(g["w"]), b = param(g["b"]);
  Tensor rm = zeros({3}), rv = ones({3});
  Tensor y = batch_norm(x, w, b, rm, rv, /*training=*/true, 0.1, 1e-5);
  expect_close("y", y, g["y"]);
  expect_close("running_mean", rm, g["running_mean"]);
  expect_close("running_var", rv, g["running_var"]);
  y.backward(g["dy"]);
  expect_close("dx", x.grad(), g["dx"], 2e-5);
  expect_close("dw", w.grad(), g["dw"]);
  expect_close("db", b.grad(), g["db"]);
  NoGradGuard ng;
  expect_close("y_eval", batch_norm(x, w, b, rm, rv, false, 0.1, 1e-5), g["y_eval"]);
}

TEST(Golden, GroupNorm) {
  Golden g = load("group_norm");
  Tensor x = param(g["x"]), w = param(g["w"]), b = param(g["b"]);
  Tensor y = group_norm(x, 4, w, b, 1e-5);
  expect_close("y", y, g["y"]);
  y.backward(g["dy"]);
  expect_close("dx", x.grad(), g["dx"], 2e-5);
  expect_close("dw", w.grad(), g["dw"]);
  expect_close("db", b.grad(), g["db"]);
}

TEST(Golden, Bilinear) {
  Golden g = load("bilinear");
  for (const char* key : {"up_ac", "down_ac", "up_noac", "down_noac"}) {
    SCOPED_TRACE(key);
    std::string k = key;
    bool ac = k.find("noac") == std::string::npos;
    Tensor x = param(g[k + ".x"]);
    const Tensor& ref = g[k + ".y"];
    Tensor y = upsample_bilinear2d(x, ref.size(2), ref.size(3), ac);
    expect_close("y", y, ref);
    y.backward(g[k + ".dy"]);
    expect_close("dx", x.grad(), g[k + ".dx"]);
  }
}

TEST(Golden, CrossEntropy) {
  Golden g = load("cross_entropy");
  Tensor logits = param(g["logits"]);
  Tensor loss = cross_entropy(logits, g["target"], g["weight"], 255);
  expect_close("loss", loss, g["loss"]);
  loss.backward();
  expect_close("dlogits", logits.grad(), g["dlogits"]);
}

TEST(Golden, SmallCnnTrainingStep) {
  Golden g = load("cnn_step");
  std::vector<std::string> names = {"conv1.w", "bn1.w", "bn1.b", "conv2.w",
                                    "conv2.b", "fc.w",  "fc.b"};
  std::map<std::string, Tensor> p;
  std::vector<Tensor> params;
  for (const auto& n : names) {
    p[n] = param(g["init." + n]);
    params.push_back(p[n]);
  }
  Tensor rm = zeros({4}), rv = ones({4});
  Tensor h = conv2d(g["x"], p["conv1.w"], Tensor(), 1, 1);
  h = relu(batch_norm(h, p["bn1.w"], p["bn1.b"], rm, rv, true));
  h = max_pool2d(h, 3, 2, 1);
  h = relu(conv2d(h, p["conv2.w"], p["conv2.b"], 2, 1));
  h = adaptive_avg_pool2d(h, 1, 1).flatten(1);
  Tensor logits = linear(h, p["fc.w"], p["fc.b"]);
  Tensor loss = cross_entropy(logits, g["y"]);
  expect_close("logits", logits, g["logits"]);
  expect_close("loss", loss, g["loss"]);
  expect_close("running_mean", rm, g["running_mean"]);
  expect_close("running_var", rv, g["running_var"]);

  AdamOptions ao;
  ao.lr = 1e-2;
  Adam opt(params, ao);
  loss.backward();
  for (const auto& n : names) {
    SCOPED_TRACE(n);
    expect_close("grad", p[n].grad(), g["grad." + n], 5e-5);
  }
  opt.step();
  for (const auto& n : names) {
    SCOPED_TRACE(n);
    expect_close("after step", p[n], g["after." + n], 1e-5);
  }
}
