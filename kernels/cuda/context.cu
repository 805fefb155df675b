// Per-device CUDA context (contract: kernels/cuda/context.h): the stream and
// the cuBLAS / cuDNN handles, created lazily under a mutex and kept for the
// life of the process (destroying them at exit races the driver's own
// teardown, so they are deliberately never destroyed).
#include "kernels/cuda/context.h"

#include <memory>
#include <mutex>
#include <vector>

#include "kernels/cuda/check.h"
#include "tensor/cuda_allocator.h"
#include "tensor/device.h"

namespace sirs {

namespace {

struct DeviceContext {
  cudaStream_t stream = nullptr;
  cublasHandle_t cublas = nullptr;
  cudnnHandle_t cudnn = nullptr;
  int sm_count = 0;
  int max_block_smem = 0;  // opt-in dynamic shared memory per block, bytes
};

std::mutex g_mutex;
std::vector<std::unique_ptr<DeviceContext>> g_contexts;

// The context of `device`, its stream created; handles come on demand.
// With several GPUs it also makes `device` current, so the kernels,
// cuBLAS and cuDNN calls that follow go to the device whose stream they use.
DeviceContext& context(int device) {
  if (cuda_device_count() > 1) SIRS_CUDA_CHECK(cudaSetDevice(device));
  std::lock_guard<std::mutex> lock(g_mutex);
  int n = cuda_device_count();
  SIRS_CHECK(device >= 0 && device < n, DeviceError, "cuda:", device, " does not exist (",
             cuda_status(), ")");
  if (g_contexts.size() < static_cast<size_t>(n)) g_contexts.resize(static_cast<size_t>(n));
  std::unique_ptr<DeviceContext>& c = g_contexts[static_cast<size_t>(device)];
  if (!c) {
    auto fresh = std::make_unique<DeviceContext>();
    SIRS_CUDA_CHECK(cudaSetDevice(device));
    // A blocking stream: the legacy default stream (plain cudaMemcpy,
    // cudaMemset) still orders against it.
    SIRS_CUDA_CHECK(cudaStreamCreate(&fresh->stream));
    SIRS_CUDA_CHECK(cudaDeviceGetAttribute(&fresh->sm_count, cudaDevAttrMultiProcessorCount, device));
    SIRS_CUDA_CHECK(cudaDeviceGetAttribute(&fresh->max_block_smem,
                                           cudaDevAttrMaxSharedMemoryPerBlockOptin, device));
    c = std::move(fresh);
  }
  return *c;
}

}  // namespace

cudaStream_t cuda_stream(int device) { return context(device).stream; }

int cuda_sm_count(int device) { return context(device).sm_count; }

int cuda_max_block_smem(int device) { return context(device).max_block_smem; }

cublasHandle_t cublas_handle(int device) {
  DeviceContext& c = context(device);
  {
    std::lock_guard<std::mutex> lock(g_mutex);
    if (!c.cublas) {
      SIRS_CUDA_CHECK(cudaSetDevice(device));
      SIRS_CUDA_CHECK(cublasCreate(&c.cublas));
      SIRS_CUDA_CHECK(cublasSetStream(c.cublas, c.stream));
    }
  }
  SIRS_CUDA_CHECK(cublasSetMathMode(c.cublas, math_precision() == MathPrecision::TF32
                                                  ? CUBLAS_TF32_TENSOR_OP_MATH
                                                  : CUBLAS_DEFAULT_MATH));
  return c.cublas;
}

cudnnHandle_t cudnn_handle(int device) {
  DeviceContext& c = context(device);
  std::lock_guard<std::mutex> lock(g_mutex);
  if (!c.cudnn) {
    SIRS_CUDA_CHECK(cudaSetDevice(device));
    SIRS_CUDA_CHECK(cudnnCreate(&c.cudnn));
    SIRS_CUDA_CHECK(cudnnSetStream(c.cudnn, c.stream));
  }
  return c.cudnn;
}

CudaBuffer::CudaBuffer(size_t nbytes, int device) : nbytes_(nbytes), device_(device) {
  if (nbytes > 0) ptr_ = cuda_allocate(nbytes, device);
}

CudaBuffer::~CudaBuffer() {
  if (ptr_) cuda_release(ptr_, device_);
}

}  // namespace sirs
