// Adam and SGD against torch.optim, weight decay, skipped parameters,
// state save/load, gradient clipping and the step learning-rate schedules.
//
// Reference values: /usr/bin/python3 with PyTorch 1.13 ran
//   p = torch.tensor([0.5, -1.0, 2.0, 0.0], dtype=dtype, requires_grad=True)
//   opt = <optimizer>([p], ...)
//   for k in 1, 2, 3:
//       p.grad = torch.tensor([0.1 * k, -0.2, 0.3 * k * k, 1.0], dtype=dtype)
//       opt.step(); print([repr(float(x)) for x in p.detach()])
#include <gtest/gtest.h>

#include <cmath>

#include "layers/optim.h"

using namespace sirs;

namespace {

using Rows = std::vector<std::vector<double>>;

Tensor make_param(DType dt) { return from_vector({0.5, -1.0, 2.0, 0.0}, {4}, dt).set_requires_grad(); }

void set_step_grad(const Tensor& p, int k) {
  p.set_grad(from_vector({0.1 * k, -0.2, 0.3 * k * k, 1.0}, {4}, p.dtype()));
}

void expect_rows(Optimizer& opt, const Tensor& p, const Rows& expect, double tol) {
  for (int k = 1; k <= 3; ++k) {
    set_step_grad(p, k);
    opt.step();
    std::vector<double> v = p.to_vector();
    for (size_t i = 0; i < 4; ++i) EXPECT_NEAR(v[i], expect[k - 1][i], tol) << "step " << k << " i " << i;
  }
}

}  // namespace

// torch.optim.Adam(ps, lr=0.1), float64.
TEST(Optim, AdamMatchesTorchFloat64) {
  Tensor p = make_param(DType::F64);
  Adam opt({p}, AdamOptions{0.1});
  expect_rows(opt, p,
              {{0.400000009999999, -0.9000000049999998, 1.9000000033333333, -0.09999999900000002},
               {0.30348181352125303, -0.8000000100000002, 1.81156235528664, -0.19999999799999935},
               {0.2076816955448426, -0.700000015, 1.7250197876503854, -0.2999999969999993}},
              1e-13);
  EXPECT_EQ(opt.step_count(0), 3);
}

// Same in float32.
TEST(Optim, AdamMatchesTorchFloat32) {
  Tensor p = make_param(DType::F32);
  Adam opt({p}, AdamOptions{0.1});
  expect_rows(opt, p,
              {{0.4000000059604645, -0.8999999761581421, 1.899999976158142, -0.09999998658895493},
               {0.3034818172454834, -0.7999999523162842, 1.8115622997283936, -0.19999998807907104},
               {0.20768170058727264, -0.699999988079071, 1.7250196933746338, -0.29999998211860657}},
              3e-7);
}

// torch.optim.Adam(ps, lr=0.1, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.5), float64:
// exercises both betas, eps after the bias-corrected sqrt, and L2 decay.
TEST(Optim, AdamWeightDecayBetasEps) {
  Tensor p = make_param(DType::F64);
  Adam opt({p}, AdamOptions{0.1, 0.8, 0.99, 1e-3, 0.5});
  expect_rows(opt, p,
              {{0.40028490028490027, -0.9001426533523538, 1.900076863950807, -0.09990009990009992},
               {0.3000666144068936, -0.8007502927528134, 1.8004946937150383, -0.19949349605003408},
               {0.19908350610765252, -0.702174410152062, 1.7013495467184259, -0.2985586558435346}},
              1e-13);
}

// torch.optim.SGD(ps, lr=0.1, momentum=0.9), float64.
TEST(Optim, SgdMomentumMatchesTorch) {
  Tensor p = make_param(DType::F64);
  SGD opt({p}, SGDOptions{0.1, 0.9});
  expect_rows(opt, p,
              {{0.49, -0.98, 1.97, -0.1},
               {0.46099999999999997, -0.942, 1.823, -0.29},
               {0.4048999999999999, -0.8877999999999999, 1.4206999999999999, -0.5609999999999999}},
              1e-14);
}

// torch.optim.SGD(ps, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01), float64.
TEST(Optim, SgdNesterovWeightDecayMatchesTorch) {
  Tensor p = make_param(DType::F64);
  SGDOptions o{0.1, 0.9};
  o.nesterov = true;
  o.weight_decay = 0.01;
  SGD opt({p}, o);
  expect_rows(opt, p,
              {{0.48005, -0.9601, 1.9392, -0.19},
               {0.43263290499999996, -0.90326581, 1.6815955200000001, -0.460639},
               {0.35056756198049993, -0.8312629239609999, 1.043301736512, -0.8035098859}},
              1e-14);
}

// torch.optim.SGD(ps, lr=0.1, momentum=0.5, dampening=0.3), float64: the
// first step stores g undamped, later ones damp.
TEST(Optim, SgdDampeningMatchesTorch) {
  Tensor p = make_param(DType::F64);
  SGDOptions o{0.1, 0.5, 0.3};
  SGD opt({p}, o);
  expect_rows(opt, p,
              {{0.49, -0.98, 1.97, -0.1},
               {0.471, -0.956, 1.871, -0.22},
               {0.44049999999999995, -0.9299999999999999, 1.6325, -0.35}},
              1e-14);
}

TEST(Optim, PlainSgdAndSkippedParams) {
  Tensor a = from_vector({1, 2}, {2}).set_requires_grad();
  Tensor b = from_vector({3, 4}, {2}).set_requires_grad();
  SGD opt({a, b}, SGDOptions{0.5});
  a.set_grad(from_vector({1, -1}, {2}));
  opt.step();
  EXPECT_EQ(a.to_vector(), (std::vector<double>{0.5, 2.5}));
  EXPECT_EQ(b.to_vector(), (std::vector<double>{3, 4}));  // no grad: untouched
  Adam adam({a, b}, AdamOptions{0.1});
  a.set_grad(from_vector({1, -1}, {2}));
  adam.step();
  EXPECT_EQ(adam.step_count(0), 1);
  EXPECT_EQ(adam.step_count(1), 0);
  EXPECT_EQ(b.to_vector(), (std::vector<double>{3, 4}));
  // The first Adam step moves every coordinate by lr (m/sqrt(v) = sign(g)).
  EXPECT_NEAR(a.to_vector()[0], 0.4, 1e-6);
  EXPECT_NEAR(a.to_vector()[1], 2.6, 1e-6);
}

TEST(Optim, NonContiguousParameterUpdatedInPlace) {
  Tensor base = zeros({3, 2}, DType::F64).set_requires_grad();
  Tensor pt = view::permute(base.detach(), {1, 0});  // a non-contiguous leaf sharing storage
  pt.set_requires_grad();
  SGD opt({pt}, SGDOptions{1.0});
  pt.set_grad(from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::F64));
  opt.step();
  EXPECT_EQ(base.to_vector(), (std::vector<double>{-1, -4, -2, -5, -3, -6}));
}

TEST(Optim, ZeroGradIsTheOnePlace) {
  Tensor a = ones({2}).set_requires_grad(), b = ones({3}).set_requires_grad();
  Adam opt({a, b});
  a.set_grad(ones({2}));
  b.set_grad(ones({3}));
  opt.zero_grad(false);
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{0, 0}));
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  EXPECT_FALSE(b.grad().defined());
}

TEST(Optim, ConstructionErrors) {
  Tensor a = ones({2}).set_requires_grad();
  EXPECT_THROW(Adam({a, a}), ValueError);
  EXPECT_THROW(Adam({Tensor()}), ValueError);
  EXPECT_THROW(Adam({zeros({2}, DType::I64)}), DTypeError);
  EXPECT_THROW(Adam({a.reshape({2, 1})}), ValueError);
  EXPECT_THROW(Adam({a}, AdamOptions{1e-3, 1.0}), ValueError);
  SGDOptions o;
  o.nesterov = true;
  EXPECT_THROW(SGD({a}, o), ValueError);
  Adam ok({a});
  EXPECT_THROW(ok.set_lr(-1), ValueError);
  a.set_grad(ones({2}, DType::F64));
  EXPECT_THROW(ok.step(), DTypeError);
}

// Save after two steps, load into a fresh optimizer on a copy of the
// parameters: the third step must be bit-identical.
TEST(Optim, AdamStateRoundTripResumesExactly) {
  Tensor p = make_param(DType::F32), q = make_param(DType::F32);
  Tensor unused = ones({3}).set_requires_grad();
  Adam a({p, unused}, AdamOptions{0.05, 0.8, 0.95, 1e-6, 0.1});
  for (int k = 1; k <= 2; ++k) {
    set_step_grad(p, k);
    a.step();
  }
  NamedTensors sd = a.state_dict();
  std::vector<std::string> names;
  for (auto& e : sd) names.push_back(e.first);
  EXPECT_EQ(names, (std::vector<std::string>{"lr", "betas", "eps", "weight_decay", "0.step",
                                             "0.exp_avg", "0.exp_avg_sq"}));
  view::copy_into(q, p);
  Tensor unused2 = ones({3}).set_requires_grad();
  Adam b({q, unused2});  // default options: all restored from the state
  b.load_state_dict(sd);
  EXPECT_EQ(b.options().beta2, 0.95);
  EXPECT_EQ(b.lr(), 0.05);
  EXPECT_EQ(b.step_count(0), 2);
  set_step_grad(p, 3);
  set_step_grad(q, 3);
  a.step();
  b.step();
  EXPECT_EQ(p.to_vector(), q.to_vector());
  // The export is a copy: stepping did not change it.
  EXPECT_EQ(sd[4].second.item(), 2);
}

TEST(Optim, SgdStateRoundTripResumesExactly) {
  Tensor p = make_param(DType::F64), q = make_param(DType::F64);
  SGDOptions o{0.1, 0.9};
  SGD a({p}, o);
  set_step_grad(p, 1);
  a.step();
  view::copy_into(q, p);
  SGD b({q});
  b.load_state_dict(a.state_dict());
  set_step_grad(p, 2);
  set_step_grad(q, 2);
  a.step();
  b.step();
  EXPECT_EQ(p.to_vector(), q.to_vector());
}

TEST(Optim, LoadStateDictNamesEveryProblem) {
  Tensor p = make_param(DType::F32);
  Adam a({p});
  set_step_grad(p, 1);
  a.step();
  NamedTensors sd = a.state_dict();
  sd[5].second = zeros({5});                    // 0.exp_avg mis-shaped
  sd.emplace_back("7.exp_avg", zeros({4}));     // index out of range
  sd.emplace_back("momentum", scalar_tensor(0)); // an SGD key
  sd.erase(sd.begin() + 2);                     // eps missing
  try {
    a.load_state_dict(sd);
    FAIL() << "expected StateDictError";
  } catch (const StateDictError& e) {
    std::string msg = e.what();
    for (const char* s : {"0.exp_avg", "[5]", "7.exp_avg", "momentum", "eps: missing"})
      EXPECT_NE(msg.find(s), std::string::npos) << s << " not in: " << msg;
  }
  EXPECT_EQ(a.options().eps, 1e-8);  // unchanged
  SGD s({p});
  EXPECT_THROW(s.load_state_dict(a.state_dict()), StateDictError);
}

// torch.nn.utils.clip_grad_norm_([p1, p2], 6.5) with grads [3, 0, 4] and
// [12, 0] (float32): returns 13.0; grads become [1.4999998807907104, 0,
// 1.9999998807907104] and [5.999999523162842, 0].
TEST(Optim, ClipGradNormMatchesTorch) {
  Tensor p1 = zeros({3}).set_requires_grad(), p2 = zeros({2}).set_requires_grad();
  Tensor p3 = zeros({2}).set_requires_grad();  // no grad: skipped
  p1.set_grad(from_vector({3, 0, 4}, {3}));
  p2.set_grad(from_vector({12, 0}, {2}));
  double n = clip_grad_norm_({p1, p2, p3}, 6.5);
  EXPECT_DOUBLE_EQ(n, 13.0);
  std::vector<double> g1 = p1.grad().to_vector(), g2 = p2.grad().to_vector();
  EXPECT_NEAR(g1[0], 1.4999998807907104, 1e-7);
  EXPECT_NEAR(g1[2], 1.9999998807907104, 1e-7);
  EXPECT_NEAR(g2[0], 5.999999523162842, 1e-6);
  // Below the threshold: returned, grads unchanged.
  p1.set_grad(from_vector({0.3, 0, 0.4}, {3}));
  p2.zero_grad();
  EXPECT_NEAR(clip_grad_norm_({p1, p2}, 1.0), 0.5, 1e-7);
  EXPECT_NEAR(p1.grad().to_vector()[2], 0.4, 1e-7);
  // A non-contiguous gradient is scaled in place.
  Tensor p4 = zeros({2, 2}, DType::F64).set_requires_grad();
  Tensor g = from_vector({0, 2, 0, 0}, {2, 2}, DType::F64);
  p4.set_grad(view::permute(g, {1, 0}));
  EXPECT_DOUBLE_EQ(clip_grad_norm_({p4}, 1.0), 2.0);
  EXPECT_NEAR(g.to_vector()[1], 2.0 / (2.0 + 1e-6), 1e-12);
}

// torch StepLR(opt, step_size=3, gamma=0.5) with lr 1: after each
// scheduler.step() the lrs are 1, 1, 0.5, 0.5, 0.5, 0.25.
TEST(Optim, StepLRAsTorch) {
  Tensor p = ones({1}).set_requires_grad();
  SGD opt({p}, SGDOptions{1.0});
  StepLR s(opt, 3, 0.5);
  std::vector<double> lrs;
  for (int i = 0; i < 6; ++i) {
    s.step();
    lrs.push_back(opt.lr());
  }
  EXPECT_EQ(lrs, (std::vector<double>{1, 1, 0.5, 0.5, 0.5, 0.25}));
  StepLR r(opt, 3, 0.5);
  r.set_state(1.0, 6);
  EXPECT_EQ(opt.lr(), 0.25);
  r.step();
  EXPECT_EQ(r.last_epoch(), 7);
  EXPECT_THROW(StepLR(opt, 0, 0.5), ValueError);
}

// DESIGN §4: at the start of epoch e the lr is multiplied by 0.7 when
// e % 20 == 19. Simulate the reference loop and compare with StepLR stepped
// at the start of every epoch and with the closed form.
TEST(Optim, SirsRuleDecaysAtEpoch19And39) {
  Tensor p = ones({1}).set_requires_grad();
  Adam opt({p}, AdamOptions{2e-4});
  StepLR s(opt, 20, 0.7);
  double ref = 2e-4;
  for (int64_t e = 0; e < 60; ++e) {
    if (e % 20 == 19) ref *= 0.7;
    s.step();
    EXPECT_NEAR(opt.lr(), ref, 1e-18) << "epoch " << e;
    EXPECT_NEAR(sirs_epoch_lr(2e-4, e), ref, 1e-18) << "epoch " << e;
  }
  EXPECT_EQ(sirs_epoch_lr(2e-4, 18), 2e-4);
  EXPECT_NEAR(sirs_epoch_lr(2e-4, 19), 1.4e-4, 1e-18);
  EXPECT_NEAR(sirs_epoch_lr(2e-4, 34), 1.4e-4, 1e-18);
}
