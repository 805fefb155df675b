#include "tensor/storage.h"

#include <atomic>
#include <cstdlib>
#include <cstring>

#include "tensor/cuda_allocator.h"
#include "tensor/error.h"

namespace sirs {

namespace {
std::atomic<size_t> g_cpu_in_use{0};
std::atomic<size_t> g_cpu_peak{0};
constexpr size_t kCpuAlignment = 64;
}  // namespace

size_t cpu_bytes_in_use() { return g_cpu_in_use.load(); }
size_t cpu_bytes_peak() { return g_cpu_peak.load(); }

Storage::Storage(size_t nbytes, Device device) : nbytes_(nbytes), device_(device) {
  if (device.is_cpu()) {
    size_t rounded = (nbytes + kCpuAlignment - 1) / kCpuAlignment * kCpuAlignment;
    if (rounded == 0) rounded = kCpuAlignment;
    data_ = std::aligned_alloc(kCpuAlignment, rounded);
    SIRS_CHECK(data_ != nullptr, Error, "out of CPU memory allocating ", nbytes, " bytes");
    size_t now = g_cpu_in_use.fetch_add(nbytes) + nbytes;
    size_t peak = g_cpu_peak.load();
    while (now > peak && !g_cpu_peak.compare_exchange_weak(peak, now)) {
    }
  } else {
    data_ = cuda_allocate(nbytes, device.index);
  }
}

Storage::~Storage() {
  if (device_.is_cpu()) {
    std::free(data_);
    g_cpu_in_use.fetch_sub(nbytes_);
  } else {
    cuda_release(data_, device_.index);
  }
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, size_t nbytes) {
  if (nbytes == 0) return;
  if (dst_device.is_cpu() && src_device.is_cpu()) {
    std::memcpy(dst, src, nbytes);
  } else if (dst_device.is_cuda() && src_device.is_cpu()) {
    cuda_copy(dst, src, nbytes, 0, dst_device.index);
  } else if (dst_device.is_cpu() && src_device.is_cuda()) {
    cuda_copy(dst, src, nbytes, 1, src_device.index);
  } else {
    cuda_copy(dst, src, nbytes, 2, dst_device.index);
  }
}

}  // namespace sirs
