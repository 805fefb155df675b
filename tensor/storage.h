// Reference-counted raw memory. CPU blocks are 64-byte aligned (one cache
// line, the widest AVX-512 load). CUDA blocks come from the CUDA allocator
// (tensor/cuda_allocator.h) when the library is built with CUDA.
#pragma once

#include <cstddef>
#include <memory>

#include "tensor/device.h"

namespace sirs {

class Storage {
 public:
  Storage(size_t nbytes, Device device);
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  void* data() const { return data_; }
  size_t nbytes() const { return nbytes_; }
  Device device() const { return device_; }

 private:
  void* data_ = nullptr;
  size_t nbytes_ = 0;
  Device device_;
};

// Copies nbytes between any two devices (host<->device, device<->device).
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes);

// Bytes currently held by CPU storages, and the peak since start.
size_t cpu_bytes_in_use();
size_t cpu_bytes_peak();

}  // namespace sirs
