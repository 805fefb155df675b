// conv2d: hand-computed and PyTorch-produced outputs, every kernel version
// against the direct-loop reference (forward, backward data, backward filter,
// overwrite and accumulate), gradients by finite differences over strides,
// padding, dilation, odd sizes and non-square kernels, float32 against
// float64, the float-only direct kernel (version 9) bit for bit on integer
// data, and the error messages.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "autograd/conv.h"
#include "autograd/gradcheck.h"
#include "kernels/conv2d.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

// One assertion per vector (the kernel comparisons have ~10^5 elements):
// fails with the worst element, and on any NaN.
void expect_near(const std::vector<double>& got, const std::vector<double>& want, double tol) {
  ASSERT_EQ(got.size(), want.size());
  size_t worst = 0;
  double worst_err = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    double e = std::fabs(got[i] - want[i]);
    if (!(e <= worst_err)) worst = i, worst_err = std::isnan(e) ? INFINITY : e;
  }
  EXPECT_LE(worst_err, tol) << "element " << worst << ": got " << (got.empty() ? 0 : got[worst])
                            << ", want " << (want.empty() ? 0 : want[worst]);
}

Conv2dOptions opts(int64_t sh, int64_t sw, int64_t ph, int64_t pw, int64_t dh, int64_t dw) {
  Conv2dOptions o;
  o.stride_h = sh, o.stride_w = sw, o.pad_h = ph, o.pad_w = pw, o.dil_h = dh, o.dil_w = dw;
  return o;
}

}  // namespace

TEST(Conv, HandComputed) {
  // w = [[1, 0], [0, -1]]: y[i, j] = x[i, j] - x[i+1, j+1] + bias = -4 + 0.5 everywhere.
  Tensor x = arange(1, 10, 1, DType::F64).reshape({1, 1, 3, 3});
  Tensor w = from_vector({1, 0, 0, -1}, {1, 1, 2, 2}, DType::F64);
  Tensor y = conv2d(x, w, from_vector({0.5}, {1}, DType::F64));
  EXPECT_EQ(y.shape(), (Shape{1, 1, 2, 2}));
  EXPECT_EQ(y.to_vector(), (std::vector<double>{-3.5, -3.5, -3.5, -3.5}));
  // 3x3 ones with padding 1 counts the in-bounds neighbours: corners 4, edges 6, centre 9.
  Tensor s = conv2d(ones({1, 1, 3, 3}, DType::F64), ones({1, 1, 3, 3}, DType::F64), Tensor(), 1, 1);
  EXPECT_EQ(s.to_vector(), (std::vector<double>{4, 6, 4, 6, 9, 6, 4, 6, 4}));
}

TEST(Conv, MatchesPyTorchStridePadDilation) {
  // Produced with PyTorch 1.13 (python3-torch):
  //   x = torch.arange(50.).reshape(1,2,5,5)*0.1; w = (torch.arange(24.).reshape(2,2,2,3)-12)*0.1
  //   F.conv2d(x, w, torch.tensor([0.5,-0.5]), stride=2, padding=1)
  //   F.conv2d(x, w, None, stride=1, padding=(0,1), dilation=2)
  std::vector<double> xv(50), wv(24);
  for (int i = 0; i < 50; ++i) xv[i] = i * 0.1;
  for (int i = 0; i < 24; ++i) wv[i] = (i - 12) * 0.1;
  Tensor x = from_vector(xv, {1, 2, 5, 5}, DType::F64);
  Tensor w = from_vector(wv, {2, 2, 2, 3}, DType::F64);
  Tensor b = from_vector({0.5, -0.5}, {2}, DType::F64);
  Tensor y1 = conv2d(x, w, b, 2, 1);
  EXPECT_EQ(y1.shape(), (Shape{1, 2, 3, 3}));
  expect_near(y1.to_vector(),
              {-0.33, -1.56, -1.51, -6.02, -11.63, -9.34, -10.82, -19.43, -14.94, 4.91, 7.88, 5.17,
               12.66, 19.05, 12.22, 17.46, 25.65, 16.22},
              1e-9);
  Tensor y2 = conv2d(x, w, Tensor(), opts(1, 1, 0, 1, 2, 2));
  EXPECT_EQ(y2.shape(), (Shape{1, 2, 3, 3}));
  expect_near(y2.to_vector(),
              {-5.72, -9.65, -7.28, -8.12, -13.55, -10.08, -10.52, -17.45, -12.88, 13.0, 18.43,
               11.44, 15.4, 21.73, 13.44, 17.8, 25.03, 15.44},
              1e-9);
}

// Every kernel version against version 0 on raw buffers, with beta = 0
// (old contents must be ignored: they start as NaN) and beta = 1.
struct ConvCase {
  int64_t B, C, H, W, K, R, S, sh, sw, ph, pw, dh, dw;
};

void check_versions_against_reference(const ConvCase& c, int first_version = 1) {
  Conv2dGeom g{c.B, c.C, c.H, c.W, c.K, c.R, c.S, 0, 0};
  g.stride_h = c.sh, g.stride_w = c.sw, g.pad_h = c.ph, g.pad_w = c.pw, g.dil_h = c.dh,
  g.dil_w = c.dw;
  g.Ho = conv2d_out_size(g.H, g.R, g.stride_h, g.pad_h, g.dil_h);
  g.Wo = conv2d_out_size(g.W, g.S, g.stride_w, g.pad_w, g.dil_w);
  Generator gen(static_cast<uint64_t>(c.C * 100 + c.H));
  std::vector<double> x = randn({g.B, g.C, g.H, g.W}, DType::F64, &gen).to_vector();
  std::vector<double> w = randn({g.K, g.C, g.R, g.S}, DType::F64, &gen).to_vector();
  std::vector<double> bias = randn({g.K}, DType::F64, &gen).to_vector();
  std::vector<double> dy = randn({g.B, g.K, g.Ho, g.Wo}, DType::F64, &gen).to_vector();
  for (double beta : {0.0, 1.0}) {
    auto fill = [&](size_t n) { return std::vector<double>(n, beta == 0 ? NAN : 0.25); };
    std::vector<double> y0 = fill(dy.size()), dx0 = fill(x.size()), dw0 = fill(w.size()),
                        db0 = fill(bias.size());
    conv2d_forward_cpu<double>(g, x.data(), w.data(), bias.data(), beta, y0.data(), 0);
    conv2d_backward_data_cpu<double>(g, dy.data(), w.data(), beta, dx0.data(), 0);
    conv2d_backward_filter_cpu<double>(g, x.data(), dy.data(), beta, dw0.data(), db0.data(), 0);
    for (int v = first_version; v < kConv2dNumKernelVersions; ++v) {
      SCOPED_TRACE("version " + std::to_string(v) + " beta " + std::to_string(beta) + " C " +
                   std::to_string(c.C) + " H " + std::to_string(c.H));
      std::vector<double> y = fill(dy.size()), dx = fill(x.size()), dw = fill(w.size()),
                          db = fill(bias.size());
      conv2d_forward_cpu<double>(g, x.data(), w.data(), bias.data(), beta, y.data(), v);
      conv2d_backward_data_cpu<double>(g, dy.data(), w.data(), beta, dx.data(), v);
      conv2d_backward_filter_cpu<double>(g, x.data(), dy.data(), beta, dw.data(), db.data(), v);
      expect_near(y, y0, 1e-10);
      expect_near(dx, dx0, 1e-10);
      expect_near(dw, dw0, 1e-10);
      expect_near(db, db0, 1e-10);
    }
  }
}

TEST(Conv, KernelVersionsMatchReference) {
  const ConvCase cases[] = {{3, 2, 7, 6, 4, 3, 3, 1, 1, 1, 1, 1, 1},
                            {2, 3, 9, 8, 2, 3, 2, 2, 1, 0, 1, 1, 2},
                            {1, 1, 5, 5, 1, 1, 1, 1, 1, 0, 0, 1, 1},
                            {2, 4, 6, 7, 3, 2, 3, 2, 3, 1, 2, 2, 1},
                            // P = 32*32 >= 1024: the per-image GEMMs of versions 3 to 6.
                            {2, 1, 32, 32, 2, 3, 3, 1, 1, 1, 1, 1, 1},
                            // Stride 1, dilation 1, uneven padding: version 7's
                            // shifted layout with pad_h = 0 < R-1 and pad_w = S-1.
                            {2, 3, 6, 9, 4, 3, 5, 1, 1, 0, 4, 1, 1},
                            // 3x3 stride 1: version 8's Winograd tiles, with
                            // partial tiles (odd output sizes) and pads 0 and 2.
                            {2, 3, 7, 6, 4, 3, 3, 1, 1, 0, 2, 1, 1},
                            {1, 2, 5, 9, 3, 3, 3, 1, 1, 2, 2, 1, 1},
                            {2, 5, 4, 4, 3, 3, 3, 1, 1, 1, 0, 1, 1}};
  for (const ConvCase& c : cases) check_versions_against_reference(c);
}

TEST(Conv, KernelVersionsMatchReferenceInChunks) {
  // Version 5 splits this batch into chunks of 2 images (16 MiB of col per
  // chunk holds 3, and 3 does not divide 4), each image with its own GEMM.
  // Versions below 5 take the whole batch at this size (checked above).
  check_versions_against_reference({4, 64, 45, 45, 1, 3, 3, 1, 1, 1, 1, 1, 1}, 5);
}

TEST(Conv, KernelVersionsMatchReferenceInShiftedChunks) {
  // Version 7 caps its shifted input at 2^22 elements: 3 taps * 64 channels *
  // 4 images of 79*79 padded positions is over, so it runs 2 chunks of 2.
  check_versions_against_reference({4, 64, 78, 78, 1, 3, 3, 1, 1, 1, 1, 1, 1}, 7);
}

TEST(Conv, KernelVersionsMatchReferenceInWinogradChunks) {
  // Version 8 caps V and M at 2^23 elements: 16 * 64 channels * 32*32 tiles
  // = 2^20 per image, so 9 images run as chunks of 8 and 1.
  check_versions_against_reference({9, 64, 64, 64, 1, 3, 3, 1, 1, 1, 1, 1, 1}, 8);
}

// Versions 9 and 10 (the AVX2/FMA direct kernels, float only) against
// version 0 in float, every direction (version 10 is version 9 but for
// backward filter), beta 0, 1 and 0.5, backward filter with and without the
// bias gradient. Inputs, filters and biases are small integers, so every product and
// partial sum is an integer below 2^24 and exact in float whatever the order
// of summation: the results must be bit-identical. Geometries version 9 does
// not take (stride, dilation, backward data with padding > R-1, and every
// build without AVX2/FMA) check its fallback to version 4 the same way.
// They run on each of `threads` (omp_set_num_threads; 0: as set).
void check_direct_against_reference(const ConvCase& c, std::initializer_list<int> threads = {0}) {
  Conv2dGeom g{c.B, c.C, c.H, c.W, c.K, c.R, c.S, 0, 0};
  g.stride_h = c.sh, g.stride_w = c.sw, g.pad_h = c.ph, g.pad_w = c.pw, g.dil_h = c.dh,
  g.dil_w = c.dw;
  g.Ho = conv2d_out_size(g.H, g.R, g.stride_h, g.pad_h, g.dil_h);
  g.Wo = conv2d_out_size(g.W, g.S, g.stride_w, g.pad_w, g.dil_w);
  Generator gen(static_cast<uint64_t>(c.C * 1000 + c.K * 10 + c.H));
  auto ints = [&](const Shape& s) {
    std::vector<float> v;
    for (double e : randn(s, DType::F64, &gen).to_vector()) v.push_back(float(std::round(1.5 * e)));
    return v;
  };
  std::vector<float> x = ints({g.B, g.C, g.H, g.W}), w = ints({g.K, g.C, g.R, g.S});
  std::vector<float> bias = ints({g.K}), dy = ints({g.B, g.K, g.Ho, g.Wo});
  auto same = [](const std::vector<float>& got, const std::vector<float>& want) {
    ASSERT_EQ(got.size(), want.size());
    for (size_t i = 0; i < got.size(); ++i)
      ASSERT_TRUE(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i])))
          << "element " << i << " of " << got.size() << ": got " << got[i] << ", want " << want[i];
  };
  for (float beta : {0.f, 1.f, 0.5f}) {
    for (bool with_bias : {false, true}) {
      SCOPED_TRACE("B " + std::to_string(c.B) + " C " + std::to_string(c.C) + " K " +
                   std::to_string(c.K) + " H " + std::to_string(c.H) + " W " +
                   std::to_string(c.W) + " beta " + std::to_string(beta) + " bias " +
                   std::to_string(with_bias));
      const float* b = with_bias ? bias.data() : nullptr;
      auto fill = [&](size_t n) { return std::vector<float>(n, beta == 0 ? NAN : 0.25f); };
      const int saved = omp_get_max_threads();
      std::vector<float> y0 = fill(dy.size()), dx0 = fill(x.size()), dw0 = fill(w.size()),
                         db0 = fill(bias.size());
      conv2d_forward_cpu<float>(g, x.data(), w.data(), b, beta, y0.data(), 0);
      if (!with_bias)  // backward data has no bias
        conv2d_backward_data_cpu<float>(g, dy.data(), w.data(), beta, dx0.data(), 0);
      // Backward filter with and without the bias gradient (with_bias: dbias wanted).
      conv2d_backward_filter_cpu<float>(g, x.data(), dy.data(), beta, dw0.data(),
                                        with_bias ? db0.data() : nullptr, 0);
      for (int nt : threads) {
        for (int v : {9, 10}) {
          SCOPED_TRACE("threads " + std::to_string(nt) + " version " + std::to_string(v));
          if (nt > 0) omp_set_num_threads(nt);
          std::vector<float> y = fill(dy.size()), dx = fill(x.size()), dw = fill(w.size()),
                             db = fill(bias.size());
          conv2d_forward_cpu<float>(g, x.data(), w.data(), b, beta, y.data(), v);
          if (!with_bias)
            conv2d_backward_data_cpu<float>(g, dy.data(), w.data(), beta, dx.data(), v);
          conv2d_backward_filter_cpu<float>(g, x.data(), dy.data(), beta, dw.data(),
                                            with_bias ? db.data() : nullptr, v);
          omp_set_num_threads(saved);
          same(y, y0);
          if (!with_bias) same(dx, dx0);
          same(dw, dw0);
          same(db, db0);  // untouched (all NaN / 0.25) without the bias gradient
        }
      }
    }
  }
}

TEST(Conv, DirectKernelMatchesReference) {
  const ConvCase cases[] = {
      // ResNet stage geometry (3x3, stride 1, pad 1, C = K) at small sizes
      // (Wo = 5: micro-kernel pixel groups that span two rows).
      {2, 64, 8, 9, 64, 3, 3, 1, 1, 1, 1, 1, 1},
      {1, 128, 4, 5, 128, 3, 3, 1, 1, 1, 1, 1, 1},
      {3, 16, 8, 8, 32, 3, 3, 1, 1, 1, 1, 1, 1},
      // C and K not multiples of 8 (zero-filled channel blocks), odd H, W.
      {2, 5, 7, 6, 3, 3, 3, 1, 1, 1, 1, 1, 1},
      {2, 13, 9, 11, 21, 3, 3, 1, 1, 1, 1, 1, 1},
      {1, 24, 5, 7, 40, 3, 3, 1, 1, 0, 0, 1, 1},
      // Padding 0, 2, mixed, and 3 (> R-1: backward data falls back).
      {2, 8, 7, 9, 16, 3, 3, 1, 1, 0, 0, 1, 1},
      {1, 16, 6, 6, 8, 3, 3, 1, 1, 2, 2, 1, 1},
      {2, 9, 5, 8, 17, 3, 3, 1, 1, 2, 0, 1, 1},
      {1, 8, 5, 5, 8, 3, 3, 1, 1, 3, 3, 1, 1},
      // Other filter sizes, stride 1.
      {2, 8, 7, 8, 8, 1, 3, 1, 1, 0, 1, 1, 1},
      {1, 8, 9, 9, 16, 5, 5, 1, 1, 2, 2, 1, 1},
      {2, 12, 4, 5, 10, 1, 1, 1, 1, 0, 0, 1, 1},
      // Several pixel bands (about 128 KiB of input rows each) over 2 threads,
      // and weight blocks over 160 KiB (C > 280), which cut bands differently.
      {1, 16, 12, 256, 16, 3, 3, 1, 1, 1, 1, 1, 1},
      {2, 288, 8, 8, 16, 3, 3, 1, 1, 1, 1, 1, 1},
      // Stride 2 and dilation 2: version 4.
      {2, 16, 9, 9, 16, 3, 3, 2, 2, 1, 1, 1, 1},
      {2, 16, 9, 8, 16, 3, 3, 1, 1, 2, 2, 2, 2},
  };
  for (const ConvCase& c : cases) check_direct_against_reference(c);
}

// Version 9's pack paths and work splits, each run on 1 and on 2 threads
// (omp_get_max_threads() decides how many version 9 starts).
TEST(Conv, DirectKernelPacksAndSplits) {
  const ConvCase cases[] = {
      // Full 16x8 filter blocks (C and K multiples of 16) at R*S = 25, 3 and 1:
      // the packs' 8x8 transposes with and without a tail of R*S % 8 taps.
      {2, 16, 6, 7, 32, 5, 5, 1, 1, 2, 2, 1, 1},
      {2, 32, 5, 9, 16, 1, 3, 1, 1, 0, 1, 1, 1},
      {2, 16, 4, 4, 16, 1, 1, 1, 1, 0, 0, 1, 1},
      // Weight blocks over 160 KiB (C >= 288 at 3x3) and at least 2 blocks of
      // 16 output channels per thread: the channel split, with a half block
      // (K = 56) in forward and, for backward data (input and output swapped),
      // a partial channel block as well (292 = 36*8 + 4).
      {2, 288, 8, 8, 56, 3, 3, 1, 1, 1, 1, 1, 1},
      {2, 56, 8, 8, 292, 3, 3, 1, 1, 1, 1, 1, 1},
      // Fewer output blocks than that: one pixel band per thread; and fewer
      // than 64 pixels per thread.
      {2, 296, 8, 8, 40, 3, 3, 1, 1, 1, 1, 1, 1},
      {1, 16, 5, 5, 16, 3, 3, 1, 1, 1, 1, 1, 1},
      // Version 10's backward filter: pixel chunks of 51 rows of 5 that span
      // images, and 16 output channels with the taps split over several items.
      {3, 8, 40, 5, 24, 3, 3, 1, 1, 1, 1, 1, 1},
      {2, 64, 6, 6, 16, 3, 3, 1, 1, 1, 1, 1, 1},
  };
  for (const ConvCase& c : cases) check_direct_against_reference(c, {1, 2});
}

// Version 10's backward filter on real-valued data, where the order of
// summation shows in the bits: the same bits run to run and on 1 and 2
// threads (every dw element is summed by one item in one fixed order), and
// close to version 4 (float sgemm, another order).
TEST(Conv, DirectBackwardFilterDeterministic) {
  Conv2dGeom g{3, 40, 12, 10, 40, 3, 3, 0, 0};
  g.pad_h = g.pad_w = 1;
  g.Ho = conv2d_out_size(g.H, g.R, 1, 1, 1);
  g.Wo = conv2d_out_size(g.W, g.S, 1, 1, 1);
  Generator gen(7);
  auto floats = [&](const Shape& s) {
    std::vector<float> v;
    for (double e : randn(s, DType::F64, &gen).to_vector()) v.push_back(float(e));
    return v;
  };
  std::vector<float> x = floats({g.B, g.C, g.H, g.W}), dy = floats({g.B, g.K, g.Ho, g.Wo});
  const int saved = omp_get_max_threads();
  std::vector<std::vector<float>> dws, dbs;
  for (int nt : {1, 2, 2, 1}) {
    omp_set_num_threads(nt);
    dws.emplace_back(g.K * g.C * g.R * g.S, NAN);
    dbs.emplace_back(g.K, NAN);
    conv2d_backward_filter_cpu<float>(g, x.data(), dy.data(), 0.f, dws.back().data(),
                                      dbs.back().data(), 10);
  }
  omp_set_num_threads(saved);
  for (size_t i = 1; i < dws.size(); ++i) {
    EXPECT_EQ(0, std::memcmp(dws[i].data(), dws[0].data(), sizeof(float) * dws[0].size())) << i;
    EXPECT_EQ(0, std::memcmp(dbs[i].data(), dbs[0].data(), sizeof(float) * dbs[0].size())) << i;
  }
  std::vector<float> dw4(dws[0].size()), db4(g.K);
  conv2d_backward_filter_cpu<float>(g, x.data(), dy.data(), 0.f, dw4.data(), db4.data(), 4);
  std::vector<double> got(dws[0].begin(), dws[0].end()), want(dw4.begin(), dw4.end());
  // Sums of 360 products of N(0,1) values: |dw| ~ 20, float rounding ~ 1e-5.
  expect_near(got, want, 1e-3);
}

TEST(Conv, Gradcheck) {
  auto check = [](const char* what, const Shape& xs, const Shape& ws, bool bias,
                  const Conv2dOptions& o) {
    std::vector<Tensor> in = {leaf(xs, 1), leaf(ws, 2)};
    if (bias) in.push_back(leaf({ws[0]}, 3));
    GradcheckResult r = gradcheck(
        [&](const std::vector<Tensor>& t) {
          return conv2d(t[0], t[1], t.size() > 2 ? t[2] : Tensor(), o);
        },
        in);
    EXPECT_TRUE(r.ok) << what << "\n" << r.report;
  };
  check("3x3 pad 1", {2, 3, 5, 5}, {4, 3, 3, 3}, true, opts(1, 1, 1, 1, 1, 1));
  check("stride 2, odd sizes", {1, 2, 7, 5}, {3, 2, 3, 3}, true, opts(2, 2, 1, 1, 1, 1));
  check("dilation 2, no bias", {2, 2, 7, 6}, {2, 2, 3, 3}, false, opts(1, 1, 2, 2, 2, 2));
  check("non-square kernel, mixed stride/pad", {1, 3, 6, 7}, {2, 3, 2, 3}, true,
        opts(2, 1, 0, 1, 1, 1));
  check("1x1", {2, 4, 3, 3}, {3, 4, 1, 1}, false, opts(1, 1, 0, 0, 1, 1));
  // Non-contiguous input (a permuted view).
  GradcheckResult r = gradcheck(
      [](const std::vector<Tensor>& t) {
        return conv2d(t[0].permute({0, 3, 1, 2}), t[1], Tensor(), 1, 1);
      },
      {leaf({2, 5, 4, 3}, 4), leaf({2, 3, 3, 3}, 5)});
  EXPECT_TRUE(r.ok) << "permuted input\n" << r.report;
}

TEST(Conv, Float32MatchesFloat64) {
  Generator g(7);
  Tensor x = randn({2, 8, 11, 9}, DType::F64, &g), w = randn({6, 8, 3, 3}, DType::F64, &g);
  Tensor b = randn({6}, DType::F64, &g);
  Tensor y64 = conv2d(x, w, b, 2, 1);
  Tensor y32 = conv2d(x.to(DType::F32), w.to(DType::F32), b.to(DType::F32), 2, 1);
  EXPECT_EQ(y32.dtype(), DType::F32);
  expect_near(y32.to_vector(), y64.to_vector(), 1e-4);
  // Gradients too.
  Tensor x32 = x.to(DType::F32).set_requires_grad(), w32 = w.to(DType::F32).set_requires_grad();
  Tensor x64 = x.detach().set_requires_grad(), w64 = w.detach().set_requires_grad();
  Tensor dy = randn(y64.shape(), DType::F64, &g);
  conv2d(x32, w32, Tensor(), 2, 1).backward(dy.to(DType::F32));
  conv2d(x64, w64, Tensor(), 2, 1).backward(dy);
  expect_near(x32.grad().to_vector(), x64.grad().to_vector(), 1e-4);
  expect_near(w32.grad().to_vector(), w64.grad().to_vector(), 1e-3);
}

TEST(Conv, ErrorMessages) {
  try {
    conv2d(zeros({1, 3, 8, 8}), zeros({4, 2, 3, 3}));
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("conv2d"), std::string::npos) << m;
    EXPECT_NE(m.find("[1, 3, 8, 8]"), std::string::npos) << m;
    EXPECT_NE(m.find("[4, 2, 3, 3]"), std::string::npos) << m;
  }
  try {
    conv2d(zeros({1, 1, 2, 2}), zeros({1, 1, 5, 5}), Tensor(), 1, 1);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    std::string m = e.what();
    EXPECT_NE(m.find("larger than the padded input"), std::string::npos) << m;
  }
  // Dilation makes a 3x3 kernel span 5x5: too large for a 4x4 input.
  EXPECT_THROW(conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 3, 3}), Tensor(), 1, 0, 2), ShapeError);
  EXPECT_THROW(conv2d(zeros({1, 8, 8}), zeros({1, 1, 3, 3})), ShapeError);
  EXPECT_THROW(conv2d(zeros({1, 1, 8, 8}), zeros({2, 1, 3, 3}), zeros({3})), ShapeError);
  EXPECT_THROW(conv2d(zeros({1, 1, 8, 8}), zeros({1, 1, 3, 3}), Tensor(), 0), ValueError);
  EXPECT_THROW(conv2d(zeros({1, 1, 8, 8}), zeros({1, 1, 3, 3}, DType::F64)), DTypeError);
}
