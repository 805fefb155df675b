// CPU-vs-CUDA parity of the reductions (sum, mean, norm over any dims, max /
// min / argmax along a dim, the full max / min, sum_to) and of softmax /
// log_softmax, forward and backward (kernels/cuda/reduce.cu,
// kernels/cuda/softmax.cu). Each case runs the op on CPU and CUDA copies of
// the same inputs through test::expect_parity; indices compare exactly.
// Sizes reach every kernel shape: warp-per-row (short contiguous rows),
// block-per-row (rows over 1024), the column kernel (inner > 1, tiles of 2
// to 32 columns), and the split two-pass path (few outputs, long reduced
// dim). Skipped without a GPU.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "tests/cuda_util.h"

namespace sirs {
namespace {

using test::expect_parity;
using test::randn32;
using Inputs = std::vector<Tensor>;
using Prep = std::function<Tensor(const Tensor&)>;

constexpr double kTol = 1e-4;  // relative (and absolute) tolerance for fp32 reductions

Tensor same(const Tensor& t) { return t; }

const char* const kSumKinds[] = {"sum", "mean", "norm"};

Tensor sum_like(int kind, const Tensor& x, const Shape& dims, bool keepdim) {
  switch (kind) {
    case 0:
      return sum(x, dims, keepdim);
    case 1:
      return mean(x, dims, keepdim);
    default:
      return norm(x, dims, keepdim);
  }
}

// sum, mean and norm of prep(x) over dims, keepdim both ways.
void sum_like_parity(const std::string& what, const Tensor& x, const Shape& dims,
                     const Prep& prep = same, bool both_keepdims = true) {
  for (int kind = 0; kind < 3; ++kind)
    for (bool keep : {false, true}) {
      if (keep && !both_keepdims) continue;
      expect_parity(
          what + " " + kSumKinds[kind] + " over " + shape_str(dims) + (keep ? " keepdim" : ""),
          [&](const Inputs& v) { return sum_like(kind, prep(v[0]), dims, keep); }, {x}, kTol);
    }
}

// max / min values (with backward) and indices (exact), and argmax, of
// prep(x) along dim, keepdim both ways.
void max_like_parity(const std::string& what, const Tensor& x, int64_t dim,
                     const Prep& prep = same) {
  for (bool keep : {false, true}) {
    std::string tail = " dim " + std::to_string(dim) + (keep ? " keepdim" : "");
    for (bool is_min : {false, true}) {
      auto op = [is_min, dim, keep](const Tensor& t) {
        return is_min ? min(t, dim, keep) : max(t, dim, keep);
      };
      std::string name = what + (is_min ? " min" : " max") + tail;
      expect_parity(
          name + " values", [&](const Inputs& v) { return op(prep(v[0])).values; }, {x}, kTol);
      expect_parity(
          name + " indices", [&](const Inputs& v) { return op(prep(v[0])).indices; }, {x}, 0, 0);
    }
    expect_parity(
        what + " argmax" + tail, [&](const Inputs& v) { return argmax(prep(v[0]), dim, keep); },
        {x}, 0, 0);
  }
}

// A float32 tensor of small integers in [0, k): many exact ties.
Tensor ties(const Shape& s, int64_t k, uint64_t seed, bool grad = true) {
  Generator g(seed);
  Tensor t = randint(0, k, s, Options(DType::F32), &g);
  if (grad) t.set_requires_grad();
  return t;
}

Tensor from_values(const std::vector<double>& v, const Shape& s) {
  Tensor t = from_vector(v, s, Options(DType::F32));
  t.set_requires_grad();
  return t;
}

// ------------------------------------------------------------ sum, mean, norm

TEST(CudaReduce, SumMeanNormSingleDims) {
  SIRS_REQUIRE_CUDA();
  Tensor x = randn32({5, 37, 3}, 1);
  for (int64_t d : {0, 1, 2, -1}) sum_like_parity("[5, 37, 3]", x, {d});
  Tensor b1 = randn32({1, 257, 3}, 2);  // batch 1
  for (int64_t d : {0, 1, 2}) sum_like_parity("[1, 257, 3]", b1, {d});
  // Rows just over the warp-per-row limit (block per row), and columns 33
  // wide (a full 32-column tile plus a 1-column one).
  Tensor r = randn32({37, 1025}, 3);
  for (int64_t d : {0, 1}) sum_like_parity("[37, 1025]", r, {d});
  Tensor c = randn32({7, 19, 33}, 4);
  sum_like_parity("[7, 19, 33]", c, {1});
  Tensor one = randn32({1}, 5);
  sum_like_parity("[1]", one, {0});
  // A short reduced dim under wide rows: blocks trade reduced rows for columns.
  Tensor w = randn32({3, 1000}, 6);
  sum_like_parity("[3, 1000]", w, {0});
}

TEST(CudaReduce, SumMeanNormSeveralAndAllDims) {
  SIRS_REQUIRE_CUDA();
  Tensor x = randn32({4, 3, 5, 7}, 10);
  for (const Shape& dims : std::vector<Shape>{{0, 2, 3}, {1, 2}, {0, 3}, {3, 1}, {0, 1, 2, 3}, {}})
    sum_like_parity("[4, 3, 5, 7]", x, dims);
  // A size-1 dim between reduced ones does not split the run.
  Tensor y = randn32({2, 3, 1, 5}, 11);
  for (const Shape& dims : std::vector<Shape>{{0, 2}, {1, 3}, {1, 2, 3}, {2}})
    sum_like_parity("[2, 3, 1, 5]", y, dims);
}

TEST(CudaReduce, SumMeanNormNonContiguous) {
  SIRS_REQUIRE_CUDA();
  Tensor x = randn32({6, 5, 7}, 20);
  Prep permuted = [](const Tensor& t) { return t.permute({2, 0, 1}); };  // [7, 6, 5]
  for (const Shape& dims : std::vector<Shape>{{0}, {1}, {2}, {0, 2}, {}})
    sum_like_parity("permuted [6, 5, 7]", x, dims, permuted);
  Prep stepped = [](const Tensor& t) { return t.slice(1, 0, 5, 2); };  // [6, 3, 7]
  for (const Shape& dims : std::vector<Shape>{{1}, {0, 2}, {2}})
    sum_like_parity("sliced [6, 5, 7]", x, dims, stepped);
}

TEST(CudaReduce, LargeReductionsUseTheSplitPath) {
  SIRS_REQUIRE_CUDA();
  // 4,000,037 elements to one value (split rows + second pass).
  sum_like_parity("[4000037]", randn32({4000037}, 30), {}, same, false);
  // Three long rows, and three long columns (column kernel, split).
  sum_like_parity("[3, 1000003]", randn32({3, 1000003}, 31), {1}, same, false);
  sum_like_parity("[1000003, 3]", randn32({1000003, 3}, 32), {0}, same, false);
  // One wide output row: more column tiles than the GPU has block slots, no split.
  sum_like_parity("[9, 40009]", randn32({9, 40009}, 33), {0}, same, false);
}

// Column reductions with 16-byte loads (inner a multiple of 4 floats, the
// input aligned), with and without the split, and the same shapes read one
// float past an aligned start (scalar loads).
TEST(CudaReduce, ColumnVectorLoadsAndTheirFallback) {
  SIRS_REQUIRE_CUDA();
  sum_like_parity("[37, 1000]", randn32({37, 1000}, 40), {0});
  sum_like_parity("[5, 7, 12]", randn32({5, 7, 12}, 41), {1});            // 3 vectors per row
  sum_like_parity("[3000, 64]", randn32({3000, 64}, 42), {0}, same, false);  // split
  sum_like_parity("[2, 5003, 8]", randn32({2, 5003, 8}, 43), {1}, same, false);
  Prep shifted = [](const Tensor& t) { return t.narrow(0, 1, 37 * 1000).reshape({37, 1000}); };
  sum_like_parity("shifted [37, 1000]", randn32({37 * 1000 + 1}, 44), {0}, shifted);
  max_like_parity("ties [300, 64]", ties({300, 64}, 7, 45), 0);
  max_like_parity("ties [4, 2001, 8]", ties({4, 2001, 8}, 50, 46), 1);
  Prep shifted_ties = [](const Tensor& t) { return t.narrow(0, 1, 300 * 64).reshape({300, 64}); };
  max_like_parity("ties shifted [300, 64]", ties({300 * 64 + 1}, 7, 47), 0, shifted_ties);
}

TEST(CudaReduce, MeanOfEmptyIsNaNAndSumOfEmptyIsZero) {
  SIRS_REQUIRE_CUDA();
  Tensor x = zeros({3, 0, 4}, Options(DType::F32, Device::cuda()));
  Tensor s = sum(x, {1}), m = mean(x, {1});
  EXPECT_TRUE(s.device().is_cuda());
  for (double v : s.to_vector()) EXPECT_EQ(v, 0.0);
  for (double v : m.to_vector()) EXPECT_TRUE(std::isnan(v));
}

// ------------------------------------------------------------ max, min, argmax

TEST(CudaReduce, MaxMinArgmaxTiesPickTheFirstIndex) {
  SIRS_REQUIRE_CUDA();
  Tensor x = ties({5, 37, 3}, 4, 40);
  for (int64_t d : {0, 1, 2, -1}) max_like_parity("ties [5, 37, 3]", x, d);
  Tensor b1 = ties({1, 257}, 3, 41);  // batch 1
  for (int64_t d : {0, 1}) max_like_parity("ties [1, 257]", b1, d);
  Tensor r = ties({6, 1025}, 5, 42);  // block per row
  max_like_parity("ties [6, 1025]", r, 1);
  Tensor c = ties({3, 11, 40}, 3, 43);  // 32 + 8 columns
  max_like_parity("ties [3, 11, 40]", c, 1);
  Tensor u = ties({4, 1, 300}, 3, 45);  // a size-1 dim: 256-column blocks
  max_like_parity("ties [4, 1, 300]", u, 1);
  Tensor p = ties({6, 5, 7}, 3, 44);
  max_like_parity("ties permuted [6, 5, 7]", p, 1, [](const Tensor& t) {
    return t.permute({2, 0, 1});
  });
  max_like_parity("ties sliced [6, 5, 7]", p, 2,
                  [](const Tensor& t) { return t.slice(2, 1, 7, 3); });
}

TEST(CudaReduce, MaxMinArgmaxLargeWithTies) {
  SIRS_REQUIRE_CUDA();
  // The largest of 100 values occurs ~10^4 times per row: the first one
  // must survive the split into pieces and the second pass.
  max_like_parity("ties [3, 1000003]", ties({3, 1000003}, 100, 50), 1);
  max_like_parity("ties [1000003, 3]", ties({1000003, 3}, 100, 51), 0);
}

TEST(CudaReduce, MaxMinNaNWinsFirstNaNSelected) {
  SIRS_REQUIRE_CUDA();
  // [4, 9, 3] of small integers; NaNs placed along dim 1:
  //   (0, *, 0): NaN at 2 and 6; (1, *, 1): all NaN; (2, *, 2): NaN at 8 only.
  const int64_t O = 4, R = 9, J = 3;
  Tensor base = ties({O, R, J}, 3, 60, false);
  std::vector<double> v = base.to_vector();
  auto at = [&](int64_t o, int64_t r, int64_t j) -> double& { return v[(o * R + r) * J + j]; };
  at(0, 2, 0) = NAN;
  at(0, 6, 0) = NAN;
  for (int64_t r = 0; r < R; ++r) at(1, r, 1) = NAN;
  at(2, 8, 2) = NAN;
  Tensor x = from_values(v, {O, R, J});
  for (int64_t d : {0, 1, 2}) max_like_parity("NaN [4, 9, 3]", x, d);
  // Long rows through the split path: NaNs at 500000 and 900000 of row 0,
  // at the very end of row 1.
  const int64_t N = 1000003;
  std::vector<double> w = ties({2, N}, 50, 61, false).to_vector();
  w[500000] = NAN;
  w[900000] = NAN;
  w[N + N - 1] = NAN;
  max_like_parity("NaN [2, 1000003]", from_values(w, {2, N}), 1);
}

TEST(CudaReduce, FullMaxMin) {
  SIRS_REQUIRE_CUDA();
  Tensor small = randn32({5, 37, 3}, 70);
  Tensor big = ties({4000037}, 1000, 71);  // the extreme value is shared by ~4000 elements
  for (const Tensor& x : {small, big}) {
    std::string n = shape_str(x.shape());
    expect_parity(
        "max " + n, [](const Inputs& v) { return max(v[0]); }, {x}, kTol);
    expect_parity(
        "min " + n, [](const Inputs& v) { return min(v[0]); }, {x}, kTol);
  }
  std::vector<double> w = ties({100003}, 7, 72, false).to_vector();
  w[77777] = NAN;
  Tensor nan = from_vector(w, {100003}, Options(DType::F32)).to(Device::cuda());
  EXPECT_TRUE(std::isnan(max(nan).item()));
  EXPECT_TRUE(std::isnan(min(nan).item()));
  EXPECT_TRUE(max(nan).device().is_cuda());
}

// ------------------------------------------------------------ sum_to

TEST(CudaReduce, SumToOnTheDevice) {
  SIRS_REQUIRE_CUDA();
  Tensor x = randn32({4, 5, 3}, 80);
  expect_parity(
      "sum_to [4, 5, 3] -> [1, 5, 1]",
      [](const Inputs& v) {
        return sum_to(v[0], {1, 5, 1});
      },
      {x}, kTol);
  expect_parity(
      "sum_to [4, 5, 3] -> [3]", [](const Inputs& v) { return sum_to(v[0], {3}); }, {x}, kTol);
  expect_parity(
      "sum_to [1, 5] -> [5]", [](const Inputs& v) { return sum_to(v[0], {5}); },
      {randn32({1, 5}, 81)}, kTol);
  // Through the backward of a broadcasting add: both gradients are sum_to.
  expect_parity(
      "add [4, 1, 5] + [3, 1]", [](const Inputs& v) { return add(v[0], v[1]); },
      {randn32({4, 1, 5}, 82), randn32({3, 1}, 83)}, kTol);
  // A bias gradient: [8, 16, 33, 31] summed over {0, 2, 3} (two runs).
  expect_parity(
      "add [8, 16, 33, 31] + [16, 1, 1]", [](const Inputs& v) { return add(v[0], v[1]); },
      {randn32({8, 16, 33, 31}, 84), randn32({16, 1, 1}, 85)}, kTol);
  Tensor d = randn32({4, 5, 3}, 86, false).to(Device::cuda());
  EXPECT_TRUE(sum_to(d, {5, 1}).device().is_cuda());
}

// ------------------------------------------------------------ softmax

// softmax and log_softmax of prep(x) along dim.
void softmax_parity(const std::string& what, const Tensor& x, int64_t dim,
                    const Prep& prep = same) {
  std::string tail = " dim " + std::to_string(dim);
  expect_parity(
      what + " softmax" + tail, [&](const Inputs& v) { return softmax(prep(v[0]), dim); }, {x},
      kTol);
  expect_parity(
      what + " log_softmax" + tail, [&](const Inputs& v) { return log_softmax(prep(v[0]), dim); },
      {x}, kTol);
}

Tensor logits(const Shape& s, double scale, uint64_t seed) {
  Generator g(seed);
  Tensor t = normal(s, 0.0, scale, Options(DType::F32), &g);
  t.set_requires_grad();
  return t;
}

TEST(CudaSoftmax, FirstMiddleLastDims) {
  SIRS_REQUIRE_CUDA();
  Tensor x = logits({5, 37, 3}, 3.0, 100);
  for (int64_t d : {0, 1, 2, -1}) softmax_parity("[5, 37, 3]", x, d);
  Tensor s = logits({1, 21, 13, 11}, 2.0, 101);  // batch 1, segmentation-like class dim
  for (int64_t d : {1, 3}) softmax_parity("[1, 21, 13, 11]", s, d);
  Tensor w = logits({2, 6, 40}, 2.0, 102);  // 32 + 8 columns
  softmax_parity("[2, 6, 40]", w, 1);
}

TEST(CudaSoftmax, RowLengthsOneToTenThousand) {
  SIRS_REQUIRE_CUDA();
  softmax_parity("[7, 1]", logits({7, 1}, 1.0, 110), 1);            // D = 1, contiguous
  softmax_parity("[1, 6]", logits({1, 6}, 1.0, 111), 0);            // D = 1, inner = 6
  softmax_parity("[2, 1, 300]", logits({2, 1, 300}, 1.0, 117), 1);  // D = 1, 256 columns
  softmax_parity("[2, 3, 100]", logits({2, 3, 100}, 2.0, 118), 1);  // D = 3, 64 columns
  softmax_parity("[4, 1024]", logits({4, 1024}, 2.0, 112), 1);      // largest warp-per-row
  softmax_parity("[4, 1025]", logits({4, 1025}, 2.0, 113), 1);      // block per row
  softmax_parity("[3, 10007]", logits({3, 10007}, 2.0, 114), 1);
  softmax_parity("[10007, 5]", logits({10007, 5}, 2.0, 115), 0);
  softmax_parity("[2, 10007, 3]", logits({2, 10007, 3}, 2.0, 116), 1);
}

// Every register width of the warp-per-row kernels: rows a multiple of 4
// floats (16-byte loads) and not, each power-of-two bucket and its edges,
// and rows starting one float past an aligned address (scalar loads).
TEST(CudaSoftmax, WarpRowsEveryWidth) {
  SIRS_REQUIRE_CUDA();
  for (int64_t D : {2, 4, 31, 32, 33, 64, 100, 128, 129, 256, 257, 500, 512, 513, 1000, 1023}) {
    const std::string what = "[37, " + std::to_string(D) + "]";
    softmax_parity(what, logits({37, D}, 3.0, 130 + static_cast<uint64_t>(D)), 1);
  }
  for (int64_t D : {8, 1000}) {
    Prep shifted = [D](const Tensor& t) { return t.narrow(0, 1, 37 * D).reshape({37, D}); };
    softmax_parity("shifted [37, " + std::to_string(D) + "]",
                   logits({37 * D + 1}, 3.0, 140 + static_cast<uint64_t>(D)), 1, shifted);
  }
}

TEST(CudaSoftmax, NonContiguousAndLargeLogits) {
  SIRS_REQUIRE_CUDA();
  Tensor x = logits({6, 5, 7}, 2.0, 120);
  Prep permuted = [](const Tensor& t) { return t.permute({2, 0, 1}); };
  for (int64_t d : {0, 1, 2}) softmax_parity("permuted [6, 5, 7]", x, d, permuted);
  softmax_parity("sliced [6, 5, 7]", x, 1, [](const Tensor& t) { return t.slice(2, 1, 7, 2); });
  // Logits in the thousands: only the max subtraction keeps exp finite.
  Tensor big = logits({9, 300}, 1000.0, 121);
  softmax_parity("scale 1000 [9, 300]", big, 1);
  softmax_parity("scale 1000 [9, 300]", big, 0);
}

}  // namespace
}  // namespace sirs
