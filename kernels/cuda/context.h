// The per-device CUDA context: one stream, one cuBLAS handle and one cuDNN
// handle per device, created on first use and bound to that stream. Every
// launcher takes the stream explicitly (STYLE.md); autograd files get it
// here with cuda_stream(t.device().index).
//
// Ordering: all work of the engine runs on the device's one stream, so the
// caching allocator can hand a freed block to the next op without a sync.
// Host<->device copies run on the same stream and synchronise it before a
// host buffer is read or reused.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>

namespace sirs {

// The stream of `device` (created on first use).
cudaStream_t cuda_stream(int device);

// cuBLAS handle of `device`, bound to cuda_stream(device), its math mode set
// from math_precision() (tensor/device.h) at every call: TF32 tensor-core
// math when the precision is TF32, plain fp32 (CUBLAS_DEFAULT_MATH) otherwise.
cublasHandle_t cublas_handle(int device);

// cuDNN handle of `device`, bound to cuda_stream(device).
cudnnHandle_t cudnn_handle(int device);

// Scratch device memory from the caching allocator (tensor/cuda_allocator.h),
// returned to it at scope exit. Safe to reuse right away: everything that
// touched it was queued on the device's one stream.
class CudaBuffer {
 public:
  CudaBuffer(size_t nbytes, int device);
  ~CudaBuffer();
  CudaBuffer(const CudaBuffer&) = delete;
  CudaBuffer& operator=(const CudaBuffer&) = delete;
  void* get() const { return ptr_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }
  size_t size() const { return nbytes_; }

 private:
  void* ptr_ = nullptr;
  size_t nbytes_ = 0;
  int device_ = 0;
};

// Multiprocessor count of `device` (cached), for sizing grid-stride launches.
int cuda_sm_count(int device);

// The most dynamic shared memory one block of `device` may opt into
// (bytes, cached): what kernels with large shared-memory buffers may ask for.
int cuda_max_block_smem(int device);

}  // namespace sirs
