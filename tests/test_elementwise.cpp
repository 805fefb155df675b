// Elementwise ops: forward values (hand-computed, or from a plain loop over
// the broadcast index space written here as the oracle), gradients by
// gradcheck in float64 (broadcasting, scalars, transposed inputs, odd
// sizes, sizes above the OpenMP threshold), and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/grad_mode.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Values in [0.5, 2): safe for log, sqrt, pow and as divisors.
Tensor pos_leaf(const Shape& s, uint64_t seed) {
  Generator g(seed);
  return uniform(s, 0.5, 2.0, DType::F64, &g).set_requires_grad();
}

void expect_values(const Tensor& t, const std::vector<double>& want, double tol = 1e-12) {
  std::vector<double> got = t.to_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i)
    EXPECT_NEAR(got[i], want[i], tol * std::max(1.0, std::fabs(want[i]))) << "element " << i;
}

void expect_grad_ok(const Fn& fn, const std::vector<Tensor>& inputs) {
  GradcheckResult r = gradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << r.report;
}

// Oracle: out[i] = f(a[ia], b[ib]) with the NumPy broadcast index map,
// computed element by element from to_vector().
std::vector<double> broadcast_ref(const Tensor& a, const Tensor& b,
                                  const std::function<double(double, double)>& f) {
  size_t n = std::max(a.dim(), b.dim());
  Shape out(n);
  auto dim_of = [n](const Tensor& t, size_t i) {
    size_t pad = n - t.dim();
    return i < pad ? int64_t{1} : t.shape()[i - pad];
  };
  for (size_t i = 0; i < n; ++i) out[i] = std::max(dim_of(a, i), dim_of(b, i));
  std::vector<double> av = a.to_vector(), bv = b.to_vector(), res;
  for (int64_t flat = 0; flat < shape_numel(out); ++flat) {
    int64_t rem = flat, ia = 0, ib = 0, sa = 1, sb = 1;
    for (int64_t d = static_cast<int64_t>(n) - 1; d >= 0; --d) {
      int64_t idx = rem % out[d];
      rem /= out[d];
      int64_t da = dim_of(a, d), db = dim_of(b, d);
      ia += (da == 1 ? 0 : idx) * sa;
      ib += (db == 1 ? 0 : idx) * sb;
      sa *= da;
      sb *= db;
    }
    res.push_back(f(av[ia], bv[ib]));
  }
  return res;
}

}  // namespace

TEST(ElementwiseBinary, ForwardValuesBothDTypes) {
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, dt);
    Tensor b = from_vector({10, 20, 40}, {3}, dt);
    expect_values(add(a, b), {11, 22, 43, 14, 25, 46});
    expect_values(sub(a, b), {-9, -18, -37, -6, -15, -34});
    expect_values(mul(a, b), {10, 40, 120, 40, 100, 240});
    expect_values(div(b, a), {10, 10, 40.0 / 3, 2.5, 4, 40.0 / 6}, 1e-6);
    EXPECT_EQ(add(a, b).dtype(), dt);
    EXPECT_EQ(add(a, b).shape(), (Shape{2, 3}));
  }
}

TEST(ElementwiseBinary, ScalarFormsAndOperators) {
  Tensor a = from_vector({1, 2, 4}, {3}, DType::F64);
  expect_values(add(a, 1.5), {2.5, 3.5, 5.5});
  expect_values(sub(a, 1.0), {0, 1, 3});
  expect_values(mul(a, -2.0), {-2, -4, -8});
  expect_values(div(a, 4.0), {0.25, 0.5, 1});
  expect_values(rsub(10.0, a), {9, 8, 6});
  expect_values(rdiv(8.0, a), {8, 4, 2});
  expect_values(a + a, {2, 4, 8});
  expect_values(a - a * 2.0, {-1, -2, -4});
  expect_values(a / a, {1, 1, 1});
  expect_values(1.0 + a, {2, 3, 5});
  expect_values(1.0 - a, {0, -1, -3});
  expect_values(3.0 * a, {3, 6, 12});
  expect_values(4.0 / a, {4, 2, 1});
  expect_values(a + 1.0, {2, 3, 5});
  expect_values(a - 1.0, {0, 1, 3});
  expect_values(a * 0.5, {0.5, 1, 2});
  expect_values(a / 2.0, {0.5, 1, 2});
  expect_values(-a, {-1, -2, -4});
}

TEST(ElementwiseBinary, BroadcastMatchesOracle) {
  // Shape pairs: trailing column, trailing vector, 0-d scalar, both sides
  // broadcasting, and odd sizes; float32 and float64.
  std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {4}},    {{2, 3, 4}, {}},     {{}, {2, 3, 4}},
      {{3, 1}, {2, 1, 5}}, {{5, 7}, {5, 7}},    {{1, 7}, {5, 1}},    {{7, 1, 3}, {1, 5, 1}}};
  uint64_t seed = 10;
  for (DType dt : {DType::F32, DType::F64}) {
    for (auto& c : cases) {
      Generator g(seed++);
      Tensor a = randn(c.first, dt, &g), b = uniform(c.second, 0.5, 2.0, dt, &g);
      double tol = dt == DType::F32 ? 1e-6 : 1e-15;
      expect_values(add(a, b), broadcast_ref(a, b, [](double x, double y) { return x + y; }), tol);
      expect_values(sub(a, b), broadcast_ref(a, b, [](double x, double y) { return x - y; }), tol);
      expect_values(mul(a, b), broadcast_ref(a, b, [](double x, double y) { return x * y; }), tol);
      expect_values(div(a, b), broadcast_ref(a, b, [](double x, double y) { return x / y; }), tol);
      expect_values(sub(b, a), broadcast_ref(b, a, [](double x, double y) { return x - y; }), tol);
    }
  }
}

TEST(ElementwiseBinary, NonContiguousAndLargeInputs) {
  // Transposed and sliced views are read through their strides; sizes above
  // the OpenMP threshold with an odd length exercise the chunked rows.
  Generator g(3);
  Tensor base = randn({301, 257}, DType::F32, &g);
  Tensor at = base.transpose(0, 1);                // [257, 301], strides (1, 257)
  Tensor b = randn({257, 1}, DType::F32, &g);      // broadcast column
  Tensor c = randn({301}, DType::F32, &g);         // broadcast row
  expect_values(add(at, b), broadcast_ref(at, b, [](double x, double y) { return x + y; }), 1e-6);
  expect_values(mul(at, c), broadcast_ref(at, c, [](double x, double y) { return x * y; }), 1e-6);
  Tensor sl = base.slice(1, 1, 257, 2);            // [301, 128], stride 2 inner
  expect_values(sub(sl, sl.contiguous()), std::vector<double>(301 * 128, 0.0));
  Tensor big = randn({100003}, DType::F32, &g), big2 = randn({100003}, DType::F32, &g);
  expect_values(add(big, big2), broadcast_ref(big, big2, [](double x, double y) { return x + y; }),
                1e-6);
  // Expanded (stride 0) input.
  Tensor e = c.expand({4, 301});
  expect_values(add(e, 1.0), broadcast_ref(e, scalar_tensor(1.0), [](double x, double y) { return x + y; }),
                1e-6);
}

TEST(ElementwiseBinary, GradcheckBroadcastShapes) {
  std::vector<std::pair<Shape, Shape>> cases = {
      {{2, 3, 4}, {3, 1}}, {{2, 3, 4}, {4}}, {{2, 3, 4}, {}}, {{3, 1}, {2, 1, 5}}, {{5, 7}, {5, 7}}};
  uint64_t seed = 100;
  for (auto& c : cases) {
    Tensor a = leaf(c.first, seed++), b = pos_leaf(c.second, seed++);
    SCOPED_TRACE(shape_str(c.first) + " op " + shape_str(c.second));
    expect_grad_ok([](const std::vector<Tensor>& in) { return add(in[0], in[1]); }, {a, b});
    expect_grad_ok([](const std::vector<Tensor>& in) { return sub(in[0], in[1]); }, {a, b});
    expect_grad_ok([](const std::vector<Tensor>& in) { return mul(in[0], in[1]); }, {a, b});
    expect_grad_ok([](const std::vector<Tensor>& in) { return div(in[0], in[1]); }, {a, b});
    expect_grad_ok([](const std::vector<Tensor>& in) { return div(in[1], in[0] * in[0] + 1.0); },
                   {a, b});
  }
}

TEST(ElementwiseBinary, GradcheckTransposedInputsAndOneSideOnly) {
  Tensor a = leaf({4, 3}, 200), b = pos_leaf({3, 4}, 201);
  Fn f = [](const std::vector<Tensor>& in) { return mul(in[0].transpose(0, 1), in[1]); };
  expect_grad_ok(f, {a, b});
  // A transposed leaf itself (non-contiguous storage walk in gradcheck).
  Tensor at = leaf({5, 3}, 202).detach().transpose(0, 1).set_requires_grad();
  expect_grad_ok([](const std::vector<Tensor>& in) { return div(in[0], in[1]); },
                 {at, pos_leaf({3, 5}, 203)});
  // Only one operand needs a gradient: the other gets none.
  Tensor c = randn({3, 4}, DType::F64);
  Tensor y = mul(a.transpose(0, 1), c);
  y.backward(ones({3, 4}, DType::F64));
  expect_values(a.grad(), c.transpose(0, 1).contiguous().to_vector());
  EXPECT_FALSE(c.grad().defined());
}

TEST(ElementwiseBinary, GradcheckScalarForms) {
  Tensor a = pos_leaf({3, 5}, 300);
  expect_grad_ok([](const std::vector<Tensor>& in) { return add(in[0], 2.5); }, {a});
  expect_grad_ok([](const std::vector<Tensor>& in) { return sub(in[0], 2.5); }, {a});
  expect_grad_ok([](const std::vector<Tensor>& in) { return mul(in[0], -1.5); }, {a});
  expect_grad_ok([](const std::vector<Tensor>& in) { return div(in[0], 3.0); }, {a});
  expect_grad_ok([](const std::vector<Tensor>& in) { return rsub(1.0, in[0]); }, {a});
  expect_grad_ok([](const std::vector<Tensor>& in) { return rdiv(2.0, in[0]); }, {a});
  expect_grad_ok([](const std::vector<Tensor>& in) { return -in[0]; }, {a});
  Tensor s = leaf({}, 301);  // 0-d tensor operand
  expect_grad_ok([](const std::vector<Tensor>& in) { return in[0] * in[1]; }, {a, s});
}

TEST(ElementwiseUnary, ForwardValues) {
  Tensor x = from_vector({-2, -0.5, 0, 0.5, 3}, {5}, DType::F64);
  expect_values(neg(x), {2, 0.5, 0, -0.5, -3});
  expect_values(abs(x), {2, 0.5, 0, 0.5, 3});
  expect_values(relu(x), {0, 0, 0, 0.5, 3});
  expect_values(exp(x), {std::exp(-2.0), std::exp(-0.5), 1, std::exp(0.5), std::exp(3.0)});
  // tanh and sigmoid values from PyTorch 1.13 (torch.tanh / torch.sigmoid, float64).
  expect_values(tanh(x), {-0.9640275800758169, -0.46211715726000974, 0, 0.46211715726000974,
                          0.9950547536867305});
  expect_values(sigmoid(x), {0.11920292202211755, 0.3775406687981454, 0.5, 0.6224593312018546,
                             0.9525741268224334});
  Tensor p = from_vector({0.25, 1, 4, 9}, {4}, DType::F64);
  expect_values(log(p), {std::log(0.25), 0, std::log(4.0), std::log(9.0)});
  expect_values(sqrt(p), {0.5, 1, 2, 3});
  expect_values(pow(p, 2.0), {0.0625, 1, 16, 81});
  expect_values(pow(p, 0.5), {0.5, 1, 2, 3});
  expect_values(pow(p, -1.5), {8, 1, 0.125, 1.0 / 27});
  expect_values(pow(p, 0.0), {1, 1, 1, 1});
  expect_values(clamp(x, -1, 1), {-1, -0.5, 0, 0.5, 1});
  double inf = std::numeric_limits<double>::infinity();
  expect_values(clamp(x, 0, inf), {0, 0, 0, 0.5, 3});
  expect_values(clamp(x, -inf, 0.25), {-2, -0.5, 0, 0.25, 0.25});
  // float32 path and a size above the OpenMP threshold.
  Tensor big = full({70001}, 0.5, DType::F32);
  std::vector<double> e = exp(big).to_vector();
  EXPECT_NEAR(e.front(), std::exp(0.5), 1e-6);
  EXPECT_NEAR(e.back(), std::exp(0.5), 1e-6);
}

TEST(ElementwiseUnary, SigmoidIsStableForLargeInputs) {
  Tensor x = from_vector({-1000, -50, 50, 1000}, {4}, DType::F32);
  std::vector<double> y = sigmoid(x).to_vector();
  EXPECT_EQ(y[0], 0.0);
  EXPECT_NEAR(y[1], 1.9287498479639178e-22, 1e-27);  // e^-50 / (1 + e^-50)
  EXPECT_EQ(y[2], 1.0);
  EXPECT_EQ(y[3], 1.0);
}

TEST(ElementwiseUnary, GradcheckEveryOp) {
  std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> any_sign = {
      {"neg", [](const Tensor& t) { return neg(t); }},
      {"exp", [](const Tensor& t) { return exp(t); }},
      {"abs", [](const Tensor& t) { return abs(t); }},
      {"relu", [](const Tensor& t) { return relu(t); }},
      {"sigmoid", [](const Tensor& t) { return sigmoid(t); }},
      {"tanh", [](const Tensor& t) { return tanh(t); }},
      {"pow2", [](const Tensor& t) { return pow(t, 2.0); }},
      {"pow3", [](const Tensor& t) { return pow(t, 3.0); }},
      {"clamp", [](const Tensor& t) { return clamp(t, -0.7, 0.9); }},
  };
  std::vector<std::pair<const char*, std::function<Tensor(const Tensor&)>>> positive = {
      {"log", [](const Tensor& t) { return log(t); }},
      {"sqrt", [](const Tensor& t) { return sqrt(t); }},
      {"pow0.5", [](const Tensor& t) { return pow(t, 0.5); }},
      {"pow-1.5", [](const Tensor& t) { return pow(t, -1.5); }},
      {"pow2.7", [](const Tensor& t) { return pow(t, 2.7); }},
      {"pow0", [](const Tensor& t) { return pow(t, 0.0); }},
  };
  uint64_t seed = 400;
  for (const Shape& s : {Shape{3, 4}, Shape{7}, Shape{}}) {
    for (auto& [name, f] : any_sign) {
      SCOPED_TRACE(std::string(name) + " " + shape_str(s));
      // randn values sit ~1e-2 or more from the kinks at 0, -0.7 and 0.9.
      expect_grad_ok([f = f](const std::vector<Tensor>& in) { return f(in[0]); }, {leaf(s, seed++)});
      // Same op on a transposed view.
      if (s.size() == 2)
        expect_grad_ok([f = f](const std::vector<Tensor>& in) { return f(in[0].transpose(0, 1)); },
                       {leaf(s, seed++)});
    }
    for (auto& [name, f] : positive) {
      SCOPED_TRACE(std::string(name) + " " + shape_str(s));
      expect_grad_ok([f = f](const std::vector<Tensor>& in) { return f(in[0]); }, {pos_leaf(s, seed++)});
    }
  }
}

TEST(ElementwiseUnary, ClampGradientAtBoundaries) {
  // PyTorch: gradient 1 for lo <= x <= hi, boundaries included; 0 outside.
  Tensor x = from_vector({-1, 0, 0.5, 1, 2}, {5}, DType::F64).set_requires_grad();
  clamp(x, 0, 1).backward(from_vector({1, 2, 3, 4, 5}, {5}, DType::F64));
  expect_values(x.grad(), {0, 2, 3, 4, 0});
  double inf = std::numeric_limits<double>::infinity();
  Tensor y = from_vector({-1, 0, 2}, {3}, DType::F64).set_requires_grad();
  clamp(y, 0, inf).backward(ones({3}, DType::F64));
  expect_values(y.grad(), {0, 1, 1});
}

TEST(ElementwiseUnary, KinkGradientsMatchPyTorch) {
  // relu'(0) = 0, |x|'(0) = 0, d/dx x^0 = 0 at 0 (PyTorch 1.13).
  Tensor x = from_vector({0, 0}, {2}, DType::F64).set_requires_grad();
  (relu(x) + abs(x) + pow(x, 0.0)).backward(ones({2}, DType::F64));
  expect_values(x.grad(), {0, 0});
}

TEST(ElementwiseWhere, ForwardAndGradientRouting) {
  Tensor c = from_vector({1, 0, 1, 0, 0, 1}, {2, 3}, DType::U8);
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::F64).set_requires_grad();
  Tensor b = from_vector({-1, -2, -3}, {3}, DType::F64).set_requires_grad();
  Tensor y = where(c, a, b);
  expect_values(y, {1, -2, 3, -1, -2, 6});
  y.backward(from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::F64));
  expect_values(a.grad(), {1, 0, 3, 0, 0, 6});
  expect_values(b.grad(), {4, 7, 0});  // column sums of the gradient where cond is false
  // Integer operands, scalar branch.
  Tensor li = from_vector({5, 6, 7}, {3}, DType::I64);
  expect_values(where(from_vector({0, 1, 0}, {3}, DType::U8), li, scalar_tensor(-1, DType::I64)),
                {-1, 6, -1});
}

TEST(ElementwiseWhere, GradcheckBroadcast) {
  Generator g(500);
  Tensor c = bernoulli({2, 3, 1}, 0.5, DType::U8, &g);
  expect_grad_ok([c](const std::vector<Tensor>& in) { return where(c, in[0], in[1]); },
                 {leaf({3, 4}, 501), leaf({}, 502)});
  expect_grad_ok([c](const std::vector<Tensor>& in) { return where(c, in[0], in[1]); },
                 {leaf({2, 3, 4}, 503), leaf({4}, 504)});
  Tensor ct = bernoulli({4, 3}, 0.5, DType::U8, &g).transpose(0, 1);
  expect_grad_ok([ct](const std::vector<Tensor>& in) { return where(ct, in[0], in[1]); },
                 {leaf({3, 4}, 505), leaf({3, 1}, 506)});
}

TEST(ElementwiseCompare, ValuesAndDTypes) {
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::F32);
  Tensor b = from_vector({2, 2, 2}, {3}, DType::F32);
  Tensor g = gt(a, b);
  EXPECT_EQ(g.dtype(), DType::U8);
  EXPECT_FALSE(g.requires_grad());
  expect_values(g, {0, 0, 1, 1, 1, 1});
  expect_values(lt(a, b), {1, 0, 0, 0, 0, 0});
  expect_values(ge(a, b), {0, 1, 1, 1, 1, 1});
  expect_values(le(a, b), {1, 1, 0, 0, 0, 0});
  expect_values(eq(a, b), {0, 1, 0, 0, 0, 0});
  expect_values(gt(a, 3.5), {0, 0, 0, 1, 1, 1});
  expect_values(lt(a, 3.5), {1, 1, 1, 0, 0, 0});
  expect_values(ge(a, 3.0), {0, 0, 1, 1, 1, 1});
  expect_values(le(a, 3.0), {1, 1, 1, 0, 0, 0});
  expect_values(eq(a, 5.0), {0, 0, 0, 0, 1, 0});
  // Integer labels: exact scalars compare in int64, others in float64.
  Tensor lab = from_vector({0, 1, 2}, {3}, DType::I64);
  expect_values(eq(lab, from_vector({0, 0, 2}, {3}, DType::I64)), {1, 0, 1});
  expect_values(gt(lab, 0.5), {0, 1, 1});
  expect_values(eq(lab, 1.0), {0, 1, 0});
  expect_values(lt(lab, 9.3e18), {1, 1, 1});  // beyond int64: compared in float64
  expect_values(gt(from_vector({0, 200, 255}, {3}, DType::U8), 255.5), {0, 0, 0});
  expect_values(ge(from_vector({0, 200, 255}, {3}, DType::U8), 200.0), {0, 1, 1});
  // NaN compares false, even to itself.
  Tensor n = from_vector({std::nan("")}, {1}, DType::F64);
  expect_values(eq(n, n), {0});
  // Grad-requiring inputs give a result without a graph.
  EXPECT_FALSE(gt(leaf({3}, 1), 0.0).requires_grad());
}

TEST(ElementwiseInPlace, AddAndScale) {
  Tensor d = from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::F64);
  add_(d, from_vector({10, 20, 30}, {3}, DType::F64), 0.5);
  expect_values(d, {6, 12, 18, 9, 15, 21});
  add_(d, scalar_tensor(1.0, DType::F64));
  expect_values(d, {7, 13, 19, 10, 16, 22});
  mul_(d, 2.0);
  expect_values(d, {14, 26, 38, 20, 32, 44});
  // Non-contiguous destination: writes go through the view into d.
  Tensor dt = d.transpose(0, 1);  // [3, 2]
  add_(dt, from_vector({1, 2}, {2}, DType::F64), -1.0);
  expect_values(d, {13, 25, 37, 18, 30, 42});
  mul_(dt.select(0, 0), 0.0);
  expect_values(d, {0, 25, 37, 0, 30, 42});
  // A leaf that requires grad: no graph is recorded.
  Tensor p = leaf({3}, 7);
  add_(p, ones({3}, DType::F64));
  EXPECT_TRUE(p.is_leaf());
  // Large float32 buffer (parallel path).
  Tensor big = zeros({100003}, DType::F32);
  add_(big, ones({100003}, DType::F32), 3.0);
  std::vector<double> v = big.to_vector();
  EXPECT_EQ(v.front(), 3.0);
  EXPECT_EQ(v.back(), 3.0);
}

TEST(ElementwiseErrors, MessagesNameOpAndShapes) {
  Tensor a = zeros({2, 3}), b = zeros({4});
  try {
    add(a, b);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("add"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4]"), std::string::npos) << m;
  }
  try {
    mul(zeros({3}), zeros({3}, DType::F64));
    FAIL() << "expected DTypeError";
  } catch (const DTypeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("mul"), std::string::npos) << m;
    EXPECT_NE(m.find("float32"), std::string::npos) << m;
    EXPECT_NE(m.find("float64"), std::string::npos) << m;
  }
  EXPECT_THROW(add(zeros({3}, DType::I64), zeros({3}, DType::I64)), DTypeError);
  EXPECT_THROW(exp(zeros({3}, DType::U8)), DTypeError);
  EXPECT_THROW(where(zeros({3}), zeros({3}), zeros({3})), DTypeError);
  EXPECT_THROW(where(zeros({3}, DType::U8), zeros({3}), zeros({3}, DType::F64)), DTypeError);
  EXPECT_THROW(where(zeros({2}, DType::U8), zeros({3}), zeros({3})), ShapeError);
  EXPECT_THROW(gt(zeros({3}), zeros({3}, DType::I64)), DTypeError);
  EXPECT_THROW(eq(zeros({2}), zeros({3})), ShapeError);
  EXPECT_THROW(clamp(zeros({3}), 1.0, 0.0), ValueError);
  try {
    add_(zeros({3}), zeros({2, 3}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[3]"), std::string::npos) << m;
  }
  EXPECT_THROW(add_(zeros({3}), zeros({3}, DType::F64)), DTypeError);
  Tensor expanded = zeros({3}).expand({2, 3});
  EXPECT_THROW(add_(expanded, ones({2, 3})), ValueError);
  EXPECT_THROW(mul_(expanded, 2.0), ValueError);
}
