// Shared by the golden-file tests (test_golden, test_sirs_model, test_gru, test_resnet):
// loading a safetensors golden file with a version check, and the
// tolerance rule the comparisons use.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include "layers/safetensors.h"
#include "tensor/tensor.h"
#include "tests/test_util.h"

namespace sirs {
namespace golden {

struct Golden {
  std::map<std::string, Tensor> t;
  std::map<std::string, std::string> metadata;
  const Tensor& operator[](const std::string& k) const {
    auto it = t.find(k);
    if (it == t.end()) throw ValueError("golden file has no tensor '" + k + "'");
    return it->second;
  }
  bool has(const std::string& k) const { return t.count(k) != 0; }
};

// tests/golden/<name>.safetensors; its metadata "sirs_golden_version" must
// equal version, else a ValueError that says to run `regenerate`.
inline Golden load(const std::string& name, const std::string& version,
                   const std::string& regenerate = "make golden") {
  std::string path = test::source_dir() + "/tests/golden/" + name + ".safetensors";
  SafetensorsFile f = load_safetensors(path);
  auto v = f.metadata.find("sirs_golden_version");
  if (v == f.metadata.end() || v->second != version)
    throw ValueError(path + ": golden version mismatch (want " + version + "); regenerate with `" +
                     regenerate + "`");
  Golden g;
  g.metadata = f.metadata;
  for (auto& [k, t] : f.tensors) g.t[k] = t;
  return g;
}

// |ours - ref| <= rtol * (|ref| + max|ref| + floor) element by element:
// relative to the element, with the tensor's scale as the floor for values
// near zero. `floor` is an extra absolute scale for tensors that are zero up
// to rounding (a gradient the architecture cancels exactly): pass a small
// fraction of the scale of related tensors.
inline void expect_close(const std::string& what, const Tensor& ours, const Tensor& ref,
                         double rtol = 1e-5, double floor = 0) {
  ASSERT_TRUE(ours.defined()) << what << ": undefined";
  ASSERT_EQ(ours.shape(), ref.shape()) << what;
  std::vector<double> a = ours.to_vector(), b = ref.to_vector();
  double scale = 0;
  for (double x : b) scale = std::max(scale, std::fabs(x));
  double worst = 0;
  size_t at = 0;
  for (size_t i = 0; i < a.size(); ++i) {
    double err = std::fabs(a[i] - b[i]) / (std::fabs(b[i]) + scale + floor + 1e-30);
    if (std::isnan(err)) err = HUGE_VAL;  // a NaN fails the comparison
    if (err > worst) worst = err, at = i;
  }
  EXPECT_LE(worst, rtol) << what << ": element " << at << " ours " << a[at] << " torch " << b[at];
}

}  // namespace golden
}  // namespace sirs
