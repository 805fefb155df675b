// CPU vs CUDA parity of the gru family (autograd/gru.h): gru_cell forward
// and backward on odd sizes (B = 1, 3; H = 37, 1029: not multiples of the
// 256-thread block), strided operands, inputs without grad, float64; and the
// whole skip-thoughts GRU layer forward + backward with dropout masks and
// variable lengths (which also runs linear, mul, cat, stack, index_select
// and the view ops on CUDA). Skipped without a GPU.
// Run: make test GTEST_FILTER='CudaGru*'
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/ops.h"
#include "layers/gru.h"
#include "tests/cuda_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

Tensor cell(const std::vector<Tensor>& v) { return gru_cell(v[0], v[1], v[2], v[3], v[4], v[5], v[6]); }

// Elementwise with exp / tanh: a few ulp apart (CUDA expf / tanhf are
// within 2 ulp); atol covers values that cancel towards 0 (h - n, and
// (1 - z) n + z h).
constexpr double kRtol = 1e-5, kAtol = 1e-5;

std::vector<Tensor> operands(const Shape& s, uint64_t seed) {
  std::vector<Tensor> v;
  for (uint64_t k = 0; k < 7; ++k) v.push_back(randn32(s, seed + k));
  return v;
}

}  // namespace

TEST(CudaGru, CellForwardBackwardOddSizes) {
  SIRS_REQUIRE_CUDA();
  for (int64_t B : {1, 3})
    for (int64_t H : {37, 1029}) {
      std::string what = "gru_cell B=" + std::to_string(B) + " H=" + std::to_string(H);
      expect_parity(what, cell, operands({B, H}, static_cast<uint64_t>(100 * B + H)), kRtol,
                    kAtol);
    }
}

// One element per thread across many blocks (1000 * 1031 elements).
TEST(CudaGru, CellLarge) {
  SIRS_REQUIRE_CUDA();
  expect_parity("gru_cell B=1000 H=1031", cell, operands({1000, 1031}, 7), kRtol, kAtol);
}

// Strided operands: transposed gi_* and h, the gh_* as column blocks of one
// [B, 3H] product (the layer's inference path).
TEST(CudaGru, CellStridedOperands) {
  SIRS_REQUIRE_CUDA();
  const int64_t B = 3, H = 37;
  std::vector<Tensor> in = {randn32({H, B}, 1), randn32({H, B}, 2), randn32({H, B}, 3),
                            randn32({H, B}, 4), randn32({B, 3 * H}, 5)};
  auto fn = [](const std::vector<Tensor>& v) {
    const int64_t H = v[0].size(0);
    return gru_cell(v[0].transpose(0, 1), v[1].transpose(0, 1), v[2].transpose(0, 1),
                    v[4].narrow(1, 0, H), v[4].narrow(1, H, H), v[4].narrow(1, 2 * H, H),
                    v[3].transpose(0, 1));
  };
  expect_parity("gru_cell strided", fn, in, kRtol, kAtol);
}

// The first step of a GRU: h = 0 needs no gradient; and a case where only
// the hidden side does (null outputs in the backward kernel).
TEST(CudaGru, CellSomeInputsWithoutGrad) {
  SIRS_REQUIRE_CUDA();
  std::vector<Tensor> v = operands({3, 1029}, 11);
  v[6] = zeros({3, 1029});
  expect_parity("gru_cell h without grad", cell, v, kRtol, kAtol);
  std::vector<Tensor> w = operands({3, 37}, 21);
  for (int k : {0, 1, 2, 6}) w[k] = w[k].detach();
  expect_parity("gru_cell hidden side only", cell, w, kRtol, kAtol);
}

TEST(CudaGru, CellFloat64) {
  SIRS_REQUIRE_CUDA();
  std::vector<Tensor> v;
  for (uint64_t k = 0; k < 7; ++k) {
    Generator g(31 + k);
    v.push_back(randn({3, 37}, DType::F64, &g).set_requires_grad());
  }
  expect_parity("gru_cell float64", cell, v, 1e-12, 1e-12);
}

TEST(CudaGru, CellInference) {
  SIRS_REQUIRE_CUDA();
  std::vector<Tensor> v = operands({3, 1029}, 41);
  std::vector<Tensor> g;
  for (const Tensor& t : v) g.push_back(t.detach().to(Device::cuda()));
  NoGradGuard no_grad;
  Tensor want = cell(v), got = cell(g);
  ASSERT_TRUE(got.device().is_cuda());
  expect_close_to(got, want, kRtol, kAtol, "gru_cell inference");
}

// The whole layer in training form: six dropout masks (drawn on the CPU and
// copied, so both devices use the same ones), lengths 7, 2, 5 (sequence 1
// stops early, the loop runs 7 steps), forward, then backward of the same
// upstream gradient; output, d(emb) and all nine parameter gradients
// compared. fp32 GEMMs through 7 recurrent steps: 1e-4.
TEST(CudaGru, LayerForwardBackwardWithMasksAndLengths) {
  SIRS_REQUIRE_CUDA();
  ASSERT_EQ(math_precision(), MathPrecision::FP32);
  const int64_t B = 3, T = 8, E = 29, H = 37;
  Generator init_c(5), init_g(5);
  SkipThoughtsGRU cpu(E, H, 0.25, &init_c), gpu(E, H, 0.25, &init_g);
  gpu.to(Device::cuda());
  Generator g(6);
  cpu.generator = &g;
  Tensor emb = randn({B, T, E}, DType::F32, &g);
  GRUMasks mc = cpu.draw_masks(B, emb);
  GRUMasks mg{mc.ir.to(Device::cuda()), mc.ii.to(Device::cuda()), mc.in.to(Device::cuda()),
              mc.hr.to(Device::cuda()), mc.hi.to(Device::cuda()), mc.hn.to(Device::cuda())};
  Tensor lengths = from_vector({7, 2, 5}, {B}, DType::I64);
  Tensor dout = randn({B, H}, DType::F32, &g);

  Tensor ec = view::clone(emb).set_requires_grad();
  Tensor eg = emb.to(Device::cuda()).set_requires_grad();
  Tensor oc = cpu.forward(ec, lengths, mc);
  Tensor og = gpu.forward(eg, lengths.to(Device::cuda()), mg);
  ASSERT_TRUE(og.device().is_cuda());
  expect_close_to(og, oc, 1e-4, 1e-4, "GRU layer forward");
  oc.backward(dout);
  og.backward(dout.to(Device::cuda()));
  ASSERT_TRUE(eg.grad().defined());
  ASSERT_TRUE(eg.grad().device().is_cuda());
  expect_close_to(eg.grad(), ec.grad(), 1e-4, 1e-4, "GRU layer d(emb)");
  auto pc = cpu.named_parameters(), pg = gpu.named_parameters();
  ASSERT_EQ(pc.size(), pg.size());
  for (size_t k = 0; k < pc.size(); ++k) {
    ASSERT_TRUE(pg[k].second.grad().defined()) << pg[k].first;
    ASSERT_TRUE(pg[k].second.grad().device().is_cuda()) << pg[k].first;
    expect_close_to(pg[k].second.grad(), pc[k].second.grad(), 1e-4, 1e-4,
                    "GRU layer d(" + pc[k].first + ")");
  }
  // Steps past a sequence's length give its input no gradient, on both.
  std::vector<double> d = eg.grad().to_vector();
  for (int64_t t = 2; t < T; ++t)
    for (int64_t j = 0; j < E; ++j) EXPECT_EQ(d[(1 * T + t) * E + j], 0.0) << "t " << t;
}

// Inference without masks: the one concatenated hidden product per step and
// strided gate operands on CUDA.
TEST(CudaGru, LayerInference) {
  SIRS_REQUIRE_CUDA();
  const int64_t B = 1, T = 5, E = 29, H = 1029;
  Generator init_c(8), init_g(8);
  SkipThoughtsGRU cpu(E, H, 0.25, &init_c), gpu(E, H, 0.25, &init_g);
  gpu.to(Device::cuda());
  cpu.eval();
  gpu.eval();
  Tensor emb = randn32({B, T, E}, 9, false);
  Tensor lengths = from_vector({4}, {B}, DType::I64);
  NoGradGuard no_grad;
  Tensor oc = cpu.forward(emb, lengths);
  Tensor og = gpu.forward(emb.to(Device::cuda()), lengths);
  ASSERT_TRUE(og.device().is_cuda());
  expect_close_to(og, oc, 1e-4, 1e-4, "GRU layer inference");
}
