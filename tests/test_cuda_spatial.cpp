// CPU vs CUDA parity of the spatial ops: max_pool2d, adaptive average / max
// pooling and bilinear resampling, forward and backward, on shapes that are
// not multiples of any block size (the ResNet stem, non-dividing adaptive
// windows, Out > In, odd resampling sizes, batch 1, non-contiguous inputs),
// both forward versions of the adaptive pools, float and double. Max ops get
// tie-free inputs and their argmax indices are compared exactly through the
// launchers, which also check the beta (accumulate) path autograd never
// takes. Every test skips visibly without a GPU.
//
// Tolerances (issue #3): 1e-5 for the forward values, 1e-4 for the
// gradients (sums of several terms).
//
// Test: make test GTEST_FILTER='CudaMaxPool*:CudaAdaptivePool*:CudaUpsample*'
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "autograd/adaptive_pool.h"
#include "autograd/pool.h"
#include "autograd/upsample.h"
#include "kernels/adaptive_pool.h"
#include "kernels/pool.h"
#include "kernels/upsample.h"
#include "tests/cuda_util.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/adaptive_pool_cuda.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/pool_cuda.h"
#include "kernels/cuda/upsample_cuda.h"
#endif

namespace sirs {
namespace {

using test::expect_close_to;
using test::expect_parity;
using test::randn32;

constexpr double kFwdTol = 1e-5;
constexpr double kBwdTol = 1e-4;

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// Forward within kFwdTol (on inputs without grad), then forward and every
// input gradient within kBwdTol.
void parity(const std::string& what, const Fn& fn, const std::vector<Tensor>& inputs) {
  std::vector<Tensor> cpu, gpu;
  for (const Tensor& t : inputs) {
    cpu.push_back(t.detach());
    gpu.push_back(t.detach().to(Device::cuda()));
  }
  Tensor want = fn(cpu), got = fn(gpu);
  ASSERT_TRUE(got.device().is_cuda()) << what << ": output left the GPU";
  expect_close_to(got, want, kFwdTol, kFwdTol, what + " forward");
  expect_parity(what, fn, inputs, kBwdTol);
}

// A float32 [shape] leaf requiring grad whose values are distinct (a
// shuffled k / 1024, exact in float32 below 2^24 elements): no ties for the
// max ops, so the argmax is unique and devices cannot legally differ.
Tensor distinct32(const Shape& s, uint64_t seed, bool grad = true) {
  const int64_t n = shape_numel(s);
  std::vector<int64_t> p(static_cast<size_t>(n));
  std::iota(p.begin(), p.end(), int64_t{0});
  std::mt19937_64 rng(seed);
  std::shuffle(p.begin(), p.end(), rng);
  std::vector<double> v(p.size());
  for (size_t i = 0; i < p.size(); ++i) v[i] = static_cast<double>(p[i] - n / 2) / 1024.0;
  Tensor t = from_vector(v, s, DType::F32);
  if (grad) t.set_requires_grad();
  return t;
}

// Some NaNs sprinkled over a distinct-valued tensor (every 7th element from
// `first`), for the NaN-propagation checks.
Tensor with_nans32(const Shape& s, uint64_t seed, int64_t first) {
  std::vector<double> v = distinct32(s, seed, false).to_vector();
  for (size_t i = static_cast<size_t>(first); i < v.size(); i += 7) v[i] = NAN;
  return from_vector(v, s, DType::F32).set_requires_grad();
}

Tensor as_f64_leaf(const Tensor& t) { return t.detach().to(DType::F64).set_requires_grad(); }

// A leaf stored NHWC; nchw_view gives the non-contiguous [B, C, H, W] the
// tests feed to the ops.
Tensor permuted_leaf(const Shape& nchw, uint64_t seed) {
  return distinct32({nchw[0], nchw[2], nchw[3], nchw[1]}, seed);
}
Tensor nchw_view(const Tensor& nhwc) { return nhwc.permute({0, 3, 1, 2}); }

// ---------------------------------------------------------------- max_pool2d

Fn max_pool_fn(int64_t k, int64_t s, int64_t p) {
  return [=](const std::vector<Tensor>& in) { return max_pool2d(in[0], k, s, p); };
}

TEST(CudaMaxPool, ResNetStem3x3Stride2Pad1) {
  SIRS_REQUIRE_CUDA();
  parity("max_pool2d 3x3/2 pad 1 [2,3,37,41]", max_pool_fn(3, 2, 1),
         {distinct32({2, 3, 37, 41}, 1)});
  parity("max_pool2d 3x3/2 pad 1 [2,64,56,56]", max_pool_fn(3, 2, 1),
         {distinct32({2, 64, 56, 56}, 2)});
}

TEST(CudaMaxPool, TwoByTwoStride2AndFloorMode) {
  SIRS_REQUIRE_CUDA();
  parity("max_pool2d 2x2/2 [2,3,37,41]", max_pool_fn(2, 2, 0), {distinct32({2, 3, 37, 41}, 3)});
  parity("max_pool2d 2x2/2 [1,5,8,8]", max_pool_fn(2, 2, 0), {distinct32({1, 5, 8, 8}, 4)});
}

TEST(CudaMaxPool, OverlappingWindowsSumTheirGradients) {
  SIRS_REQUIRE_CUDA();
  // stride < kernel: several windows may pick the same element; the gather
  // must add all of them.
  parity("max_pool2d 3x3/1 pad 1 [1,4,23,19]", max_pool_fn(3, 1, 1),
         {distinct32({1, 4, 23, 19}, 5)});
  parity("max_pool2d 3x3/1 [1,2,9,31]", max_pool_fn(3, 1, 0), {distinct32({1, 2, 9, 31}, 6)});
  parity("max_pool2d 5x5/3 pad 2 [2,3,17,29]", max_pool_fn(5, 3, 2),
         {distinct32({2, 3, 17, 29}, 7)});
  // stride > kernel: some inputs lie in no window and get a zero gradient.
  parity("max_pool2d 2x2/3 [1,3,20,14]", max_pool_fn(2, 3, 0), {distinct32({1, 3, 20, 14}, 8)});
}

TEST(CudaMaxPool, BatchOneTinyAndDouble) {
  SIRS_REQUIRE_CUDA();
  parity("max_pool2d 3x3/2 pad 1 [1,1,1,1]", max_pool_fn(3, 2, 1), {distinct32({1, 1, 1, 1}, 9)});
  parity("max_pool2d 3x3/2 pad 1 [1,1,2,3]", max_pool_fn(3, 2, 1), {distinct32({1, 1, 2, 3}, 10)});
  parity("max_pool2d f64 3x3/2 pad 1 [2,3,37,41]", max_pool_fn(3, 2, 1),
         {as_f64_leaf(distinct32({2, 3, 37, 41}, 11))});
}

TEST(CudaMaxPool, NonContiguousInput) {
  SIRS_REQUIRE_CUDA();
  Fn fn = [](const std::vector<Tensor>& in) { return max_pool2d(nchw_view(in[0]), 3, 2, 1); };
  parity("max_pool2d on a permuted [2,5,21,18]", fn, {permuted_leaf({2, 5, 21, 18}, 12)});
}

TEST(CudaMaxPool, NaNPropagatesAsOnTheCpu) {
  SIRS_REQUIRE_CUDA();
  // The first NaN of a window wins, and its gradient goes there.
  parity("max_pool2d NaN 3x3/2 pad 1 [2,3,15,13]", max_pool_fn(3, 2, 1),
         {with_nans32({2, 3, 15, 13}, 13, 3)});
  parity("max_pool2d NaN 3x3/1 pad 1 [1,2,11,9]", max_pool_fn(3, 1, 1),
         {with_nans32({1, 2, 11, 9}, 14, 0)});
}

#ifdef SIRS_WITH_CUDA
// The launchers directly: argmax indices exactly, and the backward's beta
// (overwrite, accumulate, scale) against the CPU kernels.
void check_max_pool_launchers(const Shape& s, int64_t k, int64_t st, int64_t p, uint64_t seed,
                              bool nans) {
  SCOPED_TRACE(str_cat("max_pool2d ", shape_str(s), " k ", k, " s ", st, " p ", p));
  Pool2dGeom g{
      s[0], s[1], s[2], s[3], pool2d_out_size(s[2], k, st, p), pool2d_out_size(s[3], k, st, p),
      k,    st,   p};
  Tensor x = nans ? with_nans32(s, seed, 1).detach() : distinct32(s, seed, false);
  const Shape os{g.B, g.C, g.Ho, g.Wo};
  Tensor yc = empty(os, DType::F32), ic = empty(os, DType::I64);
  max_pool2d_forward_cpu<float>(g, x.data<float>(), yc.data<float>(), ic.data<int64_t>());
  Tensor xg = x.to(Device::cuda());
  Tensor yg = empty(os, Options(DType::F32, Device::cuda()));
  Tensor ig = empty(os, Options(DType::I64, Device::cuda()));
  max_pool2d_forward_cuda<float>(g, xg.data<float>(), yg.data<float>(), ig.data<int64_t>(),
                                 cuda_stream(0));
  EXPECT_EQ(ig.to_vector(), ic.to_vector()) << "argmax indices differ";
  expect_close_to(yg, yc, 0, 0, "max values");
  Tensor dy = randn32(os, seed + 100, false);
  Tensor dyg = dy.to(Device::cuda());
  for (float beta : {0.0f, 1.0f, 0.5f}) {
    Tensor dxc = beta == 0 ? full(s, NAN, DType::F32) : randn32(s, seed + 200, false);
    Tensor dxg = dxc.to(Device::cuda());
    max_pool2d_backward_cpu<float>(g, dy.data<float>(), ic.data<int64_t>(), beta,
                                   dxc.data<float>());
    max_pool2d_backward_cuda<float>(g, dyg.data<float>(), ig.data<int64_t>(), beta,
                                    dxg.data<float>(), cuda_stream(0));
    expect_close_to(dxg, dxc, kBwdTol, kBwdTol, str_cat("dx with beta ", beta));
  }
}

TEST(CudaMaxPool, LaunchersIndicesExactAndBeta) {
  SIRS_REQUIRE_CUDA();
  check_max_pool_launchers({2, 3, 37, 41}, 3, 2, 1, 21, false);
  check_max_pool_launchers({2, 3, 37, 41}, 2, 2, 0, 22, false);
  check_max_pool_launchers({1, 4, 23, 19}, 3, 1, 1, 23, false);
  check_max_pool_launchers({2, 3, 15, 13}, 3, 2, 1, 24, true);
}
#endif

// ------------------------------------------------------ adaptive pooling

using PoolOp = Tensor (*)(const Tensor&, int64_t, int64_t);

Fn adaptive_fn(PoolOp op, int64_t oh, int64_t ow) {
  return [=](const std::vector<Tensor>& in) { return op(in[0], oh, ow); };
}

void both_adaptive(const Shape& s, int64_t oh, int64_t ow, uint64_t seed) {
  const std::string size = str_cat(shape_str(s), " -> ", oh, "x", ow);
  parity("adaptive_avg_pool2d " + size, adaptive_fn(adaptive_avg_pool2d, oh, ow),
         {randn32(s, seed)});
  parity("adaptive_max_pool2d " + size, adaptive_fn(adaptive_max_pool2d, oh, ow),
         {distinct32(s, seed + 1)});
}

TEST(CudaAdaptivePool, GlobalPoolToOneByOne) {
  SIRS_REQUIRE_CUDA();
  both_adaptive({2, 3, 10, 13}, 1, 1, 31);  // warp-per-output forward (v2)
  both_adaptive({2, 512, 7, 7}, 1, 1, 33);  // the ResNet head
  both_adaptive({1, 2, 64, 50}, 1, 1, 35);  // long windows: many lanes, several rounds each
}

TEST(CudaAdaptivePool, NonDividingWindows) {
  SIRS_REQUIRE_CUDA();
  both_adaptive({2, 3, 10, 13}, 7, 7, 41);  // thread-per-output forward (v1), overlapping windows
  both_adaptive({1, 5, 37, 41}, 6, 9, 43);
  both_adaptive({2, 3, 67, 50}, 3, 4, 45);  // v2 with windows of different sizes
}

TEST(CudaAdaptivePool, OutputLargerThanInput) {
  SIRS_REQUIRE_CUDA();
  both_adaptive({2, 3, 3, 3}, 5, 5, 51);
  both_adaptive({1, 4, 3, 2}, 5, 4, 53);
  both_adaptive({1, 2, 1, 1}, 3, 7, 55);
}

TEST(CudaAdaptivePool, NonContiguousNaNAndDouble) {
  SIRS_REQUIRE_CUDA();
  for (PoolOp op : {PoolOp(adaptive_avg_pool2d), PoolOp(adaptive_max_pool2d)}) {
    const std::string name = op == PoolOp(adaptive_avg_pool2d) ? "avg" : "max";
    Fn fn = [op](const std::vector<Tensor>& in) { return op(nchw_view(in[0]), 4, 3); };
    parity(name + " on a permuted [2,6,11,10] -> 4x3", fn, {permuted_leaf({2, 6, 11, 10}, 61)});
    parity(name + " f64 [2,3,10,13] -> 7x7", adaptive_fn(op, 7, 7),
           {as_f64_leaf(distinct32({2, 3, 10, 13}, 62))});
    parity(name + " f64 [2,3,10,13] -> 1x1", adaptive_fn(op, 1, 1),
           {as_f64_leaf(distinct32({2, 3, 10, 13}, 63))});
  }
  // The first NaN in a window wins, in both forward versions.
  parity("adaptive_max_pool2d NaN [2,3,10,13] -> 7x7", adaptive_fn(adaptive_max_pool2d, 7, 7),
         {with_nans32({2, 3, 10, 13}, 64, 2)});
  parity("adaptive_max_pool2d NaN [2,3,10,13] -> 1x1", adaptive_fn(adaptive_max_pool2d, 1, 1),
         {with_nans32({2, 3, 10, 13}, 65, 5)});
  parity("adaptive_avg_pool2d NaN [2,3,10,13] -> 2x3", adaptive_fn(adaptive_avg_pool2d, 2, 3),
         {with_nans32({2, 3, 10, 13}, 66, 40)});
}

#ifdef SIRS_WITH_CUDA
void check_adaptive_launchers(const Shape& s, int64_t OH, int64_t OW, uint64_t seed) {
  SCOPED_TRACE(str_cat("adaptive pools ", shape_str(s), " -> ", OH, "x", OW));
  const int64_t N = s[0] * s[1], H = s[2], W = s[3];
  const Shape os{s[0], s[1], OH, OW};
  cudaStream_t st = cuda_stream(0);
  Tensor x = distinct32(s, seed, false), xg = x.to(Device::cuda());
  Tensor mc = empty(os, DType::F32), ic = empty(os, DType::I64);
  adaptive_max_pool2d_forward_cpu<float>(x.data<float>(), mc.data<float>(), ic.data<int64_t>(), N,
                                         H, W, OH, OW);
  Tensor mg = empty(os, Options(DType::F32, Device::cuda()));
  Tensor ig = empty(os, Options(DType::I64, Device::cuda()));
  adaptive_max_pool2d_forward_cuda<float>(xg.data<float>(), mg.data<float>(), ig.data<int64_t>(), N,
                                          H, W, OH, OW, st);
  EXPECT_EQ(ig.to_vector(), ic.to_vector()) << "argmax indices differ";
  expect_close_to(mg, mc, 0, 0, "max values");
  Tensor dy = randn32(os, seed + 100, false), dyg = dy.to(Device::cuda());
  for (double beta : {0.0, 1.0, 0.5}) {
    Tensor init = beta == 0 ? full(s, NAN, DType::F32) : randn32(s, seed + 200, false);
    Tensor ac = init.clone(), ag = init.to(Device::cuda());
    adaptive_avg_pool2d_backward_cpu<float>(dy.data<float>(), ac.data<float>(), N, H, W, OH, OW,
                                            beta);
    adaptive_avg_pool2d_backward_cuda<float>(dyg.data<float>(), ag.data<float>(), N, H, W, OH, OW,
                                             beta, st);
    expect_close_to(ag, ac, kBwdTol, kBwdTol, str_cat("avg dx with beta ", beta));
    Tensor xc = init.clone(), xgd = init.to(Device::cuda());
    adaptive_max_pool2d_backward_cpu<float>(dy.data<float>(), ic.data<int64_t>(), xc.data<float>(),
                                            N, H, W, OH, OW, beta);
    adaptive_max_pool2d_backward_cuda<float>(dyg.data<float>(), ig.data<int64_t>(),
                                             xgd.data<float>(), N, H, W, OH, OW, beta, st);
    expect_close_to(xgd, xc, kBwdTol, kBwdTol, str_cat("max dx with beta ", beta));
  }
}

TEST(CudaAdaptivePool, LaunchersIndicesExactAndBeta) {
  SIRS_REQUIRE_CUDA();
  check_adaptive_launchers({2, 3, 10, 13}, 7, 7, 71);  // v1
  check_adaptive_launchers({2, 3, 10, 13}, 1, 1, 72);  // v2
  check_adaptive_launchers({2, 3, 67, 50}, 3, 4, 73);  // v2, uneven windows
  check_adaptive_launchers({2, 3, 3, 3}, 5, 5, 74);    // Out > In
}
#endif

// ------------------------------------------------------ bilinear resampling

Fn upsample_fn(int64_t oh, int64_t ow, bool ac) {
  return [=](const std::vector<Tensor>& in) { return upsample_bilinear2d(in[0], oh, ow, ac); };
}

void both_corners(const Shape& s, int64_t oh, int64_t ow, uint64_t seed) {
  for (bool ac : {false, true})
    parity(
        str_cat("upsample_bilinear2d ", shape_str(s), " -> ", oh, "x", ow, " align_corners=", ac),
        upsample_fn(oh, ow, ac), {randn32(s, seed + (ac ? 1 : 0))});
}

TEST(CudaUpsample, UpByTwoAndFour) {
  SIRS_REQUIRE_CUDA();
  both_corners({2, 3, 16, 20}, 32, 40, 81);
  both_corners({2, 4, 13, 17}, 52, 68, 83);  // x4, the decoder's use
  both_corners({1, 8, 24, 24}, 96, 96, 85);
}

TEST(CudaUpsample, DownAndMixed) {
  SIRS_REQUIRE_CUDA();
  both_corners({2, 3, 37, 41}, 13, 17, 91);
  both_corners({1, 2, 64, 48}, 8, 6, 93);   // down by 8: most inputs get no gradient
  both_corners({2, 3, 10, 40}, 25, 9, 95);  // up in H, down in W
}

TEST(CudaUpsample, OddSizesOneByOneAndBatchOne) {
  SIRS_REQUIRE_CUDA();
  both_corners({1, 3, 7, 9}, 19, 23, 101);
  both_corners({2, 3, 1, 1}, 5, 7, 103);  // from 1x1: a broadcast
  both_corners({2, 3, 9, 7}, 1, 1, 105);  // to 1x1
  both_corners({1, 1, 1, 5}, 3, 11, 107);
  both_corners({1, 2, 5, 5}, 5, 5, 109);  // same size
}

TEST(CudaUpsample, LargeNonContiguousAndDouble) {
  SIRS_REQUIRE_CUDA();
  both_corners({2, 8, 48, 40}, 192, 160, 111);
  for (bool ac : {false, true}) {
    Fn fn = [ac](const std::vector<Tensor>& in) {
      return upsample_bilinear2d(nchw_view(in[0]), 29, 31, ac);
    };
    parity(str_cat("upsample_bilinear2d permuted [2,5,11,13] -> 29x31 align_corners=", ac), fn,
           {permuted_leaf({2, 5, 11, 13}, 113)});
    parity(str_cat("upsample_bilinear2d f64 [2,3,13,17] -> 52x9 align_corners=", ac),
           upsample_fn(52, 9, ac), {as_f64_leaf(randn32({2, 3, 13, 17}, 115))});
  }
}

#ifdef SIRS_WITH_CUDA
TEST(CudaUpsample, LauncherBackwardBeta) {
  SIRS_REQUIRE_CUDA();
  const int64_t N = 6, H = 13, W = 17, OH = 40, OW = 9;
  Tensor dy = randn32({N, OH, OW}, 121, false), dyg = dy.to(Device::cuda());
  for (bool ac : {false, true})
    for (double beta : {0.0, 1.0, 0.5}) {
      Tensor init = beta == 0 ? full({N, H, W}, NAN, DType::F32) : randn32({N, H, W}, 122, false);
      Tensor dc = init.clone(), dg = init.to(Device::cuda());
      upsample_bilinear2d_backward_cpu<float>(dy.data<float>(), dc.data<float>(), N, H, W, OH, OW,
                                              ac, beta);
      CudaBuffer ws(upsample_bilinear2d_workspace_bytes_cuda(H, W, OH, OW, sizeof(float)), 0);
      upsample_bilinear2d_backward_cuda<float>(dyg.data<float>(), dg.data<float>(), N, H, W, OH, OW,
                                               ac, beta, ws.get(), cuda_stream(0));
      expect_close_to(dg, dc, kBwdTol, kBwdTol, str_cat("dx align_corners=", ac, " beta ", beta));
    }
}
#endif

}  // namespace
}  // namespace sirs
