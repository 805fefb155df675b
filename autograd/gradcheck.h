// Gradient check by central differences. The function is reduced to the
// scalar L = sum(fn(inputs) * R) with a fixed random R, so one backward
// gives every input's analytic gradient dL/dx, and each element's numeric
// gradient is (L(x + eps) - L(x - eps)) / (2 eps). Inputs that require grad
// must be float64 (views and non-contiguous inputs are fine; broadcast
// views with stride 0 are not, since one element would stand for many).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sirs {

struct GradcheckResult {
  bool ok = true;
  double max_abs_error = 0;
  std::string report;  // names the input and element of each failure
};

GradcheckResult gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
                          const std::vector<Tensor>& inputs, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3);

}  // namespace sirs
