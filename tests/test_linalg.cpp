// matmul and linear: hand-computed products, PyTorch's 1-D and broadcasting
// rules, gradients by finite differences (transposed and broadcast operands
// included), float32 against float64, and the error messages.
#include <gtest/gtest.h>

#include <cmath>

#include "autograd/gradcheck.h"
#include "autograd/linalg.h"
#include "kernels/matmul.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// Row-major reference product of contiguous float64 tensors [..., M, K] x [K, N].
std::vector<double> naive_mm(const std::vector<double>& a, const std::vector<double>& b, int64_t M,
                             int64_t K, int64_t N) {
  std::vector<double> c(M * N, 0.0);
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j)
      for (int64_t k = 0; k < K; ++k) c[i * N + j] += a[i * K + k] * b[k * N + j];
  return c;
}

void expect_gradcheck(const char* what, const std::function<Tensor(const std::vector<Tensor>&)>& f,
                      const std::vector<Tensor>& in) {
  GradcheckResult r = gradcheck(f, in);
  EXPECT_TRUE(r.ok) << what << "\n" << r.report;
}

}  // namespace

TEST(Linalg, MatmulHandComputed) {
  Tensor a = from_vector({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor b = from_vector({7, 8, 9, 10, 11, 12}, {3, 2});
  Tensor c = matmul(a, b);
  EXPECT_EQ(c.shape(), (Shape{2, 2}));
  // [1 2 3; 4 5 6] [7 8; 9 10; 11 12] = [58 64; 139 154]
  EXPECT_EQ(c.to_vector(), (std::vector<double>{58, 64, 139, 154}));
  // Transposed views go through BLAS as flags: a^T a = [17 22 27; 22 29 36; 27 36 45].
  Tensor ata = matmul(a.transpose(0, 1), a);
  EXPECT_EQ(ata.to_vector(), (std::vector<double>{17, 22, 27, 22, 29, 36, 27, 36, 45}));
}

TEST(Linalg, MatmulOneDimensionalOperands) {
  Tensor v = from_vector({1, 2, 3}, {3}, DType::F64);
  Tensor m = from_vector({1, 0, 0, 1, 1, 1}, {3, 2}, DType::F64);
  Tensor dot = matmul(v, v);
  EXPECT_EQ(dot.dim(), 0);
  EXPECT_EQ(dot.item(), 14);
  Tensor vm = matmul(v, m);  // [3] x [3, 2] -> [2]
  EXPECT_EQ(vm.shape(), (Shape{2}));
  EXPECT_EQ(vm.to_vector(), (std::vector<double>{4, 5}));
  Tensor mv = matmul(m.transpose(0, 1), v);  // [2, 3] x [3] -> [2]
  EXPECT_EQ(mv.to_vector(), (std::vector<double>{4, 5}));
  Tensor bv = matmul(ones({4, 2, 3}, DType::F64), v);  // batched matrix x vector -> [4, 2]
  EXPECT_EQ(bv.shape(), (Shape{4, 2}));
  EXPECT_EQ(bv.to_vector()[7], 6);
}

TEST(Linalg, MatmulBatchedBroadcastMatchesPerBatchProducts) {
  Generator g(11);
  Tensor a = randn({2, 1, 3, 4}, DType::F64, &g);
  Tensor b = randn({3, 4, 5}, DType::F64, &g);
  Tensor c = matmul(a, b);
  ASSERT_EQ(c.shape(), (Shape{2, 3, 3, 5}));
  std::vector<double> av = a.to_vector(), bv = b.to_vector(), cv = c.to_vector();
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j) {
      std::vector<double> ai(av.begin() + i * 12, av.begin() + (i + 1) * 12);
      std::vector<double> bj(bv.begin() + j * 20, bv.begin() + (j + 1) * 20);
      std::vector<double> want = naive_mm(ai, bj, 3, 4, 5);
      std::vector<double> got(cv.begin() + (i * 3 + j) * 15, cv.begin() + (i * 3 + j + 1) * 15);
      expect_near(got, want, 1e-12);
    }
  // [B, M, K] x [K, N] takes the flattened single-GEMM path: same numbers.
  Tensor a3 = randn({4, 3, 6}, DType::F64, &g), b2 = randn({6, 2}, DType::F64, &g);
  Tensor c3 = matmul(a3, b2);
  ASSERT_EQ(c3.shape(), (Shape{4, 3, 2}));
  expect_near(c3.to_vector(), naive_mm(a3.to_vector(), b2.to_vector(), 12, 6, 2), 1e-12);
}

TEST(Linalg, MatmulGradcheck) {
  auto mm = [](const std::vector<Tensor>& in) { return matmul(in[0], in[1]); };
  expect_gradcheck("2-D", mm, {leaf({3, 4}, 1), leaf({4, 5}, 2)});
  expect_gradcheck("odd 1xK x Kx1", mm, {leaf({1, 7}, 3), leaf({7, 1}, 4)});
  expect_gradcheck("batched broadcast [2,1,3,4] x [3,4,2]", mm,
                   {leaf({2, 1, 3, 4}, 5), leaf({3, 4, 2}, 6)});
  expect_gradcheck("[B,M,K] x [K,N]", mm, {leaf({3, 2, 4}, 7), leaf({4, 3}, 8)});
  expect_gradcheck("[M,K] x [B,K,N]", mm, {leaf({2, 4}, 9), leaf({3, 4, 3}, 10)});
  expect_gradcheck("vector . matrix", mm, {leaf({4}, 11), leaf({4, 3}, 12)});
  expect_gradcheck("matrix . vector", mm, {leaf({3, 4}, 13), leaf({4}, 14)});
  expect_gradcheck("dot", mm, {leaf({5}, 15), leaf({5}, 16)});
  // Transposed (non-contiguous) operands: the product reads them through
  // transpose flags, the gradients must land in the right places.
  expect_gradcheck(
      "transposed inputs",
      [](const std::vector<Tensor>& in) {
        return matmul(in[0].transpose(0, 1), in[1].transpose(-1, -2));
      },
      {leaf({4, 3}, 17), leaf({2, 5, 4}, 18)});
  // A non-contiguous slice that BLAS cannot take as is (column step 2).
  expect_gradcheck(
      "strided slice",
      [](const std::vector<Tensor>& in) { return matmul(in[0].slice(1, 0, 6, 2), in[1]); },
      {leaf({3, 6}, 19), leaf({3, 2}, 20)});
}

TEST(Linalg, LinearForwardAndGradcheck) {
  Tensor x = from_vector({1, 2, 3, 4, 5, 6}, {2, 3}, DType::F64);
  Tensor w = from_vector({1, 0, -1, 2, 1, 0}, {2, 3}, DType::F64);  // [out=2, in=3]
  Tensor b = from_vector({10, 20}, {2}, DType::F64);
  // x W^T = [1-3, 2+2; 4-6, 8+5] = [-2 4; -2 13], + b.
  EXPECT_EQ(linear(x, w, b).to_vector(), (std::vector<double>{8, 24, 8, 33}));
  EXPECT_EQ(linear(x, w).to_vector(), (std::vector<double>{-2, 4, -2, 13}));
  Tensor y3 = linear(ones({4, 2, 3}, DType::F64), w, b);
  EXPECT_EQ(y3.shape(), (Shape{4, 2, 2}));
  EXPECT_EQ(y3.to_vector()[7], 23);

  expect_gradcheck("with bias",
                   [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                   {leaf({5, 3}, 21), leaf({4, 3}, 22), leaf({4}, 23)});
  expect_gradcheck("no bias", [](const std::vector<Tensor>& in) { return linear(in[0], in[1]); },
                   {leaf({5, 3}, 24), leaf({4, 3}, 25)});
  expect_gradcheck("3-D input",
                   [](const std::vector<Tensor>& in) { return linear(in[0], in[1], in[2]); },
                   {leaf({2, 3, 4}, 26), leaf({5, 4}, 27), leaf({5}, 28)});
  expect_gradcheck(
      "transposed input and weight",
      [](const std::vector<Tensor>& in) {
        return linear(in[0].transpose(0, 1), in[1].transpose(0, 1), in[2]);
      },
      {leaf({3, 5}, 29), leaf({3, 4}, 30), leaf({4}, 31)});
}

TEST(Linalg, Float32MatchesFloat64) {
  Generator g(40);
  Tensor a = randn({3, 17, 33}, DType::F64, &g), b = randn({33, 9}, DType::F64, &g);
  Tensor w = randn({9, 33}, DType::F64, &g), bias = randn({9}, DType::F64, &g);
  std::vector<double> ref = matmul(a, b).to_vector();
  std::vector<double> got = matmul(a.to(DType::F32), b.to(DType::F32)).to_vector();
  expect_near(got, ref, 1e-4);
  expect_near(linear(a.to(DType::F32), w.to(DType::F32), bias.to(DType::F32)).to_vector(),
              linear(a, w, bias).to_vector(), 1e-4);
}

TEST(Linalg, GemmKernelBetaAccumulates) {
  // C = 2 * A B + 1 * C on raw buffers, then K = 0 with beta = 0 writes zeros.
  double a[4] = {1, 2, 3, 4}, b[4] = {1, 0, 0, 1}, c[4] = {1, 1, 1, 1};
  gemm_cpu<double>(false, false, 2, 2, 2, 2.0, a, 2, b, 2, 1.0, c, 2);
  EXPECT_EQ(std::vector<double>(c, c + 4), (std::vector<double>{3, 5, 7, 9}));
  double nan_c[2] = {NAN, NAN};
  gemm_cpu<double>(false, false, 1, 2, 0, 1.0, a, 1, b, 2, 0.0, nan_c, 2);
  EXPECT_EQ(nan_c[0], 0.0);
  EXPECT_EQ(nan_c[1], 0.0);
}

TEST(Linalg, ErrorMessagesNameTheShapes) {
  try {
    matmul(zeros({2, 3}), zeros({4, 5}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("matmul"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 5]"), std::string::npos) << m;
  }
  EXPECT_THROW(matmul(zeros({2, 2, 3}), zeros({3, 3, 4})), ShapeError);  // batch 2 vs 3
  EXPECT_THROW(matmul(zeros({2, 3}), zeros({3, 2}, DType::F64)), DTypeError);
  EXPECT_THROW(matmul(zeros({2, 3}, DType::I64), zeros({3, 2}, DType::I64)), DTypeError);
  EXPECT_THROW(matmul(scalar_tensor(1), zeros({3})), ShapeError);
  try {
    linear(zeros({4, 3}), zeros({2, 5}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("[4, 3]"), std::string::npos) << m;
    EXPECT_NE(m.find("[2, 5]"), std::string::npos) << m;
  }
  EXPECT_THROW(linear(zeros({4, 3}), zeros({2, 3}), zeros({3})), ShapeError);
}
