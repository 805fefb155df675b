// CPU vs CUDA parity of the optimizers (kernels/cuda/optim.cu through
// layers/optim.cpp): Adam and SGD steps on several parameters of odd sizes
// updated by one multi-tensor launch, gradient clipping (returned norm and
// clipped grads, clipping and not), and state export / import with CUDA
// parameters. Every test runs the CPU optimizer on identical copies as the
// reference. Skips visibly without a GPU.
//
// Tolerances: the update arithmetic is the CPU's, but nvcc may fuse a
// multiply-add, so results agree to about one float rounding per step:
// 1e-5 relative (atol 1e-6 for values near 0) in float32, 1e-12 in float64.
//
// Run: make test GTEST_FILTER='CudaOptim*'
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "layers/optim.h"
#include "tensor/tensor.h"
#include "tests/cuda_util.h"
#include "tests/test_util.h"

namespace sirs {
namespace {

using test::expect_close_to;
using test::randn32;

// Odd sizes: one element, a prime above a chunk's 16384 and 100003 (seven
// chunks with a ragged tail), a 2-D one.
const std::vector<Shape> kShapes = {{1}, {100003}, {37, 3}, {257}, {16411}};

struct Twins {
  std::vector<Tensor> cpu, gpu;
};

// Identical CPU and CUDA leaf parameters.
Twins make_params(DType dt, uint64_t seed) {
  Twins t;
  for (size_t k = 0; k < kShapes.size(); ++k) {
    Generator g(seed + k);
    Tensor c = randn(kShapes[k], dt, &g);
    Tensor d = c.to(Device::cuda());
    t.cpu.push_back(c.set_requires_grad());
    t.gpu.push_back(d.set_requires_grad());
  }
  return t;
}

// The same fresh N(0, 1) gradient on both copies of every parameter except
// `skip` (which gets none, so its step count falls behind the others).
void set_grads(const Twins& t, uint64_t seed, int skip = -1) {
  for (size_t k = 0; k < t.cpu.size(); ++k) {
    if (static_cast<int>(k) == skip) {
      t.cpu[k].zero_grad();
      t.gpu[k].zero_grad();
      continue;
    }
    Generator g(seed * 100 + k);
    Tensor grad = randn(t.cpu[k].shape(), t.cpu[k].dtype(), &g);
    t.cpu[k].set_grad(grad);
    t.gpu[k].set_grad(grad.to(Device::cuda()));
  }
}

void expect_params_close(const Twins& t, double rtol, double atol, const std::string& what) {
  for (size_t k = 0; k < t.cpu.size(); ++k) {
    ASSERT_TRUE(t.gpu[k].device().is_cuda()) << what;
    expect_close_to(t.gpu[k], t.cpu[k], rtol, atol, what + " param " + std::to_string(k));
  }
}

// Same keys in the same order, every CUDA export on the CPU, values close.
void expect_state_close(const NamedTensors& gpu, const NamedTensors& cpu, double rtol,
                        double atol) {
  ASSERT_EQ(gpu.size(), cpu.size());
  for (size_t i = 0; i < cpu.size(); ++i) {
    EXPECT_EQ(gpu[i].first, cpu[i].first);
    EXPECT_TRUE(gpu[i].second.device().is_cpu()) << gpu[i].first << " exported on the device";
    EXPECT_TRUE(gpu[i].second.is_contiguous()) << gpu[i].first;
    expect_close_to(gpu[i].second, cpu[i].second, rtol, atol, "state " + cpu[i].first);
  }
}

void adam_three_steps(DType dt, double rtol, double atol) {
  Twins t = make_params(dt, 1);
  AdamOptions o{1e-2, 0.9, 0.999, 1e-8, 0.05};
  Adam cpu(t.cpu, o), gpu(t.gpu, o);
  for (int s = 1; s <= 3; ++s) {
    set_grads(t, static_cast<uint64_t>(s), s == 2 ? 0 : -1);  // parameter 0 sits out step 2
    cpu.step();
    gpu.step();
    expect_params_close(t, rtol, atol, "Adam step " + std::to_string(s));
  }
  EXPECT_EQ(gpu.step_count(0), 2);
  EXPECT_EQ(gpu.step_count(1), 3);
  expect_state_close(gpu.state_dict(), cpu.state_dict(), rtol, atol);
}

TEST(CudaOptim, AdamThreeStepsOddSizesFloat32) {
  SIRS_REQUIRE_CUDA();
  adam_three_steps(DType::F32, 1e-5, 1e-6);
}

TEST(CudaOptim, AdamThreeStepsOddSizesFloat64) {
  SIRS_REQUIRE_CUDA();
  adam_three_steps(DType::F64, 1e-12, 1e-14);
}

// A non-contiguous CUDA parameter is updated in place (through its storage).
TEST(CudaOptim, AdamNonContiguousParameter) {
  SIRS_REQUIRE_CUDA();
  Tensor base_c = randn32({5, 7}, 3, false), base_g = base_c.to(Device::cuda());
  Tensor pc = view::permute(base_c, {1, 0}), pg = view::permute(base_g, {1, 0});
  pc.set_requires_grad();
  pg.set_requires_grad();
  Adam cpu({pc}, AdamOptions{0.1}), gpu({pg}, AdamOptions{0.1});
  Tensor grad = randn32({7, 5}, 4, false);
  pc.set_grad(grad);
  pg.set_grad(grad.to(Device::cuda()));
  cpu.step();
  gpu.step();
  expect_close_to(base_g, base_c, 1e-5, 1e-6, "storage behind the permuted parameter");
}

void sgd_three_steps(const SGDOptions& o, const std::string& what) {
  Twins t = make_params(DType::F32, 7);
  SGD cpu(t.cpu, o), gpu(t.gpu, o);
  for (int s = 1; s <= 3; ++s) {
    // Parameter 3 gets its first gradient at step 2: its buffer starts late.
    set_grads(t, static_cast<uint64_t>(10 + s), s == 1 ? 3 : -1);
    cpu.step();
    gpu.step();
    expect_params_close(t, 1e-5, 1e-6, what + " step " + std::to_string(s));
  }
  expect_state_close(gpu.state_dict(), cpu.state_dict(), 1e-5, 1e-6);
}

TEST(CudaOptim, SgdMomentumNesterovDampeningWeightDecay) {
  SIRS_REQUIRE_CUDA();
  sgd_three_steps(SGDOptions{0.1, 0.9, 0.0, 1e-3, true}, "SGD nesterov");
  sgd_three_steps(SGDOptions{0.1, 0.9, 0.3, 1e-2, false}, "SGD momentum + dampening");
  sgd_three_steps(SGDOptions{0.1, 0.0, 0.0, 1e-2, false}, "SGD plain");
}

// ------------------------------------------------------------ clipping

void clip_case(double max_norm, bool expect_clip) {
  Twins t = make_params(DType::F32, 20);
  set_grads(t, 21);
  Tensor no_grad_c = zeros({3}).set_requires_grad();  // skipped: no grad
  Tensor no_grad_g = zeros({3}, Options(DType::F32, Device::cuda())).set_requires_grad();
  std::vector<Tensor> pc = t.cpu, pg = t.gpu;
  pc.push_back(no_grad_c);
  pg.push_back(no_grad_g);
  std::vector<std::vector<double>> before;
  for (const Tensor& p : t.cpu) before.push_back(p.grad().to_vector());
  double nc = clip_grad_norm_(pc, max_norm), ng = clip_grad_norm_(pg, max_norm);
  EXPECT_NEAR(ng, nc, 1e-9 * nc);
  EXPECT_EQ(max_norm / (nc + 1e-6) < 1.0, expect_clip) << "test setup: norm " << nc;
  for (size_t k = 0; k < t.cpu.size(); ++k) {
    ASSERT_TRUE(t.gpu[k].grad().device().is_cuda());
    expect_close_to(t.gpu[k].grad(), t.cpu[k].grad(), 1e-6, 1e-7,
                    "clipped grad " + std::to_string(k));
    if (!expect_clip) {
      EXPECT_EQ(t.gpu[k].grad().to_vector(), before[k]) << "grad " << k << " changed";
    }
  }
  EXPECT_FALSE(no_grad_g.grad().defined());
}

TEST(CudaOptim, ClipGradNormClips) {
  SIRS_REQUIRE_CUDA();
  clip_case(1.0, true);  // the norm is about sqrt(116000) = 340
}

TEST(CudaOptim, ClipGradNormBelowThresholdLeavesGrads) {
  SIRS_REQUIRE_CUDA();
  clip_case(1e6, false);
}

// A non-contiguous CUDA gradient is measured and scaled in place.
TEST(CudaOptim, ClipGradNormNonContiguousGrad) {
  SIRS_REQUIRE_CUDA();
  Tensor p = zeros({2, 2}, Options(DType::F64, Device::cuda())).set_requires_grad();
  Tensor g = from_vector({0, 2, 0, 0}, {2, 2}, Options(DType::F64, Device::cuda()));
  p.set_grad(view::permute(g, {1, 0}));
  EXPECT_DOUBLE_EQ(clip_grad_norm_({p}, 1.0), 2.0);
  EXPECT_NEAR(g.to_vector()[1], 2.0 / (2.0 + 1e-6), 1e-12);
}

// ------------------------------------------------------------ state

// The CPU optimizer's export loads into a CUDA optimizer (state copied to
// the device); both then take the same step and agree; the CUDA one's export
// again matches the CPU's.
TEST(CudaOptim, AdamStateImportFromCpuThenStep) {
  SIRS_REQUIRE_CUDA();
  Twins t = make_params(DType::F32, 30);
  AdamOptions o{1e-2, 0.8, 0.99, 1e-6, 0.1};
  Adam cpu(t.cpu, o);
  for (int s = 1; s <= 2; ++s) {
    set_grads(t, static_cast<uint64_t>(30 + s), s == 1 ? 4 : -1);
    cpu.step();
  }
  for (size_t k = 0; k < t.cpu.size(); ++k) view::copy_into(t.gpu[k], t.cpu[k]);
  Adam gpu(t.gpu);  // default options: everything comes from the state
  gpu.load_state_dict(cpu.state_dict());
  EXPECT_EQ(gpu.options().beta1, 0.8);
  EXPECT_EQ(gpu.step_count(4), 1);
  expect_state_close(gpu.state_dict(), cpu.state_dict(), 0, 0);  // pure copies
  set_grads(t, 33);
  cpu.step();
  gpu.step();
  expect_params_close(t, 1e-5, 1e-6, "Adam after import");
  expect_state_close(gpu.state_dict(), cpu.state_dict(), 1e-5, 1e-6);
}

TEST(CudaOptim, SgdStateImportFromCpuThenStep) {
  SIRS_REQUIRE_CUDA();
  Twins t = make_params(DType::F32, 40);
  SGDOptions o{0.1, 0.9, 0.0, 1e-3, true};
  SGD cpu(t.cpu, o);
  set_grads(t, 41);
  cpu.step();
  for (size_t k = 0; k < t.cpu.size(); ++k) view::copy_into(t.gpu[k], t.cpu[k]);
  SGD gpu(t.gpu);
  gpu.load_state_dict(cpu.state_dict());
  expect_state_close(gpu.state_dict(), cpu.state_dict(), 0, 0);
  set_grads(t, 42);
  cpu.step();
  gpu.step();
  expect_params_close(t, 1e-5, 1e-6, "SGD after import");
}

}  // namespace
}  // namespace sirs
