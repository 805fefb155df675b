// The one checking macro for every CUDA runtime, cuBLAS and cuDNN call and
// after every kernel launch:
//
//   SIRS_CUDA_CHECK(cudaMemcpyAsync(...));
//   SIRS_CUDA_CHECK(cublasSgemm(...));
//   SIRS_CUDA_CHECK(cudnnConvolutionForward(...));
//   my_kernel_v1<<<grid, block, 0, stream>>>(...);
//   SIRS_CUDA_CHECK(cudaGetLastError());
//
// On failure it throws a DeviceError carrying file, line, the call's text
// and the library's own error string (cudaGetErrorString,
// cublasGetStatusString, cudnnGetErrorString). The status type picks the
// overload, so one macro serves the three libraries.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <cudnn.h>

#include "tensor/error.h"

namespace sirs {

inline void cuda_check_status(cudaError_t s, const char* call, const char* file, int line) {
  if (s == cudaSuccess) return;
  cudaGetLastError();  // clear a non-sticky error so later calls are not blamed for it
  throw DeviceError(str_cat(file, ":", line, ": ", call, ": CUDA error ", static_cast<int>(s),
                            " (", cudaGetErrorName(s), "): ", cudaGetErrorString(s)));
}

inline void cuda_check_status(cublasStatus_t s, const char* call, const char* file, int line) {
  if (s == CUBLAS_STATUS_SUCCESS) return;
  throw DeviceError(str_cat(file, ":", line, ": ", call, ": cuBLAS error ", static_cast<int>(s),
                            ": ", cublasGetStatusString(s)));
}

inline void cuda_check_status(cudnnStatus_t s, const char* call, const char* file, int line) {
  if (s == CUDNN_STATUS_SUCCESS) return;
  throw DeviceError(str_cat(file, ":", line, ": ", call, ": cuDNN error ", static_cast<int>(s),
                            ": ", cudnnGetErrorString(s)));
}

}  // namespace sirs

#define SIRS_CUDA_CHECK(call) ::sirs::cuda_check_status((call), #call, __FILE__, __LINE__)
