// Initialisers (formulas in layers/init.h). Values are drawn in float64 on
// the host and converted into the target by view::copy_into, which never
// records a graph, so parameters stay leaves.
#include "layers/init.h"

#include <cmath>

namespace sirs {

namespace {
void check_target(const char* op, const Tensor& w) {
  SIRS_CHECK(w.defined(), ValueError, op, ": undefined tensor");
  SIRS_CHECK(is_floating(w.dtype()), DTypeError, op, ": expected a floating tensor, got ",
             dtype_name(w.dtype()), " of shape ", shape_str(w.shape()));
}

int64_t fan(const char* op, const Tensor& w, FanMode mode) {
  auto f = fan_in_and_fan_out(w.shape());
  int64_t n = mode == FanMode::FanIn ? f.first : f.second;
  SIRS_CHECK(n > 0, ValueError, op, ": zero fan for shape ", shape_str(w.shape()));
  return n;
}
}  // namespace

double calculate_gain(Nonlinearity nl, double negative_slope) {
  switch (nl) {
    case Nonlinearity::Linear: return 1.0;
    case Nonlinearity::Sigmoid: return 1.0;
    case Nonlinearity::Tanh: return 5.0 / 3.0;
    case Nonlinearity::ReLU: return std::sqrt(2.0);
    case Nonlinearity::LeakyReLU: return std::sqrt(2.0 / (1.0 + negative_slope * negative_slope));
  }
  return 1.0;
}

std::pair<int64_t, int64_t> fan_in_and_fan_out(const Shape& shape) {
  SIRS_CHECK(shape.size() >= 2, ValueError,
             "fan_in_and_fan_out: needs at least 2 dims, got shape ", shape_str(shape));
  int64_t receptive = 1;
  for (size_t d = 2; d < shape.size(); ++d) receptive *= shape[d];
  return {shape[1] * receptive, shape[0] * receptive};
}

void uniform_(const Tensor& w, double lo, double hi, Generator* gen) {
  check_target("uniform_", w);
  SIRS_CHECK(lo <= hi, ValueError, "uniform_: lo ", lo, " > hi ", hi);
  view::copy_into(w, uniform(w.shape(), lo, hi, Options(DType::F64), gen));
}

void normal_(const Tensor& w, double mean, double std, Generator* gen) {
  check_target("normal_", w);
  SIRS_CHECK(std >= 0, ValueError, "normal_: std ", std, " < 0");
  view::copy_into(w, normal(w.shape(), mean, std, Options(DType::F64), gen));
}

void constant_(const Tensor& w, double value) {
  SIRS_CHECK(w.defined(), ValueError, "constant_: undefined tensor");
  view::fill(w, value);
}
void zeros_(const Tensor& w) { constant_(w, 0.0); }
void ones_(const Tensor& w) { constant_(w, 1.0); }

void kaiming_normal_(const Tensor& w, FanMode mode, Nonlinearity nl, double a, Generator* gen) {
  check_target("kaiming_normal_", w);
  double std = calculate_gain(nl, a) / std::sqrt(static_cast<double>(fan("kaiming_normal_", w, mode)));
  normal_(w, 0.0, std, gen);
}

void kaiming_uniform_(const Tensor& w, FanMode mode, Nonlinearity nl, double a, Generator* gen) {
  check_target("kaiming_uniform_", w);
  double bound = calculate_gain(nl, a) *
                 std::sqrt(3.0 / static_cast<double>(fan("kaiming_uniform_", w, mode)));
  uniform_(w, -bound, bound, gen);
}

void linear_default_init_(const Tensor& weight, const Tensor& bias, Generator* gen) {
  kaiming_uniform_(weight, FanMode::FanIn, Nonlinearity::LeakyReLU, std::sqrt(5.0), gen);
  if (!bias.defined()) return;
  double bound = 1.0 / std::sqrt(static_cast<double>(fan_in_and_fan_out(weight.shape()).first));
  uniform_(bias, -bound, bound, gen);
}

}  // namespace sirs
