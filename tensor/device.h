// Where a tensor's storage lives: the CPU or one CUDA device.
#pragma once

#include <cstdint>
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

// Precision of float32 matrix products and convolutions on CUDA: FP32 (the
// default; results within fp32 rounding of the CPU) or TF32 (tensor cores,
// 10-bit mantissa inputs: ~1e-3 relative error, several times faster).
// Process-wide; `runtime.precision` in a config sets it.
enum class MathPrecision : uint8_t { FP32, TF32 };
void set_math_precision(MathPrecision p);
MathPrecision math_precision();
// "fp32" | "tf32"; anything else is a ValueError quoting the text.
MathPrecision parse_math_precision(const std::string& s);

// Waits for all queued work on `device` (a no-op without CUDA). Then
// reports the first index error that a CUDA op found on the device since
// the last report (kernels/cuda/deferred_check.h): the op's own error,
// thrown here instead of at the call. Device->host copies (item(),
// to(cpu)) report the same way.
void cuda_synchronize(int device = 0);

// Whether CUDA ops that check indices on the device (embedding,
// cross_entropy, index_select, gather) wait for the check and throw at the
// call (on) or report at the next synchronisation (off, the default: no
// stream synchronisation per call). The environment variable
// SIRS_CUDA_SYNC_CHECKS=1 turns it on at start; this overrides it.
void set_cuda_sync_checks(bool on);
bool cuda_sync_checks();

// Thrown from the CUDA branch of an op in a build without CUDA (such a
// tensor cannot exist there, so this marks an impossible path).
[[noreturn]] void throw_no_cuda(const char* op);

}  // namespace sirs

// SIRS_IF_CUDA(op, statement...): the CUDA branch of an op's dispatch. In a
// build with CUDA it is the statement; without, it throws a DeviceError
// naming op, so autograd files need no #ifdef around each call:
//   if (x.device().is_cuda()) SIRS_IF_CUDA("relu", relu_forward_cuda(...));
#ifdef SIRS_WITH_CUDA
#define SIRS_IF_CUDA(op, ...) __VA_ARGS__
#else
#define SIRS_IF_CUDA(op, ...) ::sirs::throw_no_cuda(op)
#endif
