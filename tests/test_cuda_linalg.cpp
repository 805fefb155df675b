// matmul, linear and conv2d on CUDA (cuBLAS, cuDNN) against the CPU:
// forward and every input gradient, odd sizes, broadcast batch dims,
// transposed and non-GEMM-compatible views, 1-D operands, conv2d geometries
// (1x1, 3x3 stride 1 and 2, 7x7 stride 2, dilation, rectangular options,
// batch 1, an empty batch, a ResNet stage), float64 on the device, TF32 at a
// looser tolerance, a check that FP32 mode is not silently TF32, and the
// cuDNN algorithm cache. Every test skips visibly without a GPU.
//
// Tolerances: 1e-4 relative in fp32 (the GEMM/convolution bound).
// Small products compare with test::expect_parity (CPU float32 reference,
// |err| <= 1e-4 (|want| + 1)). Long sums (convolutions, big GEMMs) compare
// with expect_parity_scaled below: a float64 CPU reference and
// |err| <= rtol (|want| + rms(want)), since a sum of thousands of N(0,1)
// terms that cancels to near 0 has no meaningful relative error of its own.
#include <gtest/gtest.h>

#include <array>
#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "autograd/conv.h"
#include "autograd/linalg.h"
#include "tests/cuda_util.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d_cuda.h"
#endif

namespace sirs {
namespace {

using test::expect_parity;
using test::randn32;

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Sets the math precision for one test and puts FP32 back however the test
// ends (a failed ASSERT returns early).
class PrecisionGuard {
 public:
  explicit PrecisionGuard(MathPrecision p) { set_math_precision(p); }
  ~PrecisionGuard() { set_math_precision(MathPrecision::FP32); }
  PrecisionGuard(const PrecisionGuard&) = delete;
  PrecisionGuard& operator=(const PrecisionGuard&) = delete;
};

double rms(const Tensor& t) {
  std::vector<double> v = t.to_vector();
  double s = 0;
  for (double x : v) s += x * x;
  return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
}

// `got` (CUDA, float32 or float64) against the float64 reference `want`:
// |got - want| <= rtol * (|want| + rms(want)) everywhere. Returns the largest
// error relative to rms(want) for the log line.
double expect_scaled(const Tensor& got, const Tensor& want, double rtol, const std::string& what) {
  EXPECT_EQ(shape_str(got.shape()), shape_str(want.shape())) << what;
  if (got.shape() != want.shape()) return INFINITY;
  const double scale = rms(want);
  test::Closeness c = test::closeness(got, want, rtol, rtol * scale);
  EXPECT_TRUE(c.ok) << what << ": " << c.str() << " (rtol " << rtol << ", rms of reference "
                    << scale << ")";
  return scale > 0 ? c.max_abs / scale : c.max_abs;
}

// Runs fn on float64 CPU copies of `inputs` (the reference) and on CUDA
// copies in the inputs' own dtype, compares the outputs, backpropagates the
// same N(0,1) gradient through both and compares every input gradient, all
// with expect_scaled.
void expect_parity_scaled(const std::string& what, const Fn& fn, const std::vector<Tensor>& inputs,
                          double rtol) {
  std::vector<Tensor> ref, gpu;
  for (const Tensor& t : inputs) {
    Tensor r = t.detach().to(DType::F64).clone(), g = t.detach().to(Device::cuda());
    if (t.requires_grad()) {
      r.set_requires_grad();
      g.set_requires_grad();
    }
    ref.push_back(r);
    gpu.push_back(g);
  }
  Tensor out_r = fn(ref), out_g = fn(gpu);
  ASSERT_TRUE(out_g.device().is_cuda()) << what << ": output left the GPU";
  char line[64];
  std::snprintf(line, sizeof line, "%.3g", expect_scaled(out_g, out_r, rtol, what + " forward"));
  std::string log = what + " forward err/rms " + line;
  if (out_r.requires_grad()) {
    Generator gen(4321);
    Tensor dout = randn(out_r.shape(), DType::F64, &gen);
    out_r.backward(dout);
    out_g.backward(dout.to(out_g.dtype()).to(Device::cuda()));
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].requires_grad()) continue;
      std::string name = what + " d(input " + std::to_string(i) + ")";
      ASSERT_TRUE(gpu[i].grad().defined()) << name << ": no CUDA gradient";
      ASSERT_TRUE(gpu[i].grad().device().is_cuda()) << name << ": gradient left the GPU";
      std::snprintf(line, sizeof line, "%.3g",
                    expect_scaled(gpu[i].grad(), ref[i].grad(), rtol, name));
      log += "; d" + std::to_string(i) + " " + line;
    }
  }
  std::printf("[parity] %s\n", log.c_str());
}

Tensor randn64(const Shape& s, uint64_t seed, bool grad = true) {
  Generator g(seed);
  Tensor t = randn(s, DType::F64, &g);
  if (grad) t.set_requires_grad();
  return t;
}

const Fn kMatmul = [](const std::vector<Tensor>& v) { return matmul(v[0], v[1]); };

// ------------------------------------------------------------------ matmul

TEST(CudaMatmul, TwoDimensionalOddSizes) {
  SIRS_REQUIRE_CUDA();
  // M x K x N: degenerate, odd and not multiples of any tile size, K = 1.
  for (auto [M, K, N] : std::vector<std::array<int64_t, 3>>{
           {1, 1, 1}, {37, 129, 65}, {3, 1, 5}, {1, 70, 1}, {130, 3, 257}}) {
    expect_parity("matmul " + std::to_string(M) + "x" + std::to_string(K) + "x" + std::to_string(N),
                  kMatmul, {randn32({M, K}, 1), randn32({K, N}, 2)}, 1e-4);
  }
}

TEST(CudaMatmul, BatchedWithBroadcastBatchDims) {
  SIRS_REQUIRE_CUDA();
  // [2,1,5,7] x [3,7,4] -> [2,3,5,4]: A steps 0 along the second batch dim,
  // B along the first, so the batch splits into strided runs.
  expect_parity("matmul [2,1,5,7]x[3,7,4]", kMatmul,
                {randn32({2, 1, 5, 7}, 3), randn32({3, 7, 4}, 4)}, 1e-4);
  expect_parity("matmul [2,3,5,7]x[2,3,7,4]", kMatmul,
                {randn32({2, 3, 5, 7}, 5), randn32({2, 3, 7, 4}, 6)}, 1e-4);
  // 2-D A against a batch of B: A broadcast (step 0) over the whole batch.
  expect_parity("matmul [5,7]x[3,7,4]", kMatmul, {randn32({5, 7}, 7), randn32({3, 7, 4}, 8)}, 1e-4);
  // Batch x 2-D: flattened into one GEMM (dB is one GEMM too).
  expect_parity("matmul [4,5,7]x[7,3]", kMatmul, {randn32({4, 5, 7}, 9), randn32({7, 3}, 10)},
                1e-4);
  // Batch of one on one side, size-1 matrix dims.
  expect_parity("matmul [1,1,7]x[6,7,1]", kMatmul, {randn32({1, 1, 7}, 11), randn32({6, 7, 1}, 12)},
                1e-4);
}

TEST(CudaMatmul, TransposedAndStridedViews) {
  SIRS_REQUIRE_CUDA();
  // Transposed views reach cuBLAS as transpose flags (no copy).
  expect_parity(
      "matmul A^T x B^T",
      [](const std::vector<Tensor>& v) {
        return matmul(v[0].transpose(0, 1), v[1].transpose(0, 1));
      },
      {randn32({29, 37}, 13), randn32({41, 29}, 14)}, 1e-4);
  expect_parity(
      "matmul batched A^T x B",
      [](const std::vector<Tensor>& v) { return matmul(v[0].transpose(1, 2), v[1]); },
      {randn32({3, 9, 6}, 15), randn32({3, 9, 5}, 16)}, 1e-4);
  // Permuted batch dims: batch stride smaller than the matrix (entries interleave).
  expect_parity(
      "matmul permuted batch",
      [](const std::vector<Tensor>& v) {
        return matmul(v[0].permute({1, 0, 2}), v[1]);
      },
      {randn32({6, 3, 7}, 17), randn32({3, 7, 4}, 18)}, 1e-4);
  // Step-2 slice of the last dim: no GEMM layout, materialised first.
  expect_parity(
      "matmul stepped slice",
      [](const std::vector<Tensor>& v) { return matmul(v[0].slice(1, 0, 14, 2), v[1]); },
      {randn32({5, 14}, 19), randn32({7, 4}, 20)}, 1e-4);
  // Both operands the same transposed storage: A^T A.
  expect_parity(
      "matmul A^T A",
      [](const std::vector<Tensor>& v) { return matmul(v[0].transpose(0, 1), v[0]); },
      {randn32({33, 17}, 21)}, 1e-4);
}

TEST(CudaMatmul, VectorOperands) {
  SIRS_REQUIRE_CUDA();
  expect_parity("matmul dot [37]x[37]", kMatmul, {randn32({37}, 22), randn32({37}, 23)}, 1e-4);
  expect_parity("matmul [7]x[7,4]", kMatmul, {randn32({7}, 24), randn32({7, 4}, 25)}, 1e-4);
  expect_parity("matmul [3,7]x[7]", kMatmul, {randn32({3, 7}, 26), randn32({7}, 27)}, 1e-4);
  expect_parity("matmul [2,3,7]x[7]", kMatmul, {randn32({2, 3, 7}, 28), randn32({7}, 29)}, 1e-4);
  expect_parity("matmul [7]x[2,7,4]", kMatmul, {randn32({7}, 30), randn32({2, 7, 4}, 31)}, 1e-4);
}

TEST(CudaMatmul, EmptyInnerDimensionGivesZeros) {
  SIRS_REQUIRE_CUDA();
  // K = 0: the product is all zeros (the output's memory is never read).
  Tensor a = zeros({3, 0}, Options(DType::F32, Device::cuda()));
  Tensor b = zeros({0, 4}, Options(DType::F32, Device::cuda()));
  Tensor c = matmul(a, b);
  ASSERT_TRUE(c.device().is_cuda());
  EXPECT_EQ(c.to_vector(), std::vector<double>(12, 0.0));
  Tensor cb = matmul(zeros({2, 3, 0}, Options(DType::F32, Device::cuda())),
                     zeros({2, 0, 4}, Options(DType::F32, Device::cuda())));
  EXPECT_EQ(cb.to_vector(), std::vector<double>(24, 0.0));
  // linear with no input features: y = bias.
  Tensor bias = randn32({4}, 32, false);
  Tensor y = linear(zeros({3, 0}, Options(DType::F32, Device::cuda())),
                    zeros({4, 0}, Options(DType::F32, Device::cuda())), bias.to(Device::cuda()));
  test::expect_close_to(y, bias.unsqueeze(0).expand({3, 4}).contiguous(), 0, 0, "linear in=0");
}

TEST(CudaMatmul, Float64OnTheDevice) {
  SIRS_REQUIRE_CUDA();
  expect_parity("matmul f64 37x129x65", kMatmul, {randn64({37, 129}, 33), randn64({129, 65}, 34)},
                1e-12);
  expect_parity("matmul f64 [2,1,5,7]x[3,7,4]", kMatmul,
                {randn64({2, 1, 5, 7}, 35), randn64({3, 7, 4}, 36)}, 1e-12);
  expect_parity(
      "linear f64", [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); },
      {randn64({6, 37}, 37), randn64({13, 37}, 38), randn64({13}, 39)}, 1e-12);
}

TEST(CudaMatmul, LargeProductsAgainstFloat64) {
  SIRS_REQUIRE_CUDA();
  PrecisionGuard fp32(MathPrecision::FP32);
  // At FP32 the error stays near fp32 rounding (a few 1e-6 of the output's
  // scale at K = 500); TF32's 10-bit mantissa inputs give ~1e-3, so a
  // product that silently ran on TF32 tensor cores fails the 3e-5 bound.
  expect_parity_scaled("matmul 300x500x257 fp32", kMatmul,
                       {randn32({300, 500}, 40), randn32({500, 257}, 41)}, 3e-5);
  expect_parity_scaled("matmul [4,1,64,300]x[3,300,96] fp32", kMatmul,
                       {randn32({4, 1, 64, 300}, 42), randn32({3, 300, 96}, 43)}, 3e-5);
}

TEST(CudaMatmul, Linear) {
  SIRS_REQUIRE_CUDA();
  const Fn with_bias = [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); };
  const Fn no_bias = [](const std::vector<Tensor>& v) { return linear(v[0], v[1]); };
  expect_parity("linear bias", with_bias,
                {randn32({6, 37}, 44), randn32({13, 37}, 45), randn32({13}, 46)}, 1e-4);
  expect_parity("linear no bias", no_bias, {randn32({6, 37}, 47), randn32({13, 37}, 48)}, 1e-4);
  expect_parity("linear 3-D input", with_bias,
                {randn32({2, 5, 37}, 49), randn32({13, 37}, 50), randn32({13}, 51)}, 1e-4);
  expect_parity("linear one row", with_bias,
                {randn32({1, 37}, 52), randn32({1, 37}, 53), randn32({1}, 54)}, 1e-4);
  expect_parity("linear 1-D input", with_bias,
                {randn32({37}, 55), randn32({13, 37}, 56), randn32({13}, 57)}, 1e-4);
  // Transposed input view and a weight given as the transpose of [in, out].
  expect_parity(
      "linear transposed views",
      [](const std::vector<Tensor>& v) {
        return linear(v[0].transpose(0, 1), v[1].transpose(0, 1), v[2]);
      },
      {randn32({37, 6}, 58), randn32({37, 13}, 59), randn32({13}, 60)}, 1e-4);
  // Only some inputs need gradients (the bias-only and input-only paths).
  expect_parity("linear bias grad only", with_bias,
                {randn32({6, 37}, 61, false), randn32({13, 37}, 62, false), randn32({13}, 63)},
                1e-4);
  expect_parity("linear input grad only", with_bias,
                {randn32({6, 37}, 64), randn32({13, 37}, 65, false), randn32({13}, 66, false)},
                1e-4);
  // A layer-sized product against float64.
  expect_parity_scaled("linear 256x512->384", with_bias,
                       {randn32({256, 512}, 67), randn32({384, 512}, 68), randn32({384}, 69)},
                       1e-4);
}

TEST(CudaMatmul, Tf32) {
  SIRS_REQUIRE_CUDA();
  PrecisionGuard tf32(MathPrecision::TF32);
  expect_parity_scaled("matmul 37x129x65 tf32", kMatmul,
                       {randn32({37, 129}, 70), randn32({129, 65}, 71)}, 1e-2);
  expect_parity_scaled("matmul [2,1,5,7]x[3,7,4] tf32", kMatmul,
                       {randn32({2, 1, 5, 7}, 72), randn32({3, 7, 4}, 73)}, 1e-2);
  expect_parity_scaled(
      "linear tf32", [](const std::vector<Tensor>& v) { return linear(v[0], v[1], v[2]); },
      {randn32({64, 300}, 74), randn32({96, 300}, 75), randn32({96}, 76)}, 1e-2);
  // The setting is honoured: a 512^3 product on TF32 tensor cores is off by
  // ~1e-4..1e-3 of its scale, far more than fp32's ~1e-7.
  Tensor a = randn32({512, 512}, 77, false), b = randn32({512, 512}, 78, false);
  Tensor want = matmul(a.to(DType::F64), b.to(DType::F64));
  Tensor got = matmul(a.to(Device::cuda()), b.to(Device::cuda()));
  test::Closeness c = test::closeness(got, want, 0, 0);
  EXPECT_GT(c.max_abs / rms(want), 1e-5)
      << "TF32 requested but the product is as exact as fp32 (" << c.str() << ")";
  EXPECT_LT(c.max_abs / rms(want), 1e-2) << c.str();
}

TEST(CudaMatmul, Tf32SettingIsRestored) {
  // Runs after Tf32 in file order: the guard put FP32 back.
  EXPECT_EQ(math_precision(), MathPrecision::FP32);
}

// ------------------------------------------------------------------ conv2d

struct ConvCase {
  std::string name;
  Shape x, w;
  Conv2dOptions o;
  bool bias;
};

Conv2dOptions opts(int64_t stride, int64_t pad, int64_t dil) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.pad_h = o.pad_w = pad;
  o.dil_h = o.dil_w = dil;
  return o;
}

std::vector<ConvCase> conv_cases() {
  Conv2dOptions rect;
  rect.stride_h = 2, rect.stride_w = 1, rect.pad_h = 1, rect.pad_w = 0, rect.dil_h = 1,
  rect.dil_w = 2;
  return {
      {"1x1", {2, 8, 9, 11}, {6, 8, 1, 1}, opts(1, 0, 1), true},
      {"3x3 s1 p1", {2, 5, 13, 17}, {7, 5, 3, 3}, opts(1, 1, 1), true},
      {"3x3 s2 p1", {2, 4, 15, 16}, {6, 4, 3, 3}, opts(2, 1, 1), true},
      {"7x7 s2 p3 batch 1", {1, 3, 31, 29}, {8, 3, 7, 7}, opts(2, 3, 1), true},
      {"3x3 dilation 2", {2, 3, 17, 17}, {5, 3, 3, 3}, opts(1, 2, 2), true},
      {"3x3 no bias", {2, 5, 13, 17}, {7, 5, 3, 3}, opts(1, 1, 1), false},
      {"odd channels 3->5", {3, 3, 10, 12}, {5, 3, 3, 3}, opts(1, 1, 1), true},
      {"rectangular stride/pad/dilation", {2, 3, 12, 15}, {4, 3, 3, 2}, rect, true},
      {"1x1 s2 downsample", {2, 16, 14, 14}, {32, 16, 1, 1}, opts(2, 0, 1), false},
  };
}

Fn conv_fn(const ConvCase& c) {
  Conv2dOptions o = c.o;
  bool has_bias = c.bias;
  return [o, has_bias](const std::vector<Tensor>& v) {
    return conv2d(v[0], v[1], has_bias ? v[2] : Tensor(), o);
  };
}

std::vector<Tensor> conv_inputs(const ConvCase& c, uint64_t seed) {
  std::vector<Tensor> in = {randn32(c.x, seed), randn32(c.w, seed + 1)};
  if (c.bias) in.push_back(randn32({c.w[0]}, seed + 2));
  return in;
}

TEST(CudaConv2d, Geometries) {
  SIRS_REQUIRE_CUDA();
  PrecisionGuard fp32(MathPrecision::FP32);
  uint64_t seed = 100;
  for (const ConvCase& c : conv_cases()) {
    expect_parity_scaled("conv2d " + c.name, conv_fn(c), conv_inputs(c, seed), 1e-4);
    seed += 3;
  }
}

TEST(CudaConv2d, ResNetStage) {
  SIRS_REQUIRE_CUDA();
  PrecisionGuard fp32(MathPrecision::FP32);
  // A ResNet-18 stage-2 conv at half resolution (64 -> 64, 3x3, pad 1), with
  // a bias so its 1568-pixel reduction is checked too; then the stride-2
  // entry of the next stage.
  ConvCase c{"resnet 2x64x28x28 3x3", {2, 64, 28, 28}, {64, 64, 3, 3}, opts(1, 1, 1), true};
  expect_parity_scaled("conv2d " + c.name, conv_fn(c), conv_inputs(c, 200), 1e-4);
  ConvCase d{"resnet 2x64x28x28 -> 128 s2", {2, 64, 28, 28}, {128, 64, 3, 3}, opts(2, 1, 1), false};
  expect_parity_scaled("conv2d " + d.name, conv_fn(d), conv_inputs(d, 203), 1e-4);
}

TEST(CudaConv2d, PartialGradientsAndViews) {
  SIRS_REQUIRE_CUDA();
  ConvCase c{"", {2, 5, 13, 17}, {7, 5, 3, 3}, opts(1, 1, 1), true};
  // Bias alone needs a gradient (its own reduction kernel), then the input alone.
  expect_parity_scaled("conv2d bias grad only", conv_fn(c),
                       {randn32(c.x, 210, false), randn32(c.w, 211, false), randn32({7}, 212)},
                       1e-4);
  expect_parity_scaled("conv2d input grad only", conv_fn(c),
                       {randn32(c.x, 213), randn32(c.w, 214, false), randn32({7}, 215, false)},
                       1e-4);
  expect_parity_scaled(
      "conv2d weight grad only, no bias",
      [](const std::vector<Tensor>& v) { return conv2d(v[0], v[1], Tensor(), 1, 1); },
      {randn32(c.x, 216, false), randn32(c.w, 217)}, 1e-4);
  // An NHWC input permuted to NCHW: made contiguous on the device first.
  expect_parity_scaled(
      "conv2d permuted input",
      [](const std::vector<Tensor>& v) {
        return conv2d(v[0].permute({0, 3, 1, 2}), v[1], v[2], 2, 1);
      },
      {randn32({2, 13, 17, 5}, 218), randn32(c.w, 219), randn32({7}, 220)}, 1e-4);
}

TEST(CudaConv2d, EmptyBatch) {
  SIRS_REQUIRE_CUDA();
  // B = 0: an empty output, zero weight and bias gradients.
  Tensor x = zeros({0, 3, 8, 8}, Options(DType::F32, Device::cuda())).set_requires_grad();
  Tensor w = randn32({4, 3, 3, 3}, 230, false).to(Device::cuda()).set_requires_grad();
  Tensor b = randn32({4}, 231, false).to(Device::cuda()).set_requires_grad();
  Tensor y = conv2d(x, w, b, 1, 1);
  EXPECT_EQ(shape_str(y.shape()), "[0, 4, 8, 8]");
  y.backward(zeros({0, 4, 8, 8}, Options(DType::F32, Device::cuda())));
  ASSERT_TRUE(w.grad().defined());
  ASSERT_TRUE(b.grad().defined());
  EXPECT_EQ(w.grad().to_vector(), std::vector<double>(4 * 3 * 3 * 3, 0.0));
  EXPECT_EQ(b.grad().to_vector(), std::vector<double>(4, 0.0));
}

TEST(CudaConv2d, Float64OnTheDevice) {
  SIRS_REQUIRE_CUDA();
  for (const ConvCase& c : {conv_cases()[1], conv_cases()[3], conv_cases()[4]}) {
    std::vector<Tensor> in = {randn64(c.x, 240), randn64(c.w, 241)};
    if (c.bias) in.push_back(randn64({c.w[0]}, 242));
    expect_parity("conv2d f64 " + c.name, conv_fn(c), in, 1e-10);
  }
}

TEST(CudaConv2d, Tf32) {
  SIRS_REQUIRE_CUDA();
  PrecisionGuard tf32(MathPrecision::TF32);
  uint64_t seed = 300;
  for (const ConvCase& c : conv_cases()) {
    expect_parity_scaled("conv2d tf32 " + c.name, conv_fn(c), conv_inputs(c, seed), 1e-2);
    seed += 3;
  }
  ConvCase r{"resnet 2x64x28x28 3x3", {2, 64, 28, 28}, {64, 64, 3, 3}, opts(1, 1, 1), true};
  expect_parity_scaled("conv2d tf32 " + r.name, conv_fn(r), conv_inputs(r, 350), 1e-2);
}

#ifdef SIRS_WITH_CUDA
TEST(CudaConv2d, AlgorithmChosenOncePerKey) {
  SIRS_REQUIRE_CUDA();
  PrecisionGuard fp32(MathPrecision::FP32);
  // A geometry no other test uses, so its key is new here.
  ConvCase c{"cache", {3, 6, 19, 23}, {10, 6, 3, 3}, opts(1, 1, 1), true};
  std::vector<Tensor> in = conv_inputs(c, 400);
  std::vector<Tensor> gpu;
  for (const Tensor& t : in) {
    Tensor g = t.detach().to(Device::cuda());
    g.set_requires_grad();
    gpu.push_back(g);
  }
  auto step = [&] {
    Tensor y = conv_fn(c)(gpu);
    y.backward(ones_like(y));
  };
  const int64_t before = conv2d_cudnn_find_count();
  step();
  // One Find per pass: forward, backward data, backward filter.
  EXPECT_EQ(conv2d_cudnn_find_count(), before + 3);
  for (Tensor& t : gpu) t.zero_grad();
  step();
  step();
  EXPECT_EQ(conv2d_cudnn_find_count(), before + 3) << "same key, yet cuDNN Find ran again";

  // The cached plan is what benches get; asking does not search again. At
  // FP32 its math is FMA only (no TF32).
  Conv2dGeom g{3, 6, 19, 23, 10, 3, 3, 19, 23};
  g.pad_h = g.pad_w = 1;
  Conv2dCudnnPlan p = conv2d_cudnn_plan<float>(cudnn_handle(0), 0, false, g, Conv2dPass::Forward);
  EXPECT_EQ(conv2d_cudnn_find_count(), before + 3);
  EXPECT_EQ(p.math_type, CUDNN_FMA_MATH);

  // Calling cuDNN directly with the plan gives conv2d's own output.
  Tensor x = gpu[0].detach(), w = gpu[1].detach();
  Tensor y = conv2d(x, w, Tensor(), 1, 1);
  Tensor y2 = empty(y.shape(), Options(DType::F32, Device::cuda()));
  CudaBuffer ws(p.workspace_bytes, 0);
  const float one = 1, zero = 0;
  SIRS_CUDA_CHECK(cudnnConvolutionForward(cudnn_handle(0), &one, p.x_desc, x.data<float>(),
                                          p.w_desc, w.data<float>(), p.conv_desc,
                                          static_cast<cudnnConvolutionFwdAlgo_t>(p.algo), ws.get(),
                                          p.workspace_bytes, &zero, p.y_desc, y2.data<float>()));
  test::expect_close_to(y2, y, 1e-6, 1e-6, "cuDNN called directly with the cached plan");

  // Another precision is another key: one more Find, for the forward only.
  {
    PrecisionGuard tf32(MathPrecision::TF32);
    conv_fn(c)(gpu);
    EXPECT_EQ(conv2d_cudnn_find_count(), before + 4);
  }
  // A plan asked for before any conv2d call searches once, on scratch tensors.
  Conv2dGeom h = g;
  h.B = 5;
  conv2d_cudnn_plan<float>(cudnn_handle(0), 0, false, h, Conv2dPass::BackwardFilter);
  conv2d_cudnn_plan<float>(cudnn_handle(0), 0, false, h, Conv2dPass::BackwardFilter);
  EXPECT_EQ(conv2d_cudnn_find_count(), before + 5);
}
#endif

}  // namespace
}  // namespace sirs
