// CPU vs CUDA parity of batch / group / layer norm (kernels/cuda/norm.cu),
// forward and backward (x, weight, bias), float32 at 1e-4 relative (+1e-4
// absolute), plus float64 at 1e-10 to check the formulas beyond fp32
// rounding. Shapes cover every load path of the kernels: S a multiple of 4
// (16-byte vectors inside a row), S == 1 with C or C / G a multiple of 4
// (vectors across channels), odd sizes (scalar path), a misaligned storage
// offset (scalar fallback), batch 1, reductions long enough to be split
// over many blocks, a mean of 100 with std 1 (cancellation), and
// non-contiguous inputs. Batch norm also checks the running statistics on
// the device after three training steps and through a strided view.
// Every test skips without a GPU.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/norm.h"
#include "kernels/norm.h"
#include "tests/cuda_util.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/norm_cuda.h"
#endif

namespace sirs {
namespace {

using test::expect_close_to;
using test::expect_parity;
using test::randn32;

constexpr double kTol = 1e-4;     // float32, reductions
constexpr double kTol64 = 1e-10;  // float64

// weight-like: U[0.5, 1.5) so no channel is switched off.
Tensor weight32(const Shape& s, uint64_t seed, bool grad = true) {
  Generator g(seed);
  Tensor t = uniform(s, 0.5, 1.5, DType::F32, &g);
  if (grad) t.set_requires_grad();
  return t;
}
Tensor weight32(int64_t C, uint64_t seed, bool grad = true) {
  return weight32(Shape{C}, seed, grad);
}

Tensor normal32(const Shape& s, double mean, double std, uint64_t seed) {
  Generator g(seed);
  return normal(s, mean, std, DType::F32, &g).set_requires_grad();
}

Tensor to64(const Tensor& t) {
  Tensor d = t.detach().to(DType::F64);
  if (t.requires_grad()) d.set_requires_grad();
  return d;
}

// [C] running statistics on x's device: zeros / ones, or given values.
Tensor on_device_of(const Tensor& x, const Tensor& values) {
  return values.detach().to(x.device()).clone();
}

// batch_norm in training mode with fresh running statistics on x's device
// (they are only updated, so the output does not depend on them).
Tensor bn_train(const std::vector<Tensor>& in) {
  const int64_t C = in[0].size(1);
  const Options o(in[0].dtype(), in[0].device());
  Tensor rm = zeros({C}, o), rv = ones({C}, o);
  return batch_norm(in[0], in.size() > 1 ? in[1] : Tensor(), in.size() > 2 ? in[2] : Tensor(), rm,
                    rv, true);
}

// ------------------------------------------------------------------ batch norm

TEST(CudaBatchNorm, TrainingParityAcrossLoadPaths) {
  SIRS_REQUIRE_CUDA();
  const std::vector<Shape> shapes = {
      {4, 3, 5, 7},     // S = 35: scalar loads
      {3, 5, 7, 9},     // odd everywhere
      {1, 3, 5, 7},     // batch 1, H * W > 1
      {8, 16, 16, 16},  // S = 256: float4 inside rows
      {5, 6, 12},       // [B, C, L], S = 12
      {37, 5},          // [B, C], C odd: scalar
      {16, 64},         // [B, C], C % 4 == 0: float4 across channels
      {2, 3, 1, 1},     // S = 1, n = 2
  };
  uint64_t seed = 10;
  for (const Shape& s : shapes) {
    const int64_t C = s[1];
    expect_parity("batch_norm train " + shape_str(s), bn_train,
                  {randn32(s, seed), weight32(C, seed + 1), randn32({C}, seed + 2)}, kTol);
    seed += 3;
  }
}

TEST(CudaBatchNorm, TrainingWithoutAffineOrRunningStats) {
  SIRS_REQUIRE_CUDA();
  for (const Shape& s : {Shape{4, 3, 5, 7}, Shape{2, 8, 8, 8}, Shape{9, 12}}) {
    expect_parity("batch_norm train no affine " + shape_str(s), bn_train, {randn32(s, 21)}, kTol);
    expect_parity(
        "batch_norm train no running stats " + shape_str(s),
        [](const std::vector<Tensor>& in) {
          return batch_norm(in[0], in[1], Tensor(), Tensor(), Tensor(), true);
        },
        {randn32(s, 22), weight32(s[1], 23)}, kTol);
  }
}

TEST(CudaBatchNorm, EvalParity) {
  SIRS_REQUIRE_CUDA();
  for (const Shape& s : {Shape{4, 3, 5, 7}, Shape{2, 8, 8, 8}, Shape{1, 5, 3, 3}, Shape{6, 8}}) {
    const int64_t C = s[1];
    Generator g(31);
    Tensor rm = randn({C}, DType::F32, &g), rv = uniform({C}, 0.5, 2.0, DType::F32, &g);
    expect_parity(
        "batch_norm eval " + shape_str(s),
        [&](const std::vector<Tensor>& in) {
          return batch_norm(in[0], in[1], in[2], on_device_of(in[0], rm), on_device_of(in[0], rv),
                            false);
        },
        {randn32(s, 32), weight32(C, 33), randn32({C}, 34)}, kTol);
    expect_parity(
        "batch_norm eval no affine " + shape_str(s),
        [&](const std::vector<Tensor>& in) {
          return batch_norm(in[0], Tensor(), Tensor(), on_device_of(in[0], rm),
                            on_device_of(in[0], rv), false);
        },
        {randn32(s, 35)}, kTol);
  }
}

TEST(CudaBatchNorm, LargeMeanAndLongSplitReductions) {
  SIRS_REQUIRE_CUDA();
  // Channels of 8 * 56 * 56 values around 100 with std 1: a float
  // E[x^2] - E[x]^2 would lose every digit of the variance.
  Tensor x = normal32({8, 3, 56, 56}, 100.0, 1.0, 41);
  expect_parity("batch_norm train mean 100", bn_train, {x, weight32(3, 42), randn32({3}, 43)},
                kTol);
  // The batch statistics themselves, read back through momentum 1:
  // running_mean = mean, running_var = var * n / (n - 1).
  Tensor rm_c = zeros({3}), rv_c = ones({3});
  Tensor rm_g = rm_c.to(Device::cuda()), rv_g = rv_c.to(Device::cuda());
  batch_norm(x.detach(), Tensor(), Tensor(), rm_c, rv_c, true, 1.0);
  batch_norm(x.detach().to(Device::cuda()), Tensor(), Tensor(), rm_g, rv_g, true, 1.0);
  expect_close_to(rm_g, rm_c, 1e-6, 0, "batch mean at mean 100");
  expect_close_to(rv_g, rv_c, kTol, 0, "batch var at mean 100");
  // 2 channels of 4 * 256 * 256: each split over many blocks.
  expect_parity("batch_norm train [4, 2, 256, 256]", bn_train,
                {randn32({4, 2, 256, 256}, 44), weight32(2, 45), randn32({2}, 46)}, kTol);
}

TEST(CudaBatchNorm, NonContiguousAndMisalignedInputs) {
  SIRS_REQUIRE_CUDA();
  // Channels-last storage permuted to [B, C, H, W].
  expect_parity(
      "batch_norm train permuted",
      [](const std::vector<Tensor>& in) {
        return bn_train({in[0].permute({0, 3, 1, 2}), in[1], in[2]});
      },
      {randn32({3, 6, 10, 5}, 51), weight32(5, 52), randn32({5}, 53)}, kTol);
  // Every other channel of [2, 8, 4, 4].
  expect_parity(
      "batch_norm train channel slice",
      [](const std::vector<Tensor>& in) {
        return bn_train({in[0].slice(1, 0, 8, 2), in[1]});
      },
      {randn32({2, 8, 4, 4}, 54), weight32(4, 55)}, kTol);
  // A contiguous view at storage offset 1: S % 4 == 0 but the pointer is
  // not 16-byte aligned, so the kernels must take the scalar path.
  const int64_t n = 2 * 3 * 8 * 8;
  expect_parity(
      "batch_norm train offset 1",
      [&](const std::vector<Tensor>& in) {
        return bn_train({in[0].narrow(0, 1, n).view({2, 3, 8, 8}), in[1], in[2]});
      },
      {randn32({n + 1}, 56), weight32(3, 57), randn32({3}, 58)}, kTol);
}

TEST(CudaBatchNorm, RunningStatisticsAfterThreeSteps) {
  SIRS_REQUIRE_CUDA();
  const int64_t C = 5;
  Tensor rm_c = zeros({C}), rv_c = ones({C});
  Tensor rm_g = rm_c.to(Device::cuda()), rv_g = rv_c.to(Device::cuda());
  Tensor w = weight32(C, 61, false), b = randn32({C}, 62, false);
  Tensor w_g = w.to(Device::cuda()), b_g = b.to(Device::cuda());
  for (int step = 0; step < 3; ++step) {
    Tensor x = normal32({4, C, 6, 7}, 0.5 * step, 1.0 + step, 63 + step).detach();
    Tensor y_c = batch_norm(x, w, b, rm_c, rv_c, true);
    Tensor y_g = batch_norm(x.to(Device::cuda()), w_g, b_g, rm_g, rv_g, true);
    expect_close_to(y_g, y_c, kTol, kTol, "output of step " + std::to_string(step));
  }
  ASSERT_TRUE(rm_g.device().is_cuda());
  ASSERT_TRUE(rv_g.device().is_cuda());
  expect_close_to(rm_g, rm_c, kTol, 1e-6, "running_mean after 3 steps");
  expect_close_to(rv_g, rv_c, kTol, 1e-6, "running_var after 3 steps");
  // Eval with the statistics each device accumulated.
  Tensor x = randn32({3, C, 4, 4}, 70, false);
  expect_close_to(batch_norm(x.to(Device::cuda()), w_g, b_g, rm_g, rv_g, false),
                  batch_norm(x, w, b, rm_c, rv_c, false), kTol, kTol, "eval after 3 steps");
}

TEST(CudaBatchNorm, RunningStatisticsThroughStridedView) {
  SIRS_REQUIRE_CUDA();
  // Every other element of a [6] buffer holds the statistics of 3 channels.
  Tensor rm_buf = zeros({6}, Options(DType::F32, Device::cuda()));
  Tensor rv_buf = ones({6}, Options(DType::F32, Device::cuda()));
  Tensor rm_c = zeros({3}), rv_c = ones({3});
  Tensor x = randn32({4, 3, 2}, 71, false);
  batch_norm(x.to(Device::cuda()), Tensor(), Tensor(), rm_buf.slice(0, 0, 6, 2),
             rv_buf.slice(0, 0, 6, 2), true);
  batch_norm(x, Tensor(), Tensor(), rm_c, rv_c, true);
  expect_close_to(rm_buf.slice(0, 0, 6, 2), rm_c, kTol, 1e-6, "strided running_mean");
  expect_close_to(rv_buf.slice(0, 0, 6, 2), rv_c, kTol, 1e-6, "strided running_var");
  std::vector<double> m = rm_buf.to_vector(), v = rv_buf.to_vector();
  for (int i = 1; i < 6; i += 2) {
    EXPECT_EQ(m[i], 0.0) << "running_mean buffer element " << i << " was written";
    EXPECT_EQ(v[i], 1.0) << "running_var buffer element " << i << " was written";
  }
}

TEST(CudaBatchNorm, Float64Parity) {
  SIRS_REQUIRE_CUDA();
  for (const Shape& s : {Shape{3, 5, 7, 9}, Shape{4, 6, 6, 6}, Shape{10, 8}}) {
    const int64_t C = s[1];
    expect_parity("batch_norm train f64 " + shape_str(s), bn_train,
                  {to64(randn32(s, 81)), to64(weight32(C, 82)), to64(randn32({C}, 83))}, kTol64);
  }
  Generator g(84);
  Tensor rm = randn({6}, DType::F64, &g), rv = uniform({6}, 0.5, 2.0, DType::F64, &g);
  expect_parity(
      "batch_norm eval f64",
      [&](const std::vector<Tensor>& in) {
        return batch_norm(in[0], in[1], in[2], on_device_of(in[0], rm), on_device_of(in[0], rv),
                          false);
      },
      {to64(randn32({4, 6, 6, 6}, 85)), to64(weight32(6, 86)), to64(randn32({6}, 87))}, kTol64);
}

TEST(CudaBatchNorm, ParametersOnAnotherDeviceAreRefused) {
  SIRS_REQUIRE_CUDA();
  Tensor x = zeros({2, 3, 4}, Options(DType::F32, Device::cuda()));
  EXPECT_THROW(batch_norm(x, ones({3}), Tensor(), Tensor(), Tensor(), true), DeviceError);
  EXPECT_THROW(batch_norm(x, Tensor(), Tensor(), zeros({3}), ones({3}), false), DeviceError);
}

// ------------------------------------------------------------------ group norm

TEST(CudaGroupNorm, GroupsOneBetweenAndPerChannel) {
  SIRS_REQUIRE_CUDA();
  const std::vector<Shape> shapes = {
      {2, 12, 5, 7},  // S = 35: scalar
      {3, 12, 8, 8},  // S = 64: float4 inside rows
      {1, 12, 3, 3},  // batch 1
      {5, 12},        // S = 1: across channels when C / G % 4 == 0 (G = 1), else scalar
      {2, 12, 6},     // [B, C, L]
  };
  uint64_t seed = 100;
  for (const Shape& s : shapes) {
    for (int64_t G : {1, 4, 12}) {
      expect_parity(
          "group_norm G=" + std::to_string(G) + " " + shape_str(s),
          [G](const std::vector<Tensor>& in) { return group_norm(in[0], G, in[1], in[2]); },
          {randn32(s, seed), weight32(12, seed + 1), randn32({12}, seed + 2)}, kTol);
      seed += 3;
    }
  }
}

TEST(CudaGroupNorm, WithoutAffineAndDecoderShape) {
  SIRS_REQUIRE_CUDA();
  expect_parity(
      "group_norm no affine",
      [](const std::vector<Tensor>& in) { return group_norm(in[0], 3, Tensor(), Tensor()); },
      {randn32({3, 9, 5, 5}, 111)}, kTol);
  expect_parity(
      "group_norm weight only",
      [](const std::vector<Tensor>& in) { return group_norm(in[0], 2, in[1], Tensor()); },
      {randn32({2, 8, 4, 4}, 112), weight32(8, 113)}, kTol);
  // The decoder's GroupNorm(128 groups, 128 channels).
  expect_parity(
      "group_norm [2, 128, 14, 14] G=128",
      [](const std::vector<Tensor>& in) { return group_norm(in[0], 128, in[1], in[2]); },
      {randn32({2, 128, 14, 14}, 114), weight32(128, 115), randn32({128}, 116)}, kTol);
}

TEST(CudaGroupNorm, LargeMeanLongGroupsAndNonContiguous) {
  SIRS_REQUIRE_CUDA();
  // Groups of 2 * 56 * 56 values around 100, std 1; 2 groups per sample.
  expect_parity(
      "group_norm mean 100",
      [](const std::vector<Tensor>& in) { return group_norm(in[0], 2, in[1], in[2]); },
      {normal32({2, 4, 56, 56}, 100.0, 1.0, 121), weight32(4, 122), randn32({4}, 123)}, kTol);
  // One group of 8 * 128 * 128 per sample, split over many blocks.
  expect_parity(
      "group_norm [1, 8, 128, 128] G=1",
      [](const std::vector<Tensor>& in) { return group_norm(in[0], 1, in[1], in[2]); },
      {randn32({1, 8, 128, 128}, 124), weight32(8, 125), randn32({8}, 126)}, kTol);
  expect_parity(
      "group_norm permuted",
      [](const std::vector<Tensor>& in) {
        return group_norm(in[0].permute({0, 3, 1, 2}), 4, in[1], in[2]);
      },
      {randn32({2, 5, 6, 12}, 127), weight32(12, 128), randn32({12}, 129)}, kTol);
  const int64_t n = 2 * 8 * 4 * 4;
  expect_parity(
      "group_norm offset 1",
      [&](const std::vector<Tensor>& in) {
        return group_norm(in[0].narrow(0, 1, n).view({2, 8, 4, 4}), 4, in[1], in[2]);
      },
      {randn32({n + 1}, 130), weight32(8, 131), randn32({8}, 132)}, kTol);
}

// Segments up to 2048 vectors run resident (one block holds the group);
// one more vector and the split path runs. Both sides of the edge, with
// float4 loads (S % 4 == 0) and scalar ones.
TEST(CudaGroupNorm, ResidentAndSplitPathsMeet) {
  SIRS_REQUIRE_CUDA();
  const std::vector<std::pair<Shape, int64_t>> cases = {
      {{2, 8, 32, 32}, 1},   // 8192 values: 2048 vectors, resident
      {{2, 8, 32, 33}, 1},   // 8448: 2112 vectors, split
      {{3, 16, 11, 13}, 8},  // S = 143, scalar: 286 values
      {{1, 4, 45, 45}, 1},   // S = 2025, scalar: 8100 values > 2048, split
      {{4, 64, 16, 16}, 32},  // 512 values: 128 vectors, 128 threads
  };
  uint64_t seed = 150;
  for (const auto& [s, G] : cases) {
    const int64_t C = s[1];
    expect_parity(
        "group_norm G=" + std::to_string(G) + " " + shape_str(s),
        [G = G](const std::vector<Tensor>& in) { return group_norm(in[0], G, in[1], in[2]); },
        {randn32(s, seed), weight32(C, seed + 1), randn32({C}, seed + 2)}, kTol);
    seed += 3;
  }
}

// Every version of the forward launcher (the autograd op runs the live
// one) against the CPU kernel: output, mean and invstd, on shapes that take
// each version's own path and its fallback.
TEST(CudaGroupNorm, EveryForwardVersionMatchesTheCpu) {
  SIRS_REQUIRE_CUDA();
#ifdef SIRS_WITH_CUDA
  struct Case {
    Shape s;
    int64_t G;
  };
  const std::vector<Case> cases = {
      {{300, 64, 8, 8}, 32},  // 128 values per group, 9600 groups: every version's path
      {{200, 12, 5, 7}, 4},   // S = 35: scalar loads
      {{2, 8, 32, 33}, 1},    // 8448 values, 2 groups: falls back to the split path
      // Version 5's ring: several segments per block, so every stage is
      // reused (the bench's shape; 2048 short segments; 360 vectors for 384
      // threads, 400 segments).
      {{32, 256, 32, 32}, 32},
      {{256, 64, 16, 16}, 8},
      {{100, 48, 10, 12}, 4},
      // Version 6's clusters: 1400 vectors over 4 blocks (a short last
      // part), and 4096 vectors over 8 (version 12: the same splits, in
      // blocks of 64 threads).
      {{10, 30, 20, 28}, 3},
      {{6, 64, 32, 32}, 4},
      // Version 12's other cluster sizes: 512 vectors (a cluster of one
      // block), 768 over 2, and its largest, 16384 over 8 blocks of 256
      // threads; 16896 vectors is past every version's fast path.
      {{4, 32, 8, 8}, 1},
      {{3, 48, 8, 8}, 1},
      {{2, 64, 32, 32}, 1},
      {{1, 64, 33, 32}, 1},
  };
  uint64_t seed = 170;
  for (const Case& c : cases) {
    const int64_t B = c.s[0], C = c.s[1], S = shape_numel(c.s) / (B * C);
    Tensor x = randn32(c.s, seed, false), w = weight32(C, seed + 1, false),
           b = randn32({C}, seed + 2, false);
    seed += 3;
    Tensor out = empty(c.s), mean = empty({B, c.G}), invstd = empty({B, c.G});
    group_norm_forward_cpu<float>(x.data<float>(), w.data<float>(), b.data<float>(),
                                  out.data<float>(), mean.data<float>(), invstd.data<float>(), B,
                                  C, S, c.G, 1e-5);
    const Device gpu = Device::cuda();
    Tensor xg = x.to(gpu), wg = w.to(gpu), bg = b.to(gpu);
    for (int v = 1; v <= kGroupNormForwardCudaVersions; ++v) {
      Tensor og = empty(c.s, Options(DType::F32, gpu)), mg = empty({B, c.G}, Options(DType::F32, gpu)),
             ig = empty({B, c.G}, Options(DType::F32, gpu));
      group_norm_forward_cuda<float>(xg.data<float>(), wg.data<float>(), bg.data<float>(),
                                     og.data<float>(), mg.data<float>(), ig.data<float>(), B, C, S,
                                     c.G, 1e-5, 0, cuda_stream(0), v);
      const std::string what = "version " + std::to_string(v) + " " + shape_str(c.s);
      expect_close_to(og.to(Device::cpu()), out, kTol, kTol, what + " out");
      expect_close_to(mg.to(Device::cpu()), mean, kTol, kTol, what + " mean");
      expect_close_to(ig.to(Device::cpu()), invstd, kTol, kTol, what + " invstd");
    }
  }
#endif
}

TEST(CudaGroupNorm, Float64Parity) {
  SIRS_REQUIRE_CUDA();
  for (int64_t G : {1, 3, 6}) {
    expect_parity(
        "group_norm f64 G=" + std::to_string(G),
        [G](const std::vector<Tensor>& in) { return group_norm(in[0], G, in[1], in[2]); },
        {to64(randn32({3, 6, 5, 4}, 141)), to64(weight32(6, 142)), to64(randn32({6}, 143))},
        kTol64);
  }
}

// ------------------------------------------------------------------ layer norm

TEST(CudaLayerNorm, LastOneAndTwoDims) {
  SIRS_REQUIRE_CUDA();
  struct Case {
    Shape x, normalized;
  };
  const std::vector<Case> cases = {
      {{4, 7, 33}, {33}},         // N = 33: scalar
      {{4, 7, 64}, {64}},         // N = 64: float4 across the row
      {{1, 1000003}, {1000003}},  // one long row, split over many blocks
      {{3, 5, 8, 12}, {8, 12}},   // last 2 dims, N = 96
      {{2, 3, 5, 7}, {5, 7}},     // last 2 dims, N = 35
      {{6, 1}, {1}},              // N = 1: every output is the bias
  };
  uint64_t seed = 200;
  for (const Case& c : cases) {
    expect_parity(
        "layer_norm " + shape_str(c.x) + " over " + shape_str(c.normalized),
        [&](const std::vector<Tensor>& in) {
          return layer_norm(in[0], c.normalized, in[1], in[2]);
        },
        {randn32(c.x, seed), weight32(c.normalized, seed + 1), randn32(c.normalized, seed + 2)},
        kTol);
    seed += 3;
  }
}

TEST(CudaLayerNorm, WithoutAffineLargeMeanNonContiguousFloat64) {
  SIRS_REQUIRE_CUDA();
  expect_parity(
      "layer_norm no affine",
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], {20}, Tensor(), Tensor()); },
      {randn32({3, 4, 20}, 211)}, kTol);
  expect_parity(
      "layer_norm mean 100",
      [](const std::vector<Tensor>& in) { return layer_norm(in[0], {512}, in[1], in[2]); },
      {normal32({16, 512}, 100.0, 1.0, 212), weight32(512, 213), randn32({512}, 214)}, kTol);
  expect_parity(
      "layer_norm transposed",
      [](const std::vector<Tensor>& in) {
        return layer_norm(in[0].transpose(0, 1), {24}, in[1], in[2]);
      },
      {randn32({5, 3, 24}, 215), weight32(24, 216), randn32({24}, 217)}, kTol);
  expect_parity(
      "layer_norm f64",
      [](const std::vector<Tensor>& in) {
        return layer_norm(in[0], {6, 5}, in[1], in[2]);
      },
      {to64(randn32({4, 6, 5}, 218)), to64(randn32({6, 5}, 219)), to64(randn32({6, 5}, 220))},
      kTol64);
}

}  // namespace
}  // namespace sirs
