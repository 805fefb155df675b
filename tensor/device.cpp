#include "tensor/device.h"

#include <atomic>
#include <cstdlib>

#include "tensor/error.h"

namespace sirs {

Device Device::parse(const std::string& s) {
  if (s == "cpu") return cpu();
  if (s == "cuda") return cuda(0);
  if (s.rfind("cuda:", 0) == 0 && s.size() > 5) {
    char* end = nullptr;
    long i = std::strtol(s.c_str() + 5, &end, 10);
    if (*end == '\0' && i >= 0) return cuda(static_cast<int>(i));
  }
  throw ValueError(str_cat("bad device '", s, "': expected cpu, cuda or cuda:N"));
}

std::string Device::str() const {
  return is_cpu() ? std::string("cpu") : str_cat("cuda:", index);
}

namespace {
std::atomic<MathPrecision> g_precision{MathPrecision::FP32};
}  // namespace

void set_math_precision(MathPrecision p) { g_precision.store(p); }
MathPrecision math_precision() { return g_precision.load(); }

MathPrecision parse_math_precision(const std::string& s) {
  if (s == "fp32") return MathPrecision::FP32;
  if (s == "tf32") return MathPrecision::TF32;
  throw ValueError(str_cat("bad precision '", s, "': expected fp32 or tf32"));
}

void throw_no_cuda(const char* op) {
  throw DeviceError(str_cat(op, ": CUDA tensor in a build of sirs without CUDA"));
}

}  // namespace sirs
