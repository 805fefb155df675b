// CUDA elementwise ops against the CPU reference (kernels/cuda/elementwise.cu
// vs kernels/cpu/elementwise.cpp), forward and backward through autograd:
// every binary op and its scalar forms, every unary op, compare and where in
// every dtype, add_ / mul_ on strided views. Layouts are picked to reach
// each kernel path: same-shape contiguous (vectorised flat path, and its
// one-element-at-a-time form on a misaligned view), scalar operands (flat
// path with a broadcast operand), and broadcast / permuted / sliced views
// (strided path), at sizes that are not multiples of the block or vector
// size (1, 37, 1000003). Float tolerance: 1e-5 relative with a 1e-6
// absolute floor (inputs are O(1)); integer and uint8 results exact.
// Every test skips without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "tests/cuda_util.h"
#include "tests/test_util.h"

namespace sirs {
namespace {

using test::expect_error;
using test::expect_parity;
using test::randn32;
using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

constexpr double kRtol = 1e-5;
constexpr double kAtol = 1e-6;
// sigmoid' = y(1-y) and tanh' = 1-y^2 cancel where y saturates near 1: a
// difference of k ulp between CUDA's and glibc's expf/tanhf in y (k <= ~3
// from their documented error bounds) becomes about 2k * 6e-8 * |dout| of
// absolute error in the gradient, and |dout| reaches ~5 over 10^6 normal
// draws: up to ~2e-6. 5e-6 leaves room; the relative bound is unchanged.
constexpr double kSaturatingAtol = 5e-6;
constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

const std::vector<int64_t> kOddSizes = {1, 37, 1000003};

// float32 values in [0.5, 2): inside the domain of log, sqrt, fractional
// and negative powers, and safe divisors.
Tensor pos32(const Shape& s, uint64_t seed, bool grad = true) {
  Generator g(seed);
  Tensor t = uniform(s, 0.5, 2.0, DType::F32, &g);
  if (grad) t.set_requires_grad();
  return t;
}

// Small integers in [lo, hi) (ties likely, so eq/ge/le are all exercised)
// in `dtype`.
Tensor ints(const Shape& s, int64_t lo, int64_t hi, DType dtype, uint64_t seed) {
  Generator g(seed);
  return randint(lo, hi, s, Options(DType::I64), &g).to(dtype);
}

Tensor mask(const Shape& s, uint64_t seed) { return gt(randn32(s, seed, false), 0.0); }

struct BinaryCase {
  const char* name;
  std::function<Tensor(const Tensor&, const Tensor&)> f;
  bool positive_b;  // b is a divisor
};

const std::vector<BinaryCase>& binary_cases() {
  static const std::vector<BinaryCase> cases = {
      {"add", [](const Tensor& a, const Tensor& b) { return add(a, b); }, false},
      {"sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); }, false},
      {"mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); }, false},
      {"div", [](const Tensor& a, const Tensor& b) { return div(a, b); }, true},
  };
  return cases;
}

struct UnaryCase {
  std::string name;
  std::function<Tensor(const Tensor&)> f;
  bool positive;  // input kept in (0.5, 2)
  double atol;
};

std::vector<UnaryCase> unary_cases() {
  return {
      {"neg", [](const Tensor& x) { return neg(x); }, false, kAtol},
      {"exp", [](const Tensor& x) { return exp(x); }, false, kAtol},
      {"log", [](const Tensor& x) { return log(x); }, true, kAtol},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, true, kAtol},
      {"abs", [](const Tensor& x) { return abs(x); }, false, kAtol},
      {"relu", [](const Tensor& x) { return relu(x); }, false, kAtol},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, false, kSaturatingAtol},
      {"tanh", [](const Tensor& x) { return tanh(x); }, false, kSaturatingAtol},
      {"pow2", [](const Tensor& x) { return pow(x, 2.0); }, false, kAtol},
      {"pow3", [](const Tensor& x) { return pow(x, 3.0); }, false, kAtol},
      {"pow0", [](const Tensor& x) { return pow(x, 0.0); }, false, kAtol},
      {"pow1.7", [](const Tensor& x) { return pow(x, 1.7); }, true, kAtol},
      {"pow0.5", [](const Tensor& x) { return pow(x, 0.5); }, true, kAtol},
      {"pow-1.5", [](const Tensor& x) { return pow(x, -1.5); }, true, kAtol},
      {"clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.7); }, false, kAtol},
      {"clamp_lo_open", [](const Tensor& x) { return clamp(x, -kInf, 0.3); }, false, kAtol},
      {"clamp_hi_open", [](const Tensor& x) { return clamp(x, 0.2, kInf); }, false, kAtol},
  };
}

std::string sz(int64_t n) { return " n=" + std::to_string(n); }

// ------------------------------------------------------------ binary

TEST(CudaElementwise, BinarySameShapeOddSizes) {
  SIRS_REQUIRE_CUDA();
  for (int64_t n : kOddSizes)
    for (const BinaryCase& c : binary_cases()) {
      Tensor a = randn32({n}, 10 + n), b = c.positive_b ? pos32({n}, 20 + n) : randn32({n}, 20 + n);
      expect_parity(
          c.name + sz(n), [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); }, {a, b},
          kRtol, kAtol);
    }
}

TEST(CudaElementwise, BinaryTwoDimsContiguous) {
  SIRS_REQUIRE_CUDA();
  // [37, 33] same shape: coalesces to one dim of 1221.
  for (const BinaryCase& c : binary_cases()) {
    Tensor a = randn32({37, 33}, 1), b = c.positive_b ? pos32({37, 33}, 2) : randn32({37, 33}, 2);
    expect_parity(
        std::string(c.name) + " [37,33]",
        [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); }, {a, b}, kRtol, kAtol);
  }
}

TEST(CudaElementwise, BinaryBroadcast) {
  SIRS_REQUIRE_CUDA();
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{3, 1, 5}, {4, 5}},  // both broadcast: [3, 4, 5]
      {{4, 5}, {3, 1, 5}},
      {{2, 3, 4}, {}},  // 0-d operand: the flat path's scalar form
      {{}, {2, 3, 4}},
      {{37, 33}, {33}},           // bias row
      {{37, 33}, {37, 1}},        // column
      {{2, 1, 4, 1}, {3, 1, 5}},  // [2, 3, 4, 5]
      {{1000003}, {1}},           // size-1 dim, large
      {{1}, {1}},
  };
  uint64_t seed = 100;
  for (const auto& [sa, sb] : shapes)
    for (const BinaryCase& c : binary_cases()) {
      Tensor a = randn32(sa, ++seed), b = c.positive_b ? pos32(sb, ++seed) : randn32(sb, ++seed);
      expect_parity(
          std::string(c.name) + " " + shape_str(sa) + " " + shape_str(sb),
          [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); }, {a, b}, kRtol, kAtol);
    }
}

// The row path: innermost dim >= 32, contiguous in the output and contiguous
// or broadcast in each input; vector loads when every row start is aligned.
TEST(CudaElementwise, BinaryRowPath) {
  SIRS_REQUIRE_CUDA();
  const std::vector<std::pair<Shape, Shape>> shapes = {
      {{4, 3, 37, 41}, {3, 1, 1}},  // per-channel bias, odd rows: scalar loads
      {{2, 5, 64}, {5, 1}},         // broadcast inner, vector loads
      {{6, 64}, {64}},              // both contiguous inner, b's rows repeat (stride 0)
      {{8, 1, 96}, {8, 7, 1}},      // a repeats over the middle dim, b broadcast inner
      {{3, 33}, {3, 33}},           // same shape 2-d (coalesces to flat) for contrast
      {{2, 4, 112, 112}, {4, 1, 1}},  // a ResNet stem bias: 3136 vectors per row
      {{2, 3, 9000}, {3, 1}},         // 2 blocks per row, a second unrolled round
      {{2, 3, 8999}, {3, 1}},         // the same in scalar loads: 8 blocks per row
  };
  uint64_t seed = 500;
  for (const auto& [sa, sb] : shapes)
    for (const BinaryCase& c : binary_cases()) {
      Tensor a = randn32(sa, ++seed), b = c.positive_b ? pos32(sb, ++seed) : randn32(sb, ++seed);
      expect_parity(
          std::string("rows ") + c.name + " " + shape_str(sa) + " " + shape_str(sb),
          [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); }, {a, b}, kRtol, kAtol);
    }
  // A sliced input: contiguous rows of 64 at an odd row pitch (70), so the
  // vector path must fall back to scalar loads.
  Tensor x = randn32({2, 3, 70}, 601), y = randn32({3, 1}, 602);
  expect_parity(
      "rows sliced",
      [](const std::vector<Tensor>& in) { return mul(in[0].narrow(2, 3, 64), in[1]); }, {x, y},
      kRtol, kAtol);
  // Compare (uint8 output) through the same path.
  Tensor u = randn32({4, 3, 40}, 603, false), v = randn32({3, 1}, 604, false);
  Tensor gc = gt(u.to(Device::cuda()), v.to(Device::cuda())), cc = gt(u, v);
  EXPECT_EQ(gc.to_vector(), cc.to_vector());
}

TEST(CudaElementwise, BinaryOneSideNeedsGrad) {
  SIRS_REQUIRE_CUDA();
  for (const BinaryCase& c : binary_cases()) {
    Tensor a = randn32({3, 1, 5}, 7),
           b = c.positive_b ? pos32({4, 5}, 8, false) : randn32({4, 5}, 8, false);
    expect_parity(
        std::string(c.name) + " only a",
        [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); }, {a, b}, kRtol, kAtol);
    Tensor a2 = randn32({3, 1, 5}, 9, false),
           b2 = c.positive_b ? pos32({4, 5}, 10) : randn32({4, 5}, 10);
    expect_parity(
        std::string(c.name) + " only b",
        [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); }, {a2, b2}, kRtol, kAtol);
  }
}

TEST(CudaElementwise, ScalarForms) {
  SIRS_REQUIRE_CUDA();
  const std::vector<std::pair<std::string, std::function<Tensor(const Tensor&)>>> fns = {
      {"add(a, 0.5)", [](const Tensor& a) { return add(a, 0.5); }},
      {"sub(a, 1.25)", [](const Tensor& a) { return sub(a, 1.25); }},
      {"mul(a, -3)", [](const Tensor& a) { return mul(a, -3.0); }},
      {"div(a, 4)", [](const Tensor& a) { return div(a, 4.0); }},
      {"rsub(2, a)", [](const Tensor& a) { return rsub(2.0, a); }},
      {"rdiv(3, a)", [](const Tensor& a) { return rdiv(3.0, a); }},
      {"2 + a", [](const Tensor& a) { return 2.0 + a; }},
      {"a - 1", [](const Tensor& a) { return a - 1.0; }},
      {"1 - a", [](const Tensor& a) { return 1.0 - a; }},
      {"2 * a", [](const Tensor& a) { return 2.0 * a; }},
      {"a / 3", [](const Tensor& a) { return a / 3.0; }},
      {"1 / a", [](const Tensor& a) { return 1.0 / a; }},
      {"-a", [](const Tensor& a) { return -a; }},
  };
  for (int64_t n : kOddSizes)
    for (const auto& [name, f] : fns) {
      Tensor a = pos32({n}, 30 + n);  // positive: rdiv and 1 / a divide by it
      expect_parity(
          name + sz(n), [&](const std::vector<Tensor>& in) { return f(in[0]); }, {a}, kRtol, kAtol);
    }
  // A scalar form on a [7, 37] operand, and on a 0-d operand.
  Tensor m = randn32({7, 37}, 3), s = randn32({}, 4);
  expect_parity(
      "[7,37] * 0.3 - 1", [](const std::vector<Tensor>& in) { return in[0] * 0.3 - 1.0; }, {m},
      kRtol, kAtol);
  expect_parity(
      "0-d + 1", [](const std::vector<Tensor>& in) { return in[0] + 1.0; }, {s}, kRtol, kAtol);
}

TEST(CudaElementwise, BinaryNonContiguous) {
  SIRS_REQUIRE_CUDA();
  for (const BinaryCase& c : binary_cases()) {
    std::string name = c.name;
    // Permuted [4, 6, 5] -> [5, 4, 6] against a slice with step 2 of [5, 4, 12].
    Tensor a = randn32({4, 6, 5}, 40),
           b = c.positive_b ? pos32({5, 4, 12}, 41) : randn32({5, 4, 12}, 41);
    expect_parity(
        name + " permuted x stepped",
        [&](const std::vector<Tensor>& in) {
          return c.f(in[0].permute({2, 0, 1}), in[1].slice(2, 0, 12, 2));
        },
        {a, b}, kRtol, kAtol);
    // Transposed against a broadcast row.
    Tensor t = randn32({33, 37}, 42), r = c.positive_b ? pos32({33}, 43) : randn32({33}, 43);
    expect_parity(
        name + " transposed x row",
        [&](const std::vector<Tensor>& in) { return c.f(in[0].transpose(0, 1), in[1]); }, {t, r},
        kRtol, kAtol);
    // Both transposed: the output is row-major, the operands column-major,
    // so nothing merges: the strided path over two dims.
    Tensor p = randn32({37, 33}, 44),
           q = c.positive_b ? pos32({37, 33}, 45) : randn32({37, 33}, 45);
    expect_parity(
        name + " both transposed",
        [&](const std::vector<Tensor>& in) {
          return c.f(in[0].transpose(0, 1), in[1].transpose(0, 1));
        },
        {p, q}, kRtol, kAtol);
    // Views that start one element in: contiguous but not 16-byte aligned,
    // so the flat path runs with one element per step; odd length.
    Tensor u = randn32({1000004}, 46),
           v = c.positive_b ? pos32({1000006}, 47) : randn32({1000006}, 47);
    expect_parity(
        name + " misaligned",
        [&](const std::vector<Tensor>& in) {
          return c.f(in[0].narrow(0, 1, 1000003), in[1].narrow(0, 3, 1000003));
        },
        {u, v}, kRtol, kAtol);
  }
}

TEST(CudaElementwise, ManyDimsCoalesce) {
  SIRS_REQUIRE_CUDA();
  // Ten dims, all contiguous: one dim after coalescing, above the 8-dim
  // limit of a packed view before it.
  Shape ten(10, 2);
  expect_parity(
      "10-d add", [](const std::vector<Tensor>& in) { return in[0] + in[1]; },
      {randn32(ten, 50), randn32(ten, 51)}, kRtol, kAtol);
  // Ten dims + a row: two dims after coalescing.
  Shape ten_row(9, 2);
  ten_row.push_back(3);
  expect_parity(
      "10-d + row", [](const std::vector<Tensor>& in) { return in[0] * in[1]; },
      {randn32(ten_row, 52), randn32({3}, 53)}, kRtol, kAtol);
  // Nine dims that cannot merge: refused with the limit named, not run wrong.
  Tensor a = randn32({2, 1, 2, 1, 2, 1, 2, 1, 2}, 54, false).to(Device::cuda());
  Tensor b = randn32({1, 2, 1, 2, 1, 2, 1, 2, 1}, 55, false).to(Device::cuda());
  expect_error<ShapeError>([&] { add(a, b); }, {"at most 8 dims"});
}

TEST(CudaElementwise, ZeroElements) {
  SIRS_REQUIRE_CUDA();
  expect_parity(
      "[0,3] + [3]", [](const std::vector<Tensor>& in) { return in[0] + in[1]; },
      {randn32({0, 3}, 1, false), randn32({3}, 2, false)}, kRtol, kAtol);
  expect_parity(
      "exp [0]", [](const std::vector<Tensor>& in) { return exp(in[0]); }, {randn32({0}, 1, false)},
      kRtol, kAtol);
}

// ------------------------------------------------------------ unary

TEST(CudaElementwise, UnarySmallSizes) {
  SIRS_REQUIRE_CUDA();
  for (int64_t n : {int64_t{1}, int64_t{3}, int64_t{37}, int64_t{257}})
    for (const UnaryCase& c : unary_cases()) {
      Tensor x = c.positive ? pos32({n}, 60 + n) : randn32({n}, 60 + n);
      expect_parity(
          c.name + sz(n), [&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x}, kRtol,
          c.atol);
    }
}

TEST(CudaElementwise, UnaryLarge) {
  SIRS_REQUIRE_CUDA();
  const int64_t n = 1000003;
  for (const UnaryCase& c : unary_cases()) {
    Tensor x = c.positive ? pos32({n}, 70) : randn32({n}, 70);
    expect_parity(
        c.name + sz(n), [&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x}, kRtol,
        c.atol);
  }
}

TEST(CudaElementwise, UnaryNonContiguousAndMisaligned) {
  SIRS_REQUIRE_CUDA();
  for (const UnaryCase& c : unary_cases()) {
    Tensor x = c.positive ? pos32({33, 37}, 80) : randn32({33, 37}, 80);
    expect_parity(
        c.name + " transposed",
        [&](const std::vector<Tensor>& in) { return c.f(in[0].transpose(0, 1)); }, {x}, kRtol,
        c.atol);
    Tensor y = c.positive ? pos32({4, 6, 5}, 81) : randn32({4, 6, 5}, 81);
    expect_parity(
        c.name + " permuted slice",
        [&](const std::vector<Tensor>& in) {
          return c.f(in[0].permute({2, 0, 1}).slice(2, 1, 6, 2));
        },
        {y}, kRtol, c.atol);
    // A contiguous view one element in: read in place (no copy), misaligned
    // for 16-byte vectors.
    Tensor z = c.positive ? pos32({100004}, 82) : randn32({100004}, 82);
    expect_parity(
        c.name + " misaligned",
        [&](const std::vector<Tensor>& in) { return c.f(in[0].narrow(0, 1, 100003)); }, {z}, kRtol,
        c.atol);
  }
}

TEST(CudaElementwise, UnaryFloat64) {
  SIRS_REQUIRE_CUDA();
  for (int64_t n : {int64_t{37}, int64_t{100003}})
    for (const UnaryCase& c : unary_cases()) {
      Tensor x = (c.positive ? pos32({n}, 90, false) : randn32({n}, 90, false)).to(DType::F64);
      x.set_requires_grad();
      expect_parity(
          c.name + " f64" + sz(n), [&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x},
          1e-12, 1e-13);
    }
}

TEST(CudaElementwise, BinaryFloat64) {
  SIRS_REQUIRE_CUDA();
  for (const BinaryCase& c : binary_cases()) {
    Tensor a = randn32({37, 33}, 91, false).to(DType::F64).set_requires_grad();
    Tensor b = (c.positive_b ? pos32({33}, 92, false) : randn32({33}, 92, false)).to(DType::F64);
    b.set_requires_grad();
    Tensor u = randn32({100003}, 93, false).to(DType::F64).set_requires_grad();
    Tensor v =
        (c.positive_b ? pos32({100003}, 94, false) : randn32({100003}, 94, false)).to(DType::F64);
    v.set_requires_grad();
    auto f = [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); };
    expect_parity(std::string(c.name) + " f64 row", f, {a, b}, 1e-12, 1e-13);
    expect_parity(std::string(c.name) + " f64 flat", f, {u, v}, 1e-12, 1e-13);
  }
}

// NaN, infinities, zeros and clamp boundaries: values and derivative masks
// as the CPU (relu, abs and clamp send NaN to 0 in the gradient, clamp keeps
// it in the value; abs' is 0 at 0; clamp' is 1 on both boundaries).
TEST(CudaElementwise, SpecialValues) {
  SIRS_REQUIRE_CUDA();
  std::vector<double> v = {kNaN, kInf, -kInf, 0.0, -0.0, 1.5, -2.0, 0.7, -0.5, 1e-30, 90.0, -90.0};
  for (const UnaryCase& c : unary_cases()) {
    Tensor x = from_vector(v, {static_cast<int64_t>(v.size())}, DType::F32).set_requires_grad();
    expect_parity(
        c.name + " special", [&](const std::vector<Tensor>& in) { return c.f(in[0]); }, {x}, kRtol,
        kAtol);
  }
  Tensor a = from_vector(v, {static_cast<int64_t>(v.size())}, DType::F32).set_requires_grad();
  Tensor b = from_vector({0.0, 0.0, kInf, -0.0, 0.0, kNaN, 2.0, 0.7, 3.0, 0.0, -1.0, kInf},
                         {static_cast<int64_t>(v.size())}, DType::F32)
                 .set_requires_grad();
  for (const BinaryCase& c : binary_cases())
    expect_parity(
        std::string(c.name) + " special",
        [&](const std::vector<Tensor>& in) { return c.f(in[0], in[1]); }, {a, b}, kRtol, kAtol);
  for (const auto& [name, f] :
       std::vector<std::pair<std::string, std::function<Tensor(const Tensor&, const Tensor&)>>>{
           {"gt", [](const Tensor&p, const Tensor&q) { return gt(p, q); }},
           {"lt", [](const Tensor&p, const Tensor&q) { return lt(p, q); }},
           {"ge", [](const Tensor&p, const Tensor&q) { return ge(p, q); }},
           {"le", [](const Tensor&p, const Tensor&q) { return le(p, q); }},
           {"eq", [](const Tensor&p, const Tensor&q) { return eq(p, q); }}})
    expect_parity(
        name + " special", [&](const std::vector<Tensor>& in) { return f(in[0], in[1]); },
        {a.detach(), b.detach()}, 0, 0);
}

// ------------------------------------------------------------ compare, where

const std::vector<DType> kAllDtypes = {DType::F32, DType::F64, DType::I64, DType::I32, DType::U8};

TEST(CudaElementwise, CompareEveryDtype) {
  SIRS_REQUIRE_CUDA();
  using Cmp = Tensor (*)(const Tensor&, const Tensor&);
  using CmpS = Tensor (*)(const Tensor&, double);
  const std::vector<std::pair<std::string, Cmp>> ops = {
      {"gt", gt}, {"lt", lt}, {"ge", ge}, {"le", le}, {"eq", eq}};
  const std::vector<std::pair<std::string, CmpS>> sops = {
      {"gt", gt}, {"lt", lt}, {"ge", ge}, {"le", le}, {"eq", eq}};
  for (DType dt : kAllDtypes) {
    std::string d = std::string(" ") + dtype_name(dt);
    Tensor a = ints({3, 1, 5}, 0, 5, dt, 1), b = ints({4, 5}, 0, 5, dt, 2);
    Tensor u = ints({100003}, 0, 5, dt, 3), v = ints({100003}, 0, 5, dt, 4);
    Tensor p = ints({33, 37}, 0, 5, dt, 5), s = ints({}, 0, 5, dt, 6);
    for (const auto& [name, f] : ops) {
      expect_parity(
          name + d + " broadcast", [&](const std::vector<Tensor>& in) { return f(in[0], in[1]); },
          {a, b}, 0, 0);
      expect_parity(
          name + d + " flat", [&](const std::vector<Tensor>& in) { return f(in[0], in[1]); },
          {u, v}, 0, 0);
      expect_parity(
          name + d + " misaligned",
          [&](const std::vector<Tensor>& in) {
            return f(in[0].narrow(0, 1, 99999), in[1].narrow(0, 0, 99999));
          },
          {u, v}, 0, 0);
      expect_parity(
          name + d + " transposed x 0-d",
          [&](const std::vector<Tensor>& in) { return f(in[0].transpose(0, 1), in[1]); }, {p, s}, 0,
          0);
    }
    for (const auto& [name, f] : sops) {
      // 2 is exact in every dtype; 2.5 is not for the integers (compared in
      // float64); -1 is outside uint8.
      for (double c : {2.0, 2.5, -1.0})
        expect_parity(
            name + d + " scalar " + std::to_string(c),
            [&](const std::vector<Tensor>& in) { return f(in[0], c); }, {u}, 0, 0);
    }
  }
}

TEST(CudaElementwise, WhereEveryDtype) {
  SIRS_REQUIRE_CUDA();
  for (DType dt : kAllDtypes) {
    std::string d = std::string(" ") + dtype_name(dt);
    // Large int64 values, exact through to_vector's doubles (below 2^53).
    int64_t lo = dt == DType::U8 ? 0 : -1000, hi = dt == DType::U8 ? 256 : 1000;
    if (dt == DType::I64 || dt == DType::I32) lo = -2'000'000'000, hi = 2'000'000'000;
    Tensor c3 = mask({3, 1, 5}, 1), a = ints({4, 5}, lo, hi, dt, 2), s = ints({}, lo, hi, dt, 3);
    auto w = [](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); };
    expect_parity("where" + d + " broadcast, 0-d b", w, {c3, a, s}, 0, 0);
    expect_parity("where" + d + " 0-d a", w, {c3, s, a}, 0, 0);
    Tensor cn = mask({100003}, 4), u = ints({100003}, lo, hi, dt, 5),
           v = ints({100003}, lo, hi, dt, 6);
    expect_parity("where" + d + " flat", w, {cn, u, v}, 0, 0);
    expect_parity(
        "where" + d + " misaligned",
        [](const std::vector<Tensor>& in) {
          return where(in[0].narrow(0, 1, 100001), in[1].narrow(0, 2, 100001),
                       in[2].narrow(0, 0, 100001));
        },
        {cn, u, v}, 0, 0);
    Tensor ct = mask({37, 33}, 7), p = ints({33, 37}, lo, hi, dt, 8), q = ints({33}, lo, hi, dt, 9);
    expect_parity(
        "where" + d + " transposed",
        [](const std::vector<Tensor>& in) {
          return where(in[0].transpose(0, 1), in[1], in[2].unsqueeze(1));
        },
        {ct, p, q}, 0, 0);
    // 0-d condition.
    expect_parity("where" + d + " 0-d cond", w, {mask({}, 10), u, v}, 0, 0);
  }
}

TEST(CudaElementwise, WhereGradients) {
  SIRS_REQUIRE_CUDA();
  auto w = [](const std::vector<Tensor>& in) { return where(in[0], in[1], in[2]); };
  expect_parity("where grad broadcast", w, {mask({3, 1, 5}, 1), randn32({4, 5}, 2), randn32({}, 3)},
                kRtol, kAtol);
  expect_parity("where grad flat", w,
                {mask({1000003}, 4), randn32({1000003}, 5), randn32({1000003}, 6)}, kRtol, kAtol);
  expect_parity("where grad only b", w, {mask({37}, 7), randn32({37}, 8, false), randn32({37}, 9)},
                kRtol, kAtol);
}

// ------------------------------------------------------------ in place

// op applied to a CPU tensor and a CUDA copy; the whole base tensors must
// agree afterwards (so elements outside a view must be untouched too).
void expect_inplace_parity(const std::string& what, const Tensor& base,
                           const std::function<void(const Tensor&, Device)>& op, double rtol,
                           double atol) {
  Tensor c = base.detach().clone(), g = base.detach().to(Device::cuda());
  op(c, Device::cpu());
  op(g, Device::cuda());
  ASSERT_TRUE(g.device().is_cuda());
  test::expect_close_to(g, c, rtol, atol, what);
}

TEST(CudaElementwise, AddInplace) {
  SIRS_REQUIRE_CUDA();
  NoGradGuard no_grad;
  Tensor row = randn32({6}, 1, false), big = randn32({1000003}, 2, false);
  Tensor scalar = randn32({}, 3, false), odd = randn32({1000003}, 4, false);
  // Strided destination (transposed stepped slice) += broadcast row.
  expect_inplace_parity(
      "add_ strided dst, row src", randn32({6, 9}, 5, false),
      [&](const Tensor& t, Device d) { add_(t.slice(1, 1, 9, 2).transpose(0, 1), row.to(d), 0.5); },
      kRtol, kAtol);
  // Strided destination += strided source.
  expect_inplace_parity(
      "add_ strided dst, transposed src", randn32({37, 33}, 6, false),
      [&](const Tensor& t, Device d) {
        add_(t.transpose(0, 1), randn32({37, 33}, 7, false).to(d).transpose(0, 1), -1.0);
      },
      kRtol, kAtol);
  // Contiguous, same shape (flat vectorised), odd size.
  expect_inplace_parity(
      "add_ flat", randn32({1000003}, 8, false),
      [&](const Tensor& t, Device d) { add_(t, big.to(d), -2.0); }, kRtol, kAtol);
  // 0-d source (flat, scalar operand).
  expect_inplace_parity(
      "add_ 0-d src", randn32({37}, 9, false),
      [&](const Tensor& t, Device d) { add_(t, scalar.to(d), 1.0); }, kRtol, kAtol);
  // Misaligned destination.
  expect_inplace_parity(
      "add_ misaligned", randn32({1000004}, 10, false),
      [&](const Tensor& t, Device d) { add_(t.narrow(0, 1, 1000003), odd.to(d), 0.25); }, kRtol,
      kAtol);
  // src is dst: every element doubled.
  expect_inplace_parity(
      "add_ self", randn32({257}, 11, false), [&](const Tensor& t, Device) { add_(t, t); }, kRtol,
      kAtol);
  // float64, strided.
  expect_inplace_parity(
      "add_ f64 strided", randn32({6, 9}, 12, false).to(DType::F64),
      [&](const Tensor& t, Device d) {
        add_(t.slice(0, 0, 6, 2),
             row.to(DType::F64).to(d).slice(0, 0, 3).unsqueeze(1).expand({3, 9}), 3.0);
      },
      1e-12, 1e-13);
}

TEST(CudaElementwise, MulInplace) {
  SIRS_REQUIRE_CUDA();
  NoGradGuard no_grad;
  expect_inplace_parity(
      "mul_ strided", randn32({6, 9}, 1, false),
      [](const Tensor& t, Device) { mul_(t.slice(1, 1, 9, 2).transpose(0, 1), -1.5); }, kRtol,
      kAtol);
  expect_inplace_parity(
      "mul_ flat", randn32({1000003}, 2, false), [](const Tensor& t, Device) { mul_(t, 0.3); },
      kRtol, kAtol);
  expect_inplace_parity(
      "mul_ misaligned", randn32({1000004}, 3, false),
      [](const Tensor& t, Device) { mul_(t.narrow(0, 1, 1000003), 7.0); }, kRtol, kAtol);
  expect_inplace_parity(
      "mul_ one element", randn32({1}, 4, false), [](const Tensor& t, Device) { mul_(t, 2.0); },
      kRtol, kAtol);
  expect_inplace_parity(
      "mul_ f64 permuted", randn32({4, 6, 5}, 5, false).to(DType::F64),
      [](const Tensor& t, Device) {
        mul_(t.permute({2, 0, 1}), -0.25);
      },
      1e-12, 1e-13);
}

// ------------------------------------------------------------ end to end

TEST(CudaElementwise, ComposedGraph) {
  SIRS_REQUIRE_CUDA();
  // Every op of the family in one graph, with reuse (gradient accumulation)
  // and broadcasting: x [8, 16], w [16], b 0-d.
  auto f = [](const std::vector<Tensor>& in) {
    const Tensor &x = in[0], &w = in[1], &b = in[2];
    Tensor h = x * w + b;
    Tensor s = sigmoid(h) - tanh(x) * 0.5;
    Tensor r = relu(h) + abs(x) / (1.0 + exp(-x));
    Tensor p = sqrt(abs(x) + 1.0) + log(pow(abs(h), 1.5) + 2.0) - clamp(x, -0.5, 0.5);
    Tensor q = where(gt(x, 0.0), s, r) + where(le(h, b), p, 2.0 - p);
    return rdiv(1.0, q * q + 1.0) + rsub(3.0, x / w) - neg(x);
  };
  // A chain of ~30 ops, and the gradients of w and b are sums over 8 and
  // 128 terms: a few ulp per op compound, hence 1e-4 rather than the
  // per-op 1e-5.
  expect_parity("composed", f, {randn32({8, 16}, 1), pos32({16}, 2), randn32({}, 3)}, 1e-4, 1e-5);
}

TEST(CudaElementwise, OutputsAndGradientsStayOnDevice) {
  SIRS_REQUIRE_CUDA();
  Tensor x = randn32({5, 3}, 1, false).to(Device::cuda()).set_requires_grad();
  Tensor y = where(lt(x, 0.0), exp(x) * 2.0, x - 1.0);
  EXPECT_TRUE(y.device().is_cuda());
  EXPECT_TRUE(gt(x, 0.5).device().is_cuda());
  EXPECT_EQ(gt(x, 0.5).dtype(), DType::U8);
  y.backward(ones({5, 3}, Options(DType::F32, Device::cuda())));
  ASSERT_TRUE(x.grad().defined());
  EXPECT_TRUE(x.grad().device().is_cuda());
}

TEST(CudaElementwise, MixedDevicesRefused) {
  SIRS_REQUIRE_CUDA();
  Tensor c = randn32({3}, 1, false), g = c.to(Device::cuda());
  expect_error<DeviceError>([&] { add(c, g); }, {"add", "different devices"});
  expect_error<DeviceError>([&] { gt(g, c); }, {"gt", "different devices"});
  expect_error<DeviceError>([&] { where(gt(c, 0.0), g, g); }, {"where", "different devices"});
  expect_error<DeviceError>([&] { add_(g, c); }, {"add_", "different devices"});
}

}  // namespace
}  // namespace sirs
