// Where a tensor's storage lives: the CPU or one CUDA device.
#pragma once

#include <string>

namespace sirs {

enum class DeviceType : uint8_t { CPU, CUDA };

struct Device {
  DeviceType type = DeviceType::CPU;
  int index = 0;  // CUDA ordinal; always 0 for the CPU

  static Device cpu() { return Device{}; }
  static Device cuda(int i = 0) { return Device{DeviceType::CUDA, i}; }
  // "cpu", "cuda", "cuda:1"; anything else is a ValueError quoting the text.
  static Device parse(const std::string& s);

  bool is_cpu() const { return type == DeviceType::CPU; }
  bool is_cuda() const { return type == DeviceType::CUDA; }
  std::string str() const;
  bool operator==(const Device& o) const { return type == o.type && index == o.index; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};

// True when the library was built with CUDA and a device can be used.
bool cuda_available();
int cuda_device_count();
// One line: "CUDA: 1 device(s): NVIDIA H100 ..." or why it is unavailable.
std::string cuda_status();

}  // namespace sirs
