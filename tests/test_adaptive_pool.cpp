// Adaptive average / max pooling: forward and input gradient against
// PyTorch 1.13 where sizes do not divide (overlapping windows) and where the
// output is larger than the input, gradcheck, first-max tie rule, the
// adjoint identity on a threaded shape, and misuse errors.
//
// Expected numbers were produced with /usr/bin/python3 (torch 1.13), with
//   seq(shape, a, b) = torch.tensor([sin(a*i + b) for i in range(numel)], float64).reshape(shape)
//   x = seq((1,1,H,W), 0.37, 0.1).requires_grad_()
//   y = F.adaptive_{avg,max}_pool2d(x, (OH,OW))
//   y.backward(seq((1,1,OH,OW), 0.23, 0.5));  out = y, dx = x.grad
#include <gtest/gtest.h>

#include <cmath>
#include <string>

#include "autograd/adaptive_pool.h"
#include "autograd/gradcheck.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

using PoolFn = Tensor (*)(const Tensor&, int64_t, int64_t);

void check_case(PoolFn pool, int64_t H, int64_t W, int64_t OH, int64_t OW,
                const std::vector<double>& out, const std::vector<double>& dx) {
  SCOPED_TRACE(str_cat(H, "x", W, " -> ", OH, "x", OW));
  Tensor x = seq({1, 1, H, W}, 0.37, 0.1).set_requires_grad();
  Tensor y = pool(x, OH, OW);
  ASSERT_EQ(y.shape(), (Shape{1, 1, OH, OW}));
  expect_all_near(y.to_vector(), out, 1e-9);
  y.backward(seq({1, 1, OH, OW}, 0.23, 0.5));
  expect_all_near(x.grad().to_vector(), dx, 1e-9);
  expect_all_near(pool(seq({1, 1, H, W}, 0.37, 0.1, DType::F32), OH, OW).to_vector(), out, 1e-6);
}

}  // namespace

TEST(AdaptivePool, Avg7x5To3x2MatchesPyTorch) {
  check_case(adaptive_avg_pool2d, 7, 5, 3, 2,
             {0.1046043796, 0.01164315203, -0.03716531599, 0.06556442761, -0.04156456828,
              -0.1228535383},
             {0.05326950429, 0.05326950429, 0.1273661304, 0.07409662611, 0.07409662611,
              0.05326950429, 0.05326950429, 0.1273661304, 0.07409662611, 0.07409662611,
              0.1442907897, 0.1442907897, 0.3215395232, 0.1772487336, 0.1772487336,
              0.09102128537, 0.09102128537, 0.1941733928, 0.1031521075, 0.1031521075,
              0.2008714812, 0.2008714812, 0.4147863697, 0.2139148884, 0.2139148884,
              0.1098501959, 0.1098501959, 0.2206129768, 0.1107627809, 0.1107627809,
              0.1098501959, 0.1098501959, 0.2206129768, 0.1107627809, 0.1107627809});
}

TEST(AdaptivePool, Max7x5To3x2MatchesPyTorch) {
  check_case(adaptive_max_pool2d, 7, 5, 3, 2,
             {0.928959715, 0.9999576465, 0.9998717087, 0.9264154955, 0.9998717087, 0.9264154955},
             {0, 0, 0, 0, 0.666869635, 0.4794255386, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 1.807843331, 1.925233996, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0});
}

TEST(AdaptivePool, Overlapping5x5To3x3MatchesPyTorch) {
  check_case(adaptive_avg_pool2d, 5, 5, 3, 3,
             {0.5534777153, 0.5638796808, 0.4331625218, -0.1098362964, -0.1407395319,
              -0.1364206443, 0.2714996534, 0.4932110307, 0.5914891451},
             {0.1198563847, 0.2310013238, 0.1111449392, 0.3159428312, 0.2047978921, 0.2745845459,
              0.4955796809, 0.220995135, 0.5919371985, 0.3709420635, 0.1547281612, 0.2645783571,
              0.1098501959, 0.2759943673, 0.1661441714, 0.3928722098, 0.6457420439, 0.2528698341,
              0.5986302038, 0.3457603697, 0.2381440486, 0.3811636868, 0.1430196383, 0.3226358365,
              0.1796161983});
  check_case(adaptive_max_pool2d, 5, 5, 3, 3,
             {0.928959715, 0.9356160016, 0.9999576465, 0.928959715, 0.732231444, 0.7491743483,
              0.9998717087, 0.9998717087, 0.7491743483},
             {0, 0, 0, 0.666869635, 0.8191915683, 1.407794506, 0.9886517629, 0, 0, 0, 0, 0, 0,
              0, 0, 0, 0, 0, 0, 1.715329822, 0, 1.810694024, 0, 0, 0});
}

TEST(AdaptivePool, OutputLargerThanInputMatchesPyTorch) {
  check_case(adaptive_avg_pool2d, 3, 2, 5, 4,
             {0.09983341665, 0.09983341665, 0.4528862854, 0.4528862854, 0.4222382683,
              0.4222382683, 0.6942511435, 0.6942511435, 0.74464312, 0.74464312, 0.9356160016,
              0.9356160016, 0.8723003832, 0.8723003832, 0.9322878583, 0.9322878583, 0.9999576465,
              0.9999576465, 0.928959715, 0.928959715},
             {2.139053569, 2.652907548, 2.022429342, 0.7167567652, -2.045990739, -2.619925721});
  check_case(adaptive_max_pool2d, 3, 2, 5, 4,
             {0.09983341665, 0.09983341665, 0.4528862854, 0.4528862854, 0.74464312, 0.74464312,
              0.9356160016, 0.9356160016, 0.74464312, 0.74464312, 0.9356160016, 0.9356160016,
              0.9999576465, 0.9999576465, 0.9356160016, 0.9356160016, 0.9999576465, 0.9999576465,
              0.928959715, 0.928959715},
             {1.146295174, 1.747560536, 3.244953805, 0.9871641916, -2.275756806, -1.984986136});
}

TEST(AdaptivePool, MaxBackwardGoesToFirstMaximum) {
  // Windows of 5 -> 1 (one row) with the maximum 3 at positions 1 and 3.
  Tensor x = from_vector({0, 3, 1, 3, 2}, {1, 1, 1, 5}, DType::F64).set_requires_grad();
  Tensor y = adaptive_max_pool2d(x, 1, 1);
  EXPECT_EQ(y.item(), 3.0);
  y.backward(ones({1, 1, 1, 1}, DType::F64));
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{0, 1, 0, 0, 0}));
}

TEST(AdaptivePool, GradcheckOddSizesAndNonContiguous) {
  Generator gen(21);
  // Non-contiguous: a transposed [2, 3, 5, 7] tensor, i.e. a [2, 3, 7, 5] view.
  Tensor xt = randn({2, 3, 5, 7}, DType::F64, &gen).transpose(2, 3).set_requires_grad();
  Tensor xc = randn({1, 2, 5, 3}, DType::F64, &gen).set_requires_grad();
  for (PoolFn pool : {PoolFn(adaptive_avg_pool2d), PoolFn(adaptive_max_pool2d)}) {
    for (auto [oh, ow] : {std::pair<int64_t, int64_t>{3, 2}, {1, 1}, {9, 4}, {4, 4}}) {
      SCOPED_TRACE(str_cat(pool == PoolFn(adaptive_avg_pool2d) ? "avg" : "max", " out ", oh, "x",
                           ow));
      auto fn = [&](const std::vector<Tensor>& in) { return pool(in[0], oh, ow); };
      GradcheckResult r = gradcheck(fn, {xt});
      EXPECT_TRUE(r.ok) << r.report;
      r = gradcheck(fn, {xc});
      EXPECT_TRUE(r.ok) << r.report;
    }
  }
}

TEST(AdaptivePool, AvgBackwardIsAdjointOnLargeThreadedShape) {
  Generator gen(22);
  Tensor x = randn({4, 16, 23, 29}, DType::F64, &gen).set_requires_grad();
  Tensor y = adaptive_avg_pool2d(x, 7, 11);
  Tensor g = randn({4, 16, 7, 11}, DType::F64, &gen);
  y.backward(g);
  std::vector<double> yv = y.to_vector(), gv = g.to_vector(), xv = x.to_vector(),
                      dv = x.grad().to_vector();
  double lhs = 0, rhs = 0;
  for (size_t i = 0; i < yv.size(); ++i) lhs += yv[i] * gv[i];
  for (size_t i = 0; i < xv.size(); ++i) rhs += xv[i] * dv[i];
  EXPECT_NEAR(lhs, rhs, 1e-9 * std::abs(lhs) + 1e-9);
}

TEST(AdaptivePool, Errors) {
  try {
    adaptive_avg_pool2d(zeros({3, 5}), 2, 2);
    FAIL() << "expected ShapeError";
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("adaptive_avg_pool2d"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("[3, 5]"), std::string::npos) << e.what();
  }
  EXPECT_THROW(adaptive_max_pool2d(zeros({1, 2, 3, 5, 5}), 2, 2), ShapeError);
  EXPECT_THROW(adaptive_max_pool2d(zeros({1, 2, 3, 5}), 2, 0), ValueError);
  EXPECT_THROW(adaptive_avg_pool2d(zeros({1, 2, 3, 5}, DType::I32), 2, 2), DTypeError);
}
