// The one checking macro for CUDA runtime calls and kernel launches: on
// failure it throws a DeviceError with file, line, the call and CUDA's own
// error string. (cuBLAS and cuDNN statuses join it with the CUDA backend.)
#pragma once

#include <cuda_runtime.h>

#include "tensor/error.h"

#define SIRS_CUDA_CHECK(call)                                                              \
  do {                                                                                     \
    cudaError_t sirs_err_ = (call);                                                        \
    if (sirs_err_ != cudaSuccess)                                                          \
      throw ::sirs::DeviceError(::sirs::str_cat(__FILE__, ":", __LINE__, ": ", #call, ": ", \
                                                cudaGetErrorString(sirs_err_)));           \
  } while (0)
