// Plain cudaMalloc/cudaFree for now; the caching allocator arrives with the
// CUDA backend issue (#3) behind the same four functions.
#include "tensor/cuda_allocator.h"

#include "tensor/device.h"
#include "tensor/error.h"

#ifdef SIRS_WITH_CUDA
#include <cuda_runtime.h>
#endif

namespace sirs {

#ifdef SIRS_WITH_CUDA

#define SIRS_CUDA_CHECK_ALLOC(call)                                                       \
  do {                                                                                    \
    cudaError_t err_ = (call);                                                            \
    if (err_ != cudaSuccess)                                                              \
      throw DeviceError(str_cat(__FILE__, ":", __LINE__, ": ", #call, ": ",               \
                                cudaGetErrorString(err_)));                               \
  } while (0)

bool cuda_built() { return true; }

int cuda_device_count() {
  int n = 0;
  if (cudaGetDeviceCount(&n) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return 0;
  }
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
      s += str_cat(" [", i, "] ", p.name, " sm_", p.major, p.minor, " ",
                   p.totalGlobalMem >> 20, " MiB");
  }
  return s;
}

void* cuda_allocate(size_t nbytes, int device) {
  SIRS_CUDA_CHECK_ALLOC(cudaSetDevice(device));
  void* p = nullptr;
  if (nbytes == 0) nbytes = 1;
  SIRS_CUDA_CHECK_ALLOC(cudaMalloc(&p, nbytes));
  return p;
}

void cuda_release(void* ptr, int device) {
  if (!ptr) return;
  cudaSetDevice(device);
  cudaFree(ptr);  // no throw from a destructor path
}

void cuda_copy(void* dst, const void* src, size_t nbytes, int kind, int device) {
  SIRS_CUDA_CHECK_ALLOC(cudaSetDevice(device));
  cudaMemcpyKind k = kind == 0 ? cudaMemcpyHostToDevice
                     : kind == 1 ? cudaMemcpyDeviceToHost
                                 : cudaMemcpyDeviceToDevice;
  SIRS_CUDA_CHECK_ALLOC(cudaMemcpy(dst, src, nbytes, k));
}

#else

static const char* kNoCuda = "this build of sirs has no CUDA support (nvcc was not found at build time)";
bool cuda_built() { return false; }
int cuda_device_count() { return 0; }
bool cuda_available() { return false; }
std::string cuda_status() { return "CUDA: not built in; using the CPU"; }
void* cuda_allocate(size_t, int) { throw DeviceError(kNoCuda); }
void cuda_release(void*, int) {}
void cuda_copy(void*, const void*, size_t, int, int) { throw DeviceError(kNoCuda); }

#endif

}  // namespace sirs
