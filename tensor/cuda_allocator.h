// The CUDA side of storage: allocation, release and copies. Built only with
// SIRS_WITH_CUDA; without it every function throws a DeviceError saying the
// library was built without CUDA.
#pragma once

#include <cstddef>

namespace sirs {

bool cuda_built();
void* cuda_allocate(size_t nbytes, int device);
void cuda_release(void* ptr, int device);
// kind: 0 host->device, 1 device->host, 2 device->device
void cuda_copy(void* dst, const void* src, size_t nbytes, int kind, int device);

}  // namespace sirs
