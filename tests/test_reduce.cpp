// Reductions: sum / mean / norm over every subset of dims against a plain
// loop oracle, keepdim shapes, non-contiguous inputs, a 1e6-element float32
// sum against a double sum, max / min / argmax indices on ties and NaN
// (PyTorch 1.13 CPU results written out), gradients by gradcheck, errors.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>

#include "autograd/elementwise.h"
#include "autograd/gradcheck.h"
#include "autograd/reduce.h"
#include "autograd/shape_ops.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

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

// Oracle: sums (of squares when sq) over the dims in mask, in double, in
// row-major order of the kept dims.
std::vector<double> reduce_ref(const Tensor& t, const std::vector<bool>& mask, bool sq) {
  const Shape& sh = t.shape();
  Shape out_sh;
  for (size_t d = 0; d < sh.size(); ++d) out_sh.push_back(mask[d] ? 1 : sh[d]);
  std::vector<double> v = t.to_vector(), out(static_cast<size_t>(shape_numel(out_sh)), 0.0);
  for (int64_t flat = 0; flat < t.numel(); ++flat) {
    int64_t rem = flat, o = 0, stride = 1;
    for (int64_t d = static_cast<int64_t>(sh.size()) - 1; d >= 0; --d) {
      int64_t i = rem % sh[d];
      rem /= sh[d];
      o += (mask[d] ? 0 : i) * stride;
      stride *= out_sh[d];
    }
    out[o] += sq ? v[flat] * v[flat] : v[flat];
  }
  return out;
}

}  // namespace

TEST(ReduceSum, HandValues) {
  Tensor a = arange(24, DType::F64).reshape({2, 3, 4});
  expect_values(sum(a), {276});
  EXPECT_EQ(sum(a).shape(), Shape{});
  expect_values(sum(a, {2}), {6, 22, 38, 54, 70, 86});
  expect_values(sum(a, {-1}), {6, 22, 38, 54, 70, 86});
  Tensor s01 = sum(a, {0, 1});
  EXPECT_EQ(s01.shape(), (Shape{4}));
  expect_values(s01, {60, 66, 72, 78});
  Tensor s02 = sum(a, {0, 2}, true);
  EXPECT_EQ(s02.shape(), (Shape{1, 3, 1}));
  expect_values(s02, {60, 92, 124});
  EXPECT_EQ(sum(a, {}, true).shape(), (Shape{1, 1, 1}));
  expect_values(mean(a, {1}), {4, 5, 6, 7, 16, 17, 18, 19});
  expect_values(mean(a), {11.5});
  // norm([3, 4]) = 5, per row of [[3, 4], [0, 0], [1, 0]].
  Tensor n = from_vector({3, 4, 0, 0, 1, 0}, {3, 2}, DType::F32);
  expect_values(norm(n, {1}), {5, 0, 1}, 1e-6);
  expect_values(norm(n), {std::sqrt(26.0)}, 1e-6);
  EXPECT_EQ(sum(n).dtype(), DType::F32);
}

TEST(ReduceSum, EverySubsetOfDimsMatchesOracle) {
  // All 16 subsets of the dims of a [3, 4, 5, 6] tensor, contiguous and
  // permuted, keepdim both ways; covers reduced runs that need no copy
  // (leading, middle, trailing) and split sets that are permuted first.
  Generator g(11);
  Tensor base = randn({3, 4, 5, 6}, DType::F64, &g);
  Tensor perm = randn({6, 3, 5, 4}, DType::F64, &g).permute({1, 3, 2, 0});  // [3, 4, 5, 6]
  for (const Tensor& t : {base, perm}) {
    for (int m = 0; m < 16; ++m) {
      Shape dims;
      std::vector<bool> mask(4, false);
      for (int d = 0; d < 4; ++d)
        if (m >> d & 1) {
          dims.push_back(d - 4 * (d % 2));  // mix positive and negative dims
          mask[d] = true;
        }
      if (dims.empty()) mask.assign(4, true);
      SCOPED_TRACE("dims " + shape_str(dims));
      std::vector<double> ref = reduce_ref(t, mask, false), ref2 = reduce_ref(t, mask, true);
      Tensor s = sum(t, dims, true);
      Shape keep;
      for (int d = 0; d < 4; ++d) keep.push_back(mask[d] ? 1 : t.shape()[d]);
      EXPECT_EQ(s.shape(), keep);
      expect_values(s, ref, 1e-12);
      Tensor s2 = sum(t, dims, false);
      Shape drop;
      for (int d = 0; d < 4; ++d)
        if (!mask[d]) drop.push_back(t.shape()[d]);
      EXPECT_EQ(s2.shape(), drop);
      expect_values(s2, ref, 1e-12);
      int64_t count = t.numel() / static_cast<int64_t>(ref.size());
      std::vector<double> mref, nref;
      for (size_t i = 0; i < ref.size(); ++i) {
        mref.push_back(ref[i] / count);
        nref.push_back(std::sqrt(ref2[i]));
      }
      expect_values(mean(t, dims), mref, 1e-12);
      expect_values(norm(t, dims, true), nref, 1e-12);
      // float32 input, float32 output, double accumulation.
      expect_values(sum(t.to(DType::F32), dims), ref, 1e-5);
    }
  }
}

TEST(ReduceSum, LargeFloatSumIsAccurate) {
  // 1e6 float32 values in [0, 1): a float accumulator would drift by ~1e-4
  // relative; double accumulation keeps the rounding of the result only.
  Generator g(21);
  Tensor x = rand({1000000}, DType::F32, &g);
  std::vector<double> v = x.to_vector();
  double ref = 0;
  for (double e : v) ref += e;
  double got = sum(x).item();
  EXPECT_NEAR(got, ref, 1e-6 * ref);
  EXPECT_NEAR(mean(x).item(), ref / 1e6, 1e-6 * ref / 1e6);
  // Column sums of a tall narrow matrix: the reduced dim is split across
  // threads and partials combined.
  Tensor t = x.reshape({250000, 4});
  std::vector<double> col(4, 0.0);
  for (size_t i = 0; i < v.size(); ++i) col[i % 4] += v[i];
  expect_values(sum(t, {0}), col, 1e-6);
  // Row sums of a wide matrix and a middle-dim reduction, above the
  // OpenMP threshold.
  Tensor w = x.reshape({4, 250000});
  std::vector<double> row(4, 0.0);
  for (size_t i = 0; i < v.size(); ++i) row[i / 250000] += v[i];
  expect_values(sum(w, {1}), row, 1e-6);
  Tensor m = x.reshape({10, 1000, 100});
  std::vector<double> mid = reduce_ref(m, {false, true, false}, false);
  expect_values(sum(m, {1}), mid, 1e-6);
}

TEST(ReduceSum, Gradcheck) {
  Tensor a = leaf({2, 3, 4}, 31);
  for (const Shape& dims : {Shape{}, Shape{0}, Shape{-1}, Shape{0, 2}, Shape{1, 2}}) {
    for (bool keep : {false, true}) {
      SCOPED_TRACE("dims " + shape_str(dims) + (keep ? " keepdim" : ""));
      expect_grad_ok([&](const std::vector<Tensor>& in) { return sum(in[0], dims, keep); }, {a});
      expect_grad_ok([&](const std::vector<Tensor>& in) { return mean(in[0], dims, keep); }, {a});
      expect_grad_ok([&](const std::vector<Tensor>& in) { return norm(in[0], dims, keep); }, {a});
    }
  }
  // Transposed input, odd sizes.
  Tensor b = leaf({5, 7}, 32);
  expect_grad_ok([](const std::vector<Tensor>& in) { return sum(in[0].transpose(0, 1), {1}); }, {b});
  expect_grad_ok([](const std::vector<Tensor>& in) { return mean(in[0].transpose(0, 1), {0}); }, {b});
  expect_grad_ok([](const std::vector<Tensor>& in) { return norm(in[0].transpose(0, 1), {1}); }, {b});
  // Composition with broadcasting: x - mean(x) over a dim.
  expect_grad_ok([](const std::vector<Tensor>& in) { return in[0] - mean(in[0], {1}, true); }, {b});
}

TEST(ReduceNorm, ZeroNormGradientIsZero) {
  // PyTorch 1.13: torch.zeros(2).norm().backward() gives grad [0, 0].
  Tensor z = zeros({2, 3}, DType::F64).set_requires_grad();
  norm(z).backward();
  expect_values(z.grad(), {0, 0, 0, 0, 0, 0});
  Tensor r = from_vector({3, 4, 0, 0}, {2, 2}, DType::F64).set_requires_grad();
  norm(r, {1}).backward(ones({2}, DType::F64));
  expect_values(r.grad(), {0.6, 0.8, 0, 0});
}

TEST(ReduceMax, TiesPickFirstIndex) {
  // PyTorch 1.13 CPU: a = [[1,3,3],[2,2,1]]
  //   a.max(1) = ([3, 2], [1, 0]); a.min(1) = ([1, 1], [0, 2])
  //   a.max(0) = ([2, 3, 3], [1, 0, 0]); a.min(0) = ([1, 2, 1], [0, 1, 1])
  for (DType dt : {DType::F32, DType::F64}) {
    Tensor a = from_vector({1, 3, 3, 2, 2, 1}, {2, 3}, dt);
    ValuesIndices mx = max(a, 1);
    expect_values(mx.values, {3, 2});
    expect_values(mx.indices, {1, 0});
    EXPECT_EQ(mx.indices.dtype(), DType::I64);
    EXPECT_EQ(mx.values.dtype(), dt);
    ValuesIndices mn = min(a, -1);
    expect_values(mn.values, {1, 1});
    expect_values(mn.indices, {0, 2});
    ValuesIndices m0 = max(a, 0, true);
    EXPECT_EQ(m0.values.shape(), (Shape{1, 3}));
    expect_values(m0.values, {2, 3, 3});
    expect_values(m0.indices, {1, 0, 0});
    ValuesIndices n0 = min(a, 0);
    expect_values(n0.values, {1, 2, 1});
    expect_values(n0.indices, {0, 1, 1});
    expect_values(argmax(a, 1), {1, 0});
    expect_values(argmax(a, 0), {1, 0, 0});
    EXPECT_EQ(argmax(a, 1, true).shape(), (Shape{2, 1}));
  }
  // Transposed input gives the same as its contiguous copy.
  Generator g(41);
  Tensor t = randn({7, 5}, DType::F32, &g).transpose(0, 1);
  expect_values(max(t, 1).indices, max(t.contiguous(), 1).indices.to_vector());
  expect_values(argmax(t, 0), argmax(t.contiguous(), 0).to_vector());
}

TEST(ReduceMax, NaNIsSelected) {
  // PyTorch 1.13: max / min of [1, nan, 3] along 0 give (nan, 1); argmax 1.
  Tensor x = from_vector({1, std::nan(""), 3}, {3}, DType::F32);
  ValuesIndices mx = max(x, 0), mn = min(x, 0);
  EXPECT_TRUE(std::isnan(mx.values.item()));
  EXPECT_EQ(mx.indices.item(), 1);
  EXPECT_TRUE(std::isnan(mn.values.item()));
  EXPECT_EQ(mn.indices.item(), 1);
  EXPECT_EQ(argmax(x, 0).item(), 1);
  EXPECT_TRUE(std::isnan(max(x).item()));
  EXPECT_TRUE(std::isnan(min(x).item()));
}

TEST(ReduceMax, GradientGoesToSelectedIndex) {
  Tensor a = from_vector({1, 3, 3, 2, 2, 1}, {2, 3}, DType::F64).set_requires_grad();
  max(a, 1).values.backward(from_vector({10, 20}, {2}, DType::F64));
  expect_values(a.grad(), {0, 10, 0, 20, 0, 0});
  a.zero_grad();
  min(a, 0, true).values.backward(from_vector({1, 2, 3}, {1, 3}, DType::F64));
  expect_values(a.grad(), {1, 0, 0, 0, 2, 3});  // min(0) indices [0, 1, 1]
  // Random values (no ties) through gradcheck, dims and keepdim, transposed.
  Tensor b = leaf({3, 4, 5}, 42);
  for (int64_t d : {0, 1, -1}) {
    for (bool keep : {false, true}) {
      expect_grad_ok([=](const std::vector<Tensor>& in) { return max(in[0], d, keep).values; }, {b});
      expect_grad_ok([=](const std::vector<Tensor>& in) { return min(in[0], d, keep).values; }, {b});
    }
  }
  expect_grad_ok([](const std::vector<Tensor>& in) { return max(in[0].transpose(0, 2), 1).values; },
                 {b});
}

TEST(ReduceMax, FullReductionSplitsTiesEvenly) {
  // PyTorch 1.13: x = [[1,3,3],[0,3,2]]; x.max().backward() gives
  // [[0, 1/3, 1/3], [0, 1/3, 0]].
  Tensor x = from_vector({1, 3, 3, 0, 3, 2}, {2, 3}, DType::F64).set_requires_grad();
  Tensor m = max(x);
  EXPECT_EQ(m.shape(), Shape{});
  EXPECT_EQ(m.item(), 3);
  m.backward();
  expect_values(x.grad(), {0, 1.0 / 3, 1.0 / 3, 0, 1.0 / 3, 0});
  Tensor y = from_vector({1, 0, 5, 0}, {4}, DType::F64).set_requires_grad();
  Tensor n = min(y);
  EXPECT_EQ(n.item(), 0);
  n.backward(scalar_tensor(4.0, DType::F64));
  expect_values(y.grad(), {0, 2, 0, 2});
  // Large float32 input (parallel pieces), extremes placed at the ends.
  Tensor big = zeros({200001}, DType::F32);
  view::fill(big.narrow(0, 200000, 1), 7.0);
  view::fill(big.narrow(0, 0, 1), -3.0);
  EXPECT_EQ(max(big).item(), 7.0);
  EXPECT_EQ(min(big).item(), -3.0);
  expect_grad_ok([](const std::vector<Tensor>& in) { return max(in[0]); }, {leaf({4, 5}, 43)});
  expect_grad_ok([](const std::vector<Tensor>& in) { return min(in[0].transpose(0, 1)); },
                 {leaf({4, 5}, 44)});
}

TEST(ReduceSumTo, MatchesOracleOnLargeBroadcast) {
  Generator g(51);
  Tensor t = randn({8, 300, 70}, DType::F32, &g);
  expect_values(sum_to(t, {300, 1}), reduce_ref(t, {true, false, true}, false), 1e-5);
  expect_values(sum_to(t, {70}), reduce_ref(t, {true, true, false}, false), 1e-5);
  expect_values(sum_to(t, {8, 1, 70}), reduce_ref(t, {false, true, false}, false), 1e-5);
  EXPECT_EQ(sum_to(t, {}).shape(), Shape{});
  expect_values(sum_to(t, {}), reduce_ref(t, {true, true, true}, false), 1e-5);
}

TEST(ReduceErrors, BadDimsAndDTypes) {
  Tensor a = zeros({2, 3});
  try {
    sum(a, {2});
    FAIL() << "expected IndexError";
  } catch (const IndexError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("sum"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
  }
  EXPECT_THROW(mean(a, {-3}), IndexError);
  EXPECT_THROW(norm(a, {1, -1}), IndexError);  // repeated
  EXPECT_THROW(max(a, 2), IndexError);
  EXPECT_THROW(min(a, -3), IndexError);
  EXPECT_THROW(argmax(a, 5), IndexError);
  EXPECT_THROW(max(zeros({2, 0}), 1), IndexError);
  EXPECT_THROW(max(zeros({0})), ValueError);
  EXPECT_THROW(sum(zeros({3}, DType::I64)), DTypeError);
  EXPECT_THROW(max(zeros({3}, DType::U8), 0), DTypeError);
  // Empty reductions: sum 0, mean NaN (as PyTorch).
  expect_values(sum(zeros({2, 0}), {1}), {0, 0});
  EXPECT_TRUE(std::isnan(mean(zeros({0})).item()));
}
