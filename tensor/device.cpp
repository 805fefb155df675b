#include "tensor/device.h"

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

}  // namespace sirs
