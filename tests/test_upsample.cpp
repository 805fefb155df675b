// Bilinear resampling: forward and input gradient against PyTorch 1.13 for
// up- and downsampling with both align_corners settings, gradcheck, the
// adjoint identity on a large (multi-threaded) shape, and misuse errors.
//
// Expected numbers were produced with /usr/bin/python3 (torch 1.13), with
//   seq(shape, a, b) = torch.tensor([sin(a*i + b) for i in range(numel)], float64).reshape(shape)
//   x = seq((1,1,H,W), 0.37, 0.1).requires_grad_()
//   y = F.interpolate(x, size=(OH,OW), mode="bilinear", align_corners=AC)
//   y.backward(seq((1,1,OH,OW), 0.23, 0.5));  out = y, dx = x.grad
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/upsample.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

struct Case {
  int64_t H, W, OH, OW;
  bool align_corners;
  std::vector<double> out, dx;
};

void check_case(const Case& c) {
  SCOPED_TRACE(str_cat(c.H, "x", c.W, " -> ", c.OH, "x", c.OW, " align_corners=", c.align_corners));
  Tensor x = seq({1, 1, c.H, c.W}, 0.37, 0.1).set_requires_grad();
  Tensor y = upsample_bilinear2d(x, c.OH, c.OW, c.align_corners);
  ASSERT_EQ(y.shape(), (Shape{1, 1, c.OH, c.OW}));
  expect_all_near(y.to_vector(), c.out, 1e-9);
  y.backward(seq({1, 1, c.OH, c.OW}, 0.23, 0.5));
  expect_all_near(x.grad().to_vector(), c.dx, 1e-9);
  // float32 runs the same kernel.
  Tensor y32 = upsample_bilinear2d(seq({1, 1, c.H, c.W}, 0.37, 0.1, DType::F32), c.OH, c.OW,
                                   c.align_corners);
  EXPECT_EQ(y32.dtype(), DType::F32);
  expect_all_near(y32.to_vector(), c.out, 2e-6);
}

}  // namespace

TEST(Upsample, Bilinear2x3To5x7MatchesPyTorch) {
  check_case({2, 3, 5, 7, true,
              {0.09983341665, 0.2175177062, 0.3352019958, 0.4528862854, 0.5501385636, 0.6473908418,
               0.74464312, 0.3087790629, 0.4024040838, 0.4960291047, 0.5896541257, 0.65667684,
               0.7236995544, 0.7907222687, 0.5177247091, 0.5872904614, 0.6568562137, 0.7264219659,
               0.7632151165, 0.800008267, 0.8368014175, 0.7266703553, 0.772176839, 0.8176833226,
               0.8631898062, 0.8697533929, 0.8763169796, 0.8828805662, 0.9356160016, 0.9570632165,
               0.9785104315, 0.9999576465, 0.9762916693, 0.9526256922, 0.928959715},
              {1.323560364, 1.845234601, 0.8344076594, 0.08752757399, 1.118670265, 1.220736784}});
  check_case({2, 3, 5, 7, false,
              {0.09983341665, 0.1502695408, 0.3015779131, 0.4528862854, 0.5779249288, 0.7029635722,
               0.74464312, 0.1834116751, 0.2297233532, 0.3686583873, 0.5075934215, 0.6170854321,
               0.7265774426, 0.7630747795, 0.5177247091, 0.5475386029, 0.6369802844, 0.7264219659,
               0.7737274452, 0.8210329244, 0.8368014175, 0.8520377431, 0.8653538527, 0.9053021815,
               0.9452505104, 0.9303694583, 0.9154884062, 0.9105280555, 0.9356160016, 0.9448076651,
               0.9723826558, 0.9999576465, 0.9695299616, 0.9391022766, 0.928959715},
              {2.010869903, 1.720984102, 0.8321480926, -0.3640955491, 0.703678232, 1.526552468}});
}

TEST(Upsample, Bilinear6x7To3x4DownsamplingMatchesPyTorch) {
  check_case({6, 7, 3, 4, true,
              {0.09983341665, 0.74464312, 0.9999576465, 0.732231444, 0.07834198343, 0.2337078998,
               0.2668298884, 0.1603830664, 0.4649953737, 0.9403403914, 0.9238282534, 0.4240958462},
              {0.4794255386, 0, 0.666869635, 0, 0.8191915683, 0, 0.9283689672, 0, 0, 0, 0, 0, 0, 0,
               0.4943258814, 0, 0.4984325142, 0, 0.4762880971, 0, 0.4290589148, 0.4943258814, 0,
               0.4984325142, 0, 0.4762880971, 0, 0.4290589148, 0, 0, 0, 0, 0, 0, 0, 0.7184647931, 0,
               0.5409722204, 0, 0.3349881502, 0, 0.1113611887}});
  check_case({6, 7, 3, 4, false,
              {0.2677704878, 0.2215799977, 0.08300723856, -0.08813681052, 0.1117199737,
               0.2380487341, 0.2670304741, 0.1861560524, -0.1670538019, -0.006976656796,
               0.157723434, 0.2559583741},
              {0.1498204808, 0.08989228849, 0.2917554653, 0.09287882521, 0.3583963111,
               0.1740691814, 0.2901153023, 0.1498204808, 0.08989228849, 0.2917554653,
               0.09287882521, 0.3583963111, 0.1740691814, 0.2901153023, 0.3089536759,
               0.1853722055, 0.4361284499, 0.1218400764, 0.416752085, 0.1608970931, 0.2681618218,
               0.3089536759, 0.1853722055, 0.4361284499, 0.1218400764, 0.416752085, 0.1608970931,
               0.2681618218, 0.2245202478, 0.1347121487, 0.2366753464, 0.05474752316,
               0.1465573157, 0.02088022288, 0.03480037146, 0.2245202478, 0.1347121487,
               0.2366753464, 0.05474752316, 0.1465573157, 0.02088022288, 0.03480037146}});
}

TEST(Upsample, BilinearOutputSizeOneMatchesPyTorch) {
  // align_corners: src = 0 (the corner); otherwise src = in/2 - 0.5, the centre.
  check_case({4, 5, 1, 1, true, {0.09983341665},
              {0.4794255386, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}});
  check_case({4, 5, 1, 1, false, {-0.2743893497},
              {0, 0, 0, 0, 0, 0, 0, 0.2397127693, 0, 0, 0, 0, 0.2397127693, 0, 0, 0, 0, 0, 0, 0}});
}

TEST(Upsample, BilinearSameSizeIsIdentity) {
  Tensor x = seq({2, 3, 5, 4}, 0.37, 0.1);
  for (bool ac : {true, false})
    expect_all_near(upsample_bilinear2d(x, 5, 4, ac).to_vector(), x.to_vector(), 1e-15);
}

TEST(Upsample, BilinearGradcheckUpDownBothSettings) {
  Generator gen(11);
  // Non-contiguous input: a transposed view of a [2, 3, 5, 4] tensor.
  Tensor xt = randn({2, 3, 5, 4}, DType::F64, &gen).transpose(2, 3).set_requires_grad();
  Tensor xc = randn({1, 2, 5, 3}, DType::F64, &gen).set_requires_grad();
  for (bool ac : {true, false}) {
    for (auto [oh, ow] : {std::pair<int64_t, int64_t>{7, 9}, {3, 2}, {1, 1}, {4, 6}}) {
      SCOPED_TRACE(str_cat("out ", oh, "x", ow, " align_corners=", ac));
      auto fn = [&](const std::vector<Tensor>& in) {
        return upsample_bilinear2d(in[0], oh, ow, ac);
      };
      GradcheckResult r = gradcheck(fn, {xt});
      EXPECT_TRUE(r.ok) << r.report;
      r = gradcheck(fn, {xc});
      EXPECT_TRUE(r.ok) << r.report;
    }
  }
}

TEST(Upsample, BilinearBackwardIsAdjointOnLargeThreadedShape) {
  // <up(x), g> == <x, up^T(g)> checks the parallel scatter for races.
  Generator gen(12);
  for (bool ac : {true, false}) {
    Tensor x = randn({4, 8, 20, 21}, DType::F64, &gen).set_requires_grad();
    Tensor y = upsample_bilinear2d(x, 45, 47, ac);
    Tensor g = randn({4, 8, 45, 47}, DType::F64, &gen);
    y.backward(g);
    std::vector<double> yv = y.to_vector(), gv = g.to_vector(), xv = x.to_vector(),
                        dv = x.grad().to_vector();
    double lhs = 0, rhs = 0;
    for (size_t i = 0; i < yv.size(); ++i) lhs += yv[i] * gv[i];
    for (size_t i = 0; i < xv.size(); ++i) rhs += xv[i] * dv[i];
    EXPECT_NEAR(lhs, rhs, 1e-9 * std::abs(lhs) + 1e-9);
  }
}

TEST(Upsample, BilinearErrors) {
  Tensor x3 = zeros({2, 4, 4});
  try {
    upsample_bilinear2d(x3, 8, 8, true);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("upsample_bilinear2d"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[2, 4, 4]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(upsample_bilinear2d(zeros({1, 1, 4, 4}), 0, 3, false), ValueError);
  EXPECT_THROW(upsample_bilinear2d(zeros({1, 1, 4, 4}, DType::I64), 8, 8, false), DTypeError);
}
