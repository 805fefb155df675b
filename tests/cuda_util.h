// CUDA test helpers: the visible skip without a GPU and the CPU-vs-CUDA
// parity check every op's CUDA test uses.
#pragma once

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "autograd/ops.h"
#include "tensor/random.h"
#include "tensor/tensor.h"

// Skips the test with the reason on the console when no GPU is usable.
#define SIRS_REQUIRE_CUDA()                                                              \
  if (!::sirs::cuda_available())                                                         \
  GTEST_SKIP() << "no usable GPU (" << ::sirs::cuda_status() << "); CUDA test not run"

namespace sirs::test {

// Largest absolute and relative difference of `got` (any device) from the
// CPU reference `want`, and whether every element meets
// |got - want| <= atol + rtol * |want|. NaN must match NaN.
struct Closeness {
  double max_abs = 0, max_rel = 0;
  int64_t worst = -1;  // flat index of the element furthest outside the bound
  bool ok = true;
  std::string str() const {
    char b[160];
    std::snprintf(b, sizeof b, "max abs err %.3g, max rel err %.3g%s", max_abs, max_rel,
                  ok ? "" : (", worst at flat index " + std::to_string(worst)).c_str());
    return b;
  }
};

inline Closeness closeness(const Tensor& got, const Tensor& want, double rtol, double atol) {
  Closeness c;
  std::vector<double> g = got.to_vector(), w = want.to_vector();
  if (g.size() != w.size()) {
    c.ok = false;
    return c;
  }
  double worst_excess = 0;
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(w[i]) || std::isnan(g[i])) {
      if (std::isnan(w[i]) != std::isnan(g[i])) {
        c.ok = false;
        c.worst = static_cast<int64_t>(i);
        worst_excess = INFINITY;
      }
      continue;
    }
    if (std::isinf(w[i]) && g[i] == w[i]) continue;
    double d = std::fabs(g[i] - w[i]);
    c.max_abs = std::max(c.max_abs, d);
    if (w[i] != 0) c.max_rel = std::max(c.max_rel, d / std::fabs(w[i]));
    double excess = d - (atol + rtol * std::fabs(w[i]));
    if (excess > 0 && excess > worst_excess) {
      c.ok = false;
      worst_excess = excess;
      c.worst = static_cast<int64_t>(i);
    }
  }
  return c;
}

// `got` (usually a CUDA tensor) equals the CPU reference `want` within
// rtol / atol, with the same shape and dtype.
inline void expect_close_to(const Tensor& got, const Tensor& want, double rtol, double atol,
                            const std::string& what) {
  ASSERT_EQ(shape_str(got.shape()), shape_str(want.shape())) << what;
  ASSERT_EQ(dtype_name(got.dtype()), dtype_name(want.dtype())) << what;
  Closeness c = closeness(got, want, rtol, atol);
  EXPECT_TRUE(c.ok) << what << ": " << c.str() << " (rtol " << rtol << ", atol " << atol << ")";
}

// Runs fn on CPU copies and on CUDA copies of `inputs` (leaves that
// require grad keep requiring it), compares the outputs, then backpropagates
// the same N(0,1) upstream gradient through both and compares every input's
// gradient. Float outputs only get a backward; an integer output (argmax) is
// compared exactly. Prints one line with the errors, so a GPU run's log
// shows how close each op came.
inline void expect_parity(const std::string& what,
                          const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double rtol, double atol = -1) {
  if (atol < 0) atol = rtol;
  std::vector<Tensor> cpu, gpu;
  bool any_grad = false;
  for (const Tensor& t : inputs) {
    Tensor c = t.detach().clone(), g = t.detach().to(Device::cuda());
    if (t.requires_grad()) {
      c.set_requires_grad();
      g.set_requires_grad();
      any_grad = true;
    }
    cpu.push_back(c);
    gpu.push_back(g);
  }
  Tensor out_c = fn(cpu), out_g = fn(gpu);
  ASSERT_TRUE(out_g.device().is_cuda()) << what << ": output left the GPU";
  Closeness fwd = closeness(out_g, out_c, rtol, atol);
  expect_close_to(out_g, out_c, rtol, atol, what + " forward");
  std::string line = what + " forward " + fwd.str();
  if (any_grad && is_floating(out_c.dtype()) && out_c.requires_grad()) {
    Generator gen(1234);
    Tensor dout = randn(out_c.shape(), out_c.dtype(), &gen);
    out_c.backward(dout);
    out_g.backward(dout.to(Device::cuda()));
    for (size_t i = 0; i < inputs.size(); ++i) {
      if (!inputs[i].requires_grad()) continue;
      std::string name = what + " d(input " + std::to_string(i) + ")";
      ASSERT_TRUE(cpu[i].grad().defined()) << name << ": no CPU gradient";
      ASSERT_TRUE(gpu[i].grad().defined()) << name << ": no CUDA gradient";
      ASSERT_TRUE(gpu[i].grad().device().is_cuda()) << name << ": gradient left the GPU";
      Closeness b = closeness(gpu[i].grad(), cpu[i].grad(), rtol, atol);
      expect_close_to(gpu[i].grad(), cpu[i].grad(), rtol, atol, name);
      line += "; d" + std::to_string(i) + " " + b.str();
    }
  }
  std::printf("[parity] %s\n", line.c_str());
}

// A float32 N(0,1) CPU tensor from its own seed, requiring grad if asked.
inline Tensor randn32(const Shape& s, uint64_t seed, bool grad = true) {
  Generator g(seed);
  Tensor t = randn(s, DType::F32, &g);
  if (grad) t.set_requires_grad();
  return t;
}

}  // namespace sirs::test
