// The graph and the engine: accumulation, release after backward, no_grad,
// detach, leaf rules, and gradients of the view ops checked numerically.
#include <gtest/gtest.h>

#include "autograd/grad_mode.h"
#include "autograd/gradcheck.h"
#include "autograd/node.h"
#include "autograd/shape_ops.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {
}  // namespace

TEST(Autograd, LeafRulesAndDetach) {
  Tensor a = leaf({2, 3}, 1);
  EXPECT_TRUE(a.is_leaf());
  Tensor b = a.reshape({3, 2});
  EXPECT_TRUE(b.requires_grad());
  EXPECT_FALSE(b.is_leaf());
  EXPECT_EQ(b.grad_fn()->name(), "reshape");
  EXPECT_THROW(b.set_requires_grad(), AutogradError);
  Tensor d = b.detach();
  EXPECT_FALSE(d.requires_grad());
  EXPECT_EQ(d.storage().get(), a.storage().get());
  EXPECT_THROW(zeros({2}, DType::I64).set_requires_grad(), DTypeError);
}

TEST(Autograd, NoGradGuardRecordsNothing) {
  Tensor a = leaf({4}, 2);
  {
    NoGradGuard g;
    Tensor b = a.reshape({2, 2});
    EXPECT_FALSE(b.requires_grad());
  }
  EXPECT_TRUE(a.reshape({2, 2}).requires_grad());
}

TEST(Autograd, BackwardNeedsScalarOrGradient) {
  Tensor a = leaf({2, 2}, 3);
  Tensor b = a.permute({1, 0});
  EXPECT_THROW(b.backward(), AutogradError);
  EXPECT_THROW(b.backward(ones({3})), ShapeError);
  EXPECT_THROW(zeros({1}).backward(), AutogradError);
}

TEST(Autograd, GradientsAccumulateAcrossUsesAndCalls) {
  // a feeds two views whose gradients meet at a: grad = sum of both.
  Tensor a = leaf({2, 3}, 4);
  Tensor p = a.transpose(0, 1);  // [3, 2]
  Tensor q = a.narrow(1, 1, 2);  // [2, 2]
  Tensor gp = from_vector({1, 2, 3, 4, 5, 6}, {3, 2}, DType::F64);
  Tensor gq = from_vector({10, 20, 30, 40}, {2, 2}, DType::F64);
  p.backward(gp);
  q.backward(gq);
  // p = a^T, so dA from p is gp^T = [[1,3,5],[2,4,6]]; q adds into columns 1..2.
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{1, 13, 25, 2, 34, 46}));
  a.zero_grad();
  EXPECT_FALSE(a.grad().defined());
}

TEST(Autograd, GraphIsReleasedAfterBackward) {
  Tensor a = leaf({4}, 5);
  Tensor b = a.reshape({2, 2});
  b.backward(ones({2, 2}, DType::F64));
  try {
    b.backward(ones({2, 2}, DType::F64));
    FAIL() << "expected AutogradError";
  } catch (const AutogradError& e) {
    EXPECT_NE(std::string(e.what()).find("second time"), std::string::npos) << e.what();
  }
}

TEST(Autograd, DiamondGraphSumsBothPaths) {
  Tensor a = leaf({2, 2}, 6);
  Tensor b = a.reshape({4});
  // Two views of b meet again through expand's sum_to backward.
  Tensor c = b.unsqueeze(0).expand({3, 4});  // each element used 3 times
  c.backward(ones({3, 4}, DType::F64));
  EXPECT_EQ(a.grad().to_vector(), (std::vector<double>{3, 3, 3, 3}));
}

TEST(Autograd, SumToReducesBroadcastDims) {
  Tensor t = arange(24, DType::F64).reshape({2, 3, 4});
  EXPECT_EQ(sum_to(t, {3, 1}).to_vector(), (std::vector<double>{60, 92, 124}));
  EXPECT_EQ(sum_to(t, {4}).to_vector(), (std::vector<double>{60, 66, 72, 78}));
  EXPECT_EQ(sum_to(t, {1, 1, 1}).to_vector(), (std::vector<double>{276}));
  EXPECT_EQ(broadcast_shapes({2, 1, 4}, {3, 1}, "t"), (Shape{2, 3, 4}));
  EXPECT_THROW(broadcast_shapes({2, 3}, {4}, "add"), ShapeError);
}

TEST(Autograd, GradcheckViews) {
  Tensor a = leaf({2, 3, 4}, 7);
  auto check = [&](const char* what, std::function<Tensor(const Tensor&)> f) {
    GradcheckResult r = gradcheck([&](const std::vector<Tensor>& in) { return f(in[0]); }, {a});
    EXPECT_TRUE(r.ok) << what << "\n" << r.report;
  };
  check("reshape", [](const Tensor& x) { return x.reshape({4, 6}); });
  check("permute", [](const Tensor& x) { return x.permute({2, 0, 1}); });
  check("transpose+contiguous", [](const Tensor& x) { return x.transpose(0, 2).contiguous(); });
  check("narrow", [](const Tensor& x) { return x.narrow(2, 1, 2); });
  check("slice step", [](const Tensor& x) { return x.slice(2, 0, 4, 3); });
  check("select", [](const Tensor& x) { return x.select(1, 2); });
  check("expand", [](const Tensor& x) { return x.narrow(1, 0, 1).expand({2, 5, 4}); });
  check("unsqueeze/squeeze", [](const Tensor& x) { return x.unsqueeze(1).squeeze(1); });
  check("flatten", [](const Tensor& x) { return x.flatten(0, 1); });
  check("clone", [](const Tensor& x) { return x.clone(); });
  // float32 rounding (1e-7 relative) needs a larger step to be seen past.
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) { return in[0].to(DType::F32).to(DType::F64); }, {a},
      1e-2, 1e-4);
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(Autograd, GradcheckOnNonContiguousInput) {
  Tensor base = leaf({4, 3}, 8);
  Tensor a = base.detach().transpose(0, 1);  // a non-contiguous leaf
  a.set_requires_grad();
  GradcheckResult r =
      gradcheck([](const std::vector<Tensor>& in) { return in[0].reshape({12}); }, {a});
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(Autograd, GradcheckDetectsAWrongGradient) {
  // An op whose backward is deliberately wrong must fail the check.
  auto bad = [](const std::vector<Tensor>& in) {
    Tensor out = view::clone(in[0]);
    return record1("bad_double", out, {in[0]}, [](const Tensor& d) -> std::vector<Tensor> {
      Tensor g = view::clone(d);
      view::copy_into(g, d, 1.0);  // 2 * d: wrong for identity
      return {g};
    });
  };
  GradcheckResult r = gradcheck(bad, {leaf({3}, 9)});
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.report.find("input 0"), std::string::npos);
}
