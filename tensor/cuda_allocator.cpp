// Caching CUDA allocator and host<->device copies (contract:
// tensor/cuda_allocator.h).
#include "tensor/cuda_allocator.h"

#include <cstring>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "tensor/device.h"
#include "tensor/error.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/deferred_check.h"
#endif

namespace sirs {

size_t cuda_size_class(size_t nbytes) {
  if (nbytes == 0) nbytes = 1;
  constexpr size_t kSmall = size_t{1} << 20;
  if (nbytes <= kSmall) return (nbytes + 511) / 512 * 512;
  // 8 classes per power of two: step = 2^(floor(log2 n) - 3).
  size_t top = 63 - static_cast<size_t>(__builtin_clzll(nbytes));
  size_t step = size_t{1} << (top - 3);
  return (nbytes + step - 1) / step * step;
}

#ifdef SIRS_WITH_CUDA

bool cuda_built() { return true; }

int cuda_device_count() {
  static int n = [] {
    int c = 0;
    if (cudaGetDeviceCount(&c) != cudaSuccess) {
      cudaGetLastError();  // clear the "no device" error
      return 0;
    }
    return c;
  }();
  return n;
}

bool cuda_available() { return cuda_device_count() > 0; }

std::string cuda_status() {
  int n = 0;
  cudaError_t err = cudaGetDeviceCount(&n);
  if (err != cudaSuccess) {
    cudaGetLastError();
    return str_cat("CUDA: built in, unavailable (", cudaGetErrorString(err), "); using the CPU");
  }
  if (n == 0) return "CUDA: built in, no device found; using the CPU";
  std::string s = str_cat("CUDA: ", n, " device(s):");
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p;
    if (cudaGetDeviceProperties(&p, i) == cudaSuccess)
      s += str_cat(" [", i, "] ", p.name, " sm_", p.major, p.minor, " ", p.totalGlobalMem >> 20,
                   " MiB");
  }
  return s;
}

// The host waits for the device here anyway: the deferred index checks
// (kernels/cuda/deferred_check.h) are read and the first error thrown.
void cuda_synchronize(int device) {
  if (!cuda_available()) return;
  uint64_t mark = cuda_deferred_mark(device);  // the checks this wait covers
  SIRS_CUDA_CHECK(cudaStreamSynchronize(cuda_stream(device)));
  cuda_check_deferred(device, mark);
}

namespace {

struct DevicePool {
  std::unordered_map<size_t, std::vector<void*>> free;  // size class -> blocks
  std::unordered_map<void*, size_t> live;                // block -> size class
  CudaMemoryStats stats;
  void* staging[2] = {nullptr, nullptr};  // pinned host buffers for copies
};

constexpr size_t kStagingBytes = size_t{8} << 20;
constexpr size_t kStagingThreshold = size_t{256} << 10;

std::mutex g_mutex;
std::unordered_map<int, DevicePool> g_pools;

// Frees every cached block of pool p; returns the bytes freed. Caller holds g_mutex.
size_t drain(DevicePool& p, int device) {
  size_t freed = 0;
  cudaSetDevice(device);
  for (auto& [size, blocks] : p.free) {
    for (void* b : blocks) {
      cudaFree(b);
      freed += size;
    }
    blocks.clear();
  }
  p.free.clear();
  p.stats.cached = 0;
  return freed;
}

}  // namespace

void* cuda_allocate(size_t nbytes, int device) {
  size_t cls = cuda_size_class(nbytes);
  std::lock_guard<std::mutex> lock(g_mutex);
  DevicePool& p = g_pools[device];
  ++p.stats.allocations;
  void* ptr = nullptr;
  auto it = p.free.find(cls);
  if (it != p.free.end() && !it->second.empty()) {
    ptr = it->second.back();
    it->second.pop_back();
    p.stats.cached -= cls;
    ++p.stats.cache_hits;
  } else {
    SIRS_CUDA_CHECK(cudaSetDevice(device));
    cudaError_t err = cudaMalloc(&ptr, cls);
    if (err == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      size_t cached = p.stats.cached;
      drain(p, device);
      err = cudaMalloc(&ptr, cls);
      if (err == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        throw DeviceError(str_cat("CUDA out of memory on cuda:", device, ": requested ", nbytes,
                                  " bytes (", cls, " with rounding); ", p.stats.in_use,
                                  " bytes in use by sirs, ", cached,
                                  " bytes were cached and have been freed; device has ", free_b,
                                  " bytes free of ", total_b));
      }
    }
    SIRS_CUDA_CHECK(err);
    ++p.stats.device_mallocs;
  }
  p.live[ptr] = cls;
  p.stats.in_use += cls;
  if (p.stats.in_use > p.stats.peak) p.stats.peak = p.stats.in_use;
  return ptr;
}

void cuda_release(void* ptr, int device) {
  if (!ptr) return;
  std::lock_guard<std::mutex> lock(g_mutex);
  DevicePool& p = g_pools[device];
  auto it = p.live.find(ptr);
  if (it == p.live.end()) return;  // not ours: never happens; no throw on a destructor path
  size_t cls = it->second;
  p.live.erase(it);
  p.stats.in_use -= cls;
  p.stats.cached += cls;
  p.free[cls].push_back(ptr);
}

CudaMemoryStats cuda_memory_stats(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  return g_pools[device].stats;
}

void cuda_reset_peak(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  DevicePool& p = g_pools[device];
  p.stats.peak = p.stats.in_use;
}

void cuda_empty_cache(int device) {
  std::lock_guard<std::mutex> lock(g_mutex);
  // A plain stream sync, not cuda_synchronize: emptying the cache is no
  // place to throw a pending index error (it stays queued for the next one).
  if (cuda_available()) SIRS_CUDA_CHECK(cudaStreamSynchronize(cuda_stream(device)));
  drain(g_pools[device], device);
}

namespace {

// Host<->device through the two pinned staging buffers: chunk k is copied
// on the host side while chunk k-1's DMA runs; an event per buffer says when
// it is free again.
void staged_copy(void* dst, const void* src, size_t nbytes, bool to_device, int device,
                 cudaStream_t stream) {
  void* stage[2];
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    DevicePool& p = g_pools[device];
    for (int i = 0; i < 2; ++i)
      if (!p.staging[i]) SIRS_CUDA_CHECK(cudaMallocHost(&p.staging[i], kStagingBytes));
    stage[0] = p.staging[0];
    stage[1] = p.staging[1];
  }
  cudaEvent_t done[2];
  for (cudaEvent_t& e : done) SIRS_CUDA_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  bool used[2] = {false, false};
  try {
    int k = 0;
    for (size_t off = 0; off < nbytes; off += kStagingBytes, k ^= 1) {
      size_t n = nbytes - off < kStagingBytes ? nbytes - off : kStagingBytes;
      if (used[k]) SIRS_CUDA_CHECK(cudaEventSynchronize(done[k]));
      if (to_device) {
        std::memcpy(stage[k], static_cast<const char*>(src) + off, n);
        SIRS_CUDA_CHECK(cudaMemcpyAsync(static_cast<char*>(dst) + off, stage[k], n,
                                        cudaMemcpyHostToDevice, stream));
        SIRS_CUDA_CHECK(cudaEventRecord(done[k], stream));
      } else {
        SIRS_CUDA_CHECK(cudaMemcpyAsync(stage[k], static_cast<const char*>(src) + off, n,
                                        cudaMemcpyDeviceToHost, stream));
        SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
        std::memcpy(static_cast<char*>(dst) + off, stage[k], n);
      }
      used[k] = true;
    }
    SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
  } catch (...) {
    for (cudaEvent_t e : done) cudaEventDestroy(e);
    throw;
  }
  for (cudaEvent_t e : done) cudaEventDestroy(e);
}

}  // namespace

void cuda_copy(void* dst, const void* src, size_t nbytes, int kind, int device) {
  if (nbytes == 0) return;
  SIRS_CUDA_CHECK(cudaSetDevice(device));
  cudaStream_t stream = cuda_stream(device);
  if (kind == 2) {
    SIRS_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes, cudaMemcpyDeviceToDevice, stream));
    return;
  }
  // The deferred checks queued so far finish before this copy's wait ends.
  const uint64_t mark = kind == 1 ? cuda_deferred_mark(device) : 0;
  if (nbytes >= kStagingThreshold) {
    staged_copy(dst, src, nbytes, kind == 0, device, stream);
  } else {
    // A pageable host->device copy returns once the driver has taken the
    // host bytes, so only the device->host direction must wait.
    SIRS_CUDA_CHECK(cudaMemcpyAsync(dst, src, nbytes,
                                    kind == 0 ? cudaMemcpyHostToDevice : cudaMemcpyDeviceToHost,
                                    stream));
    if (kind == 1) SIRS_CUDA_CHECK(cudaStreamSynchronize(stream));
  }
  // A device->host copy has waited for the stream: report the deferred
  // index checks (kernels/cuda/deferred_check.h), so loss.item() in a
  // training loop raises an index error of the same step. The copied bytes
  // are in dst either way.
  if (kind == 1) cuda_check_deferred(device, mark);
}

#else

static const char* kNoCuda = "this build of sirs has no CUDA support (nvcc was not found at build time)";
bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
bool cuda_available() { return false; }
std::string cuda_status() { return "CUDA: not built in; using the CPU"; }
void cuda_synchronize(int) {}
static bool g_sync_checks = false;  // no device checks without CUDA; kept for the API
void set_cuda_sync_checks(bool on) { g_sync_checks = on; }
bool cuda_sync_checks() { return g_sync_checks; }
void* cuda_allocate(size_t, int device) { throw DeviceError(str_cat("cuda:", device, ": ", kNoCuda)); }
void cuda_release(void*, int) {}
void cuda_copy(void*, const void*, size_t, int, int device) {
  throw DeviceError(str_cat("cuda:", device, ": ", kNoCuda));
}
CudaMemoryStats cuda_memory_stats(int) { return {}; }
void cuda_reset_peak(int) {}
void cuda_empty_cache(int) {}

#endif

}  // namespace sirs
