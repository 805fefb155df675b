// max_pool2d: hand-computed windows (ResNet's 3x3/2 pad 1 and 2x2), the -inf
// padding, first-maximum tie breaking in forward and backward, gradients by
// finite differences on inputs without ties, float32 against float64, errors.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/pool.h"

using namespace sirs;

namespace {
Tensor plane4x4(double sign) {  // sign * [[0 1 2 3] [4 5 6 7] [8 9 10 11] [12 13 14 15]]
  std::vector<double> v(16);
  for (int i = 0; i < 16; ++i) v[i] = sign * i;
  return from_vector(v, {1, 1, 4, 4}, DType::F64);
}
}  // namespace

TEST(Pool, HandComputedWindows) {
  Tensor x = plane4x4(1);
  EXPECT_EQ(max_pool2d(x, 2).to_vector(), (std::vector<double>{5, 7, 13, 15}));
  // 3x3 stride 2 pad 1 on 4x4: Ho = (4 + 2 - 3) / 2 + 1 = 2; windows rows/cols {-1..1, 1..3}.
  EXPECT_EQ(max_pool2d(x, 3, 2, 1).to_vector(), (std::vector<double>{5, 7, 13, 15}));
  // Negative values: padding is -inf, never 0, so the edge windows pick real elements.
  EXPECT_EQ(max_pool2d(plane4x4(-1), 3, 2, 1).to_vector(), (std::vector<double>{0, -1, -4, -5}));
  // Floor mode: 5x5 with 2x2 drops the last row and column.
  EXPECT_EQ(max_pool2d(ones({2, 3, 5, 5}), 2).shape(), (Shape{2, 3, 2, 2}));
  // stride 0 means stride = kernel.
  EXPECT_EQ(max_pool2d(x, 2, 0).to_vector(), (std::vector<double>{5, 7, 13, 15}));
}

TEST(Pool, BackwardRoutesToFirstMaximum) {
  Tensor x = plane4x4(1).set_requires_grad();
  max_pool2d(x, 3, 2, 1).backward(from_vector({1, 2, 3, 4}, {1, 1, 2, 2}, DType::F64));
  std::vector<double> want(16, 0);
  want[5] = 1, want[7] = 2, want[13] = 3, want[15] = 4;
  EXPECT_EQ(x.grad().to_vector(), want);
  // Overlapping windows (3x3, stride 1, pad 1) on -x: each window's maximum is
  // its clipped top-left element, so dx counts the windows starting there:
  // rows and columns each see [2, 1, 1, 0] windows.
  Tensor n = plane4x4(-1).set_requires_grad();
  max_pool2d(n, 3, 1, 1).backward(ones({1, 1, 4, 4}, DType::F64));
  EXPECT_EQ(n.grad().to_vector(),
            (std::vector<double>{4, 2, 2, 0, 2, 1, 1, 0, 2, 1, 1, 0, 0, 0, 0, 0}));
  // Ties: the first maximum in the window (row-major) takes the gradient.
  Tensor t = ones({1, 1, 2, 2}, DType::F64).set_requires_grad();
  Tensor y = max_pool2d(t, 2);
  EXPECT_EQ(y.item(), 1);
  y.backward(full({1, 1, 1, 1}, 3, DType::F64));
  EXPECT_EQ(t.grad().to_vector(), (std::vector<double>{3, 0, 0, 0}));
}

TEST(Pool, Gradcheck) {
  // randn inputs have no ties (almost surely), and eps = 1e-6 cannot flip a
  // window's winner unless two values lie within 1e-6 of each other.
  auto check = [](const char* what, const Shape& s, int64_t k, int64_t st, int64_t p) {
    Generator g(static_cast<uint64_t>(s[2] * 10 + k));
    Tensor x = randn(s, DType::F64, &g).set_requires_grad();
    GradcheckResult r = gradcheck(
        [=](const std::vector<Tensor>& in) { return max_pool2d(in[0], k, st, p); }, {x});
    EXPECT_TRUE(r.ok) << what << "\n" << r.report;
  };
  check("3x3/2 pad 1 (ResNet)", {2, 3, 7, 6}, 3, 2, 1);
  check("2x2", {1, 2, 6, 5}, 2, 2, 0);
  check("3x3/1 pad 1 overlapping", {1, 2, 5, 5}, 3, 1, 1);
  // Non-contiguous input.
  Generator g(9);
  Tensor x = randn({2, 5, 6, 3}, DType::F64, &g).set_requires_grad();
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& in) { return max_pool2d(in[0].permute({0, 3, 1, 2}), 2); },
      {x});
  EXPECT_TRUE(r.ok) << "permuted\n" << r.report;
}

TEST(Pool, Float32MatchesFloat64) {
  Generator g(10);
  Tensor x = randn({2, 4, 9, 8}, DType::F64, &g);
  EXPECT_EQ(max_pool2d(x.to(DType::F32), 3, 2, 1).to_vector(),
            max_pool2d(x.to(DType::F32).to(DType::F64), 3, 2, 1).to_vector());
  Tensor y64 = max_pool2d(x, 3, 2, 1), y32 = max_pool2d(x.to(DType::F32), 3, 2, 1);
  std::vector<double> a = y64.to_vector(), b = y32.to_vector();
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) EXPECT_NEAR(a[i], b[i], 1e-6);
}

TEST(Pool, ErrorMessages) {
  try {
    max_pool2d(zeros({1, 1, 2, 2}), 5, 1, 1);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("max_pool2d"), std::string::npos) << m;
    EXPECT_NE(m.find("[1, 1, 2, 2]"), std::string::npos) << m;
  }
  EXPECT_THROW(max_pool2d(zeros({4, 4}), 2), ShapeError);
  EXPECT_THROW(max_pool2d(zeros({1, 1, 4, 4}), 2, 2, 2), ValueError);  // pad > kernel / 2
  EXPECT_THROW(max_pool2d(zeros({1, 1, 4, 4}), 0), ValueError);
  EXPECT_THROW(max_pool2d(zeros({1, 1, 4, 4}, DType::I64), 2), DTypeError);
}
