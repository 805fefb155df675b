#include "autograd/gradcheck.h"

#include <cmath>
#include <sstream>

#include "autograd/grad_mode.h"

namespace sirs {

namespace {

double weighted_sum(const Tensor& out, const std::vector<double>& r) {
  std::vector<double> v = out.to_vector();
  double s = 0;
  for (size_t i = 0; i < v.size(); ++i) s += v[i] * r[i];
  return s;
}

// Storage index of element `flat` (row-major over the view's shape).
int64_t storage_index(const Tensor& t, int64_t flat) {
  int64_t off = t.offset();
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    int64_t i = flat % t.shape()[d];
    flat /= t.shape()[d];
    off += i * t.strides()[d];
  }
  return off;
}

}  // namespace

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps, double atol,
                          double rtol) {
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad()) continue;
    SIRS_CHECK(t.dtype() == DType::F64 && t.device().is_cpu(), DTypeError,
               "gradcheck: input ", i, " must be a float64 CPU tensor, got ",
               dtype_name(t.dtype()), " on ", t.device().str());
    for (int64_t d = 0; d < t.dim(); ++d)
      SIRS_CHECK(t.strides()[d] != 0 || t.shape()[d] == 1, ValueError, "gradcheck: input ", i,
                 " is a broadcast view (stride 0); pass a real tensor");
  }
  Tensor out = fn(inputs);
  SIRS_CHECK(out.requires_grad(), AutogradError,
             "gradcheck: the output does not require grad; nothing to check");
  Generator gen(1234);
  Tensor r = randn(out.shape(), DType::F64, &gen);
  std::vector<double> rv = r.to_vector();
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) t.zero_grad();
  out.backward(r);

  GradcheckResult res;
  std::ostringstream rep;
  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    if (!t.defined() || !t.requires_grad()) continue;
    Tensor g = t.grad();
    std::vector<double> analytic =
        g.defined() ? g.to_vector() : std::vector<double>(static_cast<size_t>(t.numel()), 0.0);
    double* base = static_cast<double*>(t.storage()->data());
    for (int64_t j = 0; j < t.numel(); ++j) {
      int64_t k = storage_index(t, j);
      double x = base[k];
      base[k] = x + eps;
      double lp = weighted_sum(fn(inputs), rv);
      base[k] = x - eps;
      double lm = weighted_sum(fn(inputs), rv);
      base[k] = x;
      double numeric = (lp - lm) / (2 * eps);
      double err = std::fabs(numeric - analytic[j]);
      res.max_abs_error = std::max(res.max_abs_error, err);
      if (!(err <= atol + rtol * std::fabs(numeric))) {
        if (res.ok) rep << "gradcheck failed:\n";
        res.ok = false;
        rep << "  input " << i << " " << shape_str(t.shape()) << " element " << j
            << ": analytic " << analytic[j] << " numeric " << numeric << "\n";
      }
    }
    t.zero_grad();
  }
  res.report = rep.str();
  return res;
}

}  // namespace sirs
