// The CUDA side of storage: a caching allocator, host<->device copies with
// pinned staging, and memory statistics. Built only with SIRS_WITH_CUDA;
// without it allocation and copies throw a DeviceError saying the library
// was built without CUDA.
//
// Caching: a released block goes to a free list of its size class instead
// of cudaFree, and the next request of that class takes it back (no
// cudaMalloc / cudaFree per op). Size classes: multiples of 512 bytes below
// 1 MiB; above, the next of 8 steps per power of two (at most 12.5 % waste).
// All work runs on the device's one stream (kernels/cuda/context.h), so a
// block freed by one op is safe for the next op at once. On out-of-memory
// the allocator frees its whole cache and retries once, then throws a
// DeviceError naming the requested size, the bytes it had cached and the
// device's free and total memory.
#pragma once

#include <cstddef>
#include <cstdint>

namespace sirs {

bool cuda_built();
void* cuda_allocate(size_t nbytes, int device);
void cuda_release(void* ptr, int device);
// kind: 0 host->device, 1 device->host, 2 device->device. Host->device and
// device->host copies above 256 KiB stream through two pinned staging
// buffers per device (the host side overlaps the DMA of the previous chunk);
// every copy is ordered on the device's stream and complete on return for
// the host side. A device->host copy then reports the first pending index
// error of the device's deferred checks (kernels/cuda/deferred_check.h).
void cuda_copy(void* dst, const void* src, size_t nbytes, int kind, int device);

struct CudaMemoryStats {
  size_t in_use = 0;      // bytes of live blocks (as rounded to their class)
  size_t peak = 0;        // highest in_use since start or cuda_reset_peak
  size_t cached = 0;      // bytes in free lists, ready for reuse
  int64_t allocations = 0;  // cuda_allocate calls
  int64_t cache_hits = 0;   // of those, served from the cache
  int64_t device_mallocs = 0;  // cudaMalloc calls made
};
CudaMemoryStats cuda_memory_stats(int device);
void cuda_reset_peak(int device);
// Returns every cached block to the driver (cudaFree).
void cuda_empty_cache(int device);
// The size class a request of nbytes is served from.
size_t cuda_size_class(size_t nbytes);

}  // namespace sirs
