// Optimizer updates on the CPU (contract and formulas: kernels/optim.h).
// Element-wise and memory-bound: one pass over param, grad and the state,
// split across OpenMP threads for large tensors. Scalars are cast to T
// once, as PyTorch's CPU kernels do for float tensors, so float32 results
// match torch.optim to rounding.
//
// Test: make build/sirs_tests && ./build/sirs_tests --gtest_filter='Optim*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=adam
#include <cmath>

#include "kernels/optim.h"

namespace sirs {

namespace {
constexpr int64_t kParallelMin = 1 << 15;
}

template <class T>
void adam_step_cpu(T* param, const T* grad, T* exp_avg, T* exp_avg_sq, int64_t n, double lr,
                   double beta1, double beta2, double eps, double weight_decay, int64_t step) {
  const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(step));
  const T step_size = static_cast<T>(lr / bias_correction1);
  const T bc2_sqrt = static_cast<T>(std::sqrt(bias_correction2));
  const T b1 = static_cast<T>(beta1), one_minus_b1 = static_cast<T>(1.0 - beta1);
  const T b2 = static_cast<T>(beta2), one_minus_b2 = static_cast<T>(1.0 - beta2);
  const T e = static_cast<T>(eps), wd = static_cast<T>(weight_decay);
  const bool decay = weight_decay != 0.0;
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g += wd * param[i];
    T m = b1 * exp_avg[i] + one_minus_b1 * g;
    T v = b2 * exp_avg_sq[i] + one_minus_b2 * g * g;
    exp_avg[i] = m;
    exp_avg_sq[i] = v;
    T denom = std::sqrt(v) / bc2_sqrt + e;
    param[i] -= step_size * (m / denom);
  }
}

template <class T>
void sgd_step_cpu(T* param, const T* grad, T* momentum_buf, int64_t n, double lr, double momentum,
                  double dampening, double weight_decay, bool nesterov, bool first) {
  const T a = static_cast<T>(lr), mu = static_cast<T>(momentum);
  const T damp = static_cast<T>(1.0 - dampening), wd = static_cast<T>(weight_decay);
  const bool decay = weight_decay != 0.0, use_buf = momentum != 0.0;
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    T g = grad[i];
    if (decay) g += wd * param[i];
    T d = g;
    if (use_buf) {
      T b = first ? g : mu * momentum_buf[i] + damp * g;
      momentum_buf[i] = b;
      d = nesterov ? g + mu * b : b;
    }
    param[i] -= a * d;
  }
}

template <class T>
double sum_squares_cpu(const T* x, int64_t n) {
  double acc = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : acc) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) {
    double v = static_cast<double>(x[i]);
    acc += v * v;
  }
  return acc;
}

template <class T>
void scale_cpu(T* x, int64_t n, double alpha) {
  const T a = static_cast<T>(alpha);
#pragma omp parallel for schedule(static) if (n > kParallelMin)
  for (int64_t i = 0; i < n; ++i) x[i] *= a;
}

#define SIRS_INSTANTIATE(T)                                                                   \
  template void adam_step_cpu<T>(T*, const T*, T*, T*, int64_t, double, double, double,       \
                                 double, double, int64_t);                                    \
  template void sgd_step_cpu<T>(T*, const T*, T*, int64_t, double, double, double, double,    \
                                bool, bool);                                                  \
  template double sum_squares_cpu<T>(const T*, int64_t);                                      \
  template void scale_cpu<T>(T*, int64_t, double);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
