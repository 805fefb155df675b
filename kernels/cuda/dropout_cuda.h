// CUDA launchers for kernels/dropout.h: the counter-based dropout mask and
// its application. The keep rule is the CPU's, bit for bit
// (kernels/cuda/dropout.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

// mask[i] = keep(i) ? scale : 0 with keep(i) the rule of kernels/dropout.h
// (Philox block first + i / 4 under key seed, lane i % 4), overwritten.
// Element i depends only on (seed, first, i), never on the launch geometry:
// `threads` (a multiple of 32, at most 1024) and `max_blocks` (0: as many as
// the n / 4 Philox blocks need, capped as cuda_blocks does) are parameters
// so the tests can run other geometries and compare.
template <class T>
void dropout_mask_cuda(T* mask,  // [n], device
                       int64_t n, uint64_t seed, uint64_t first, uint32_t threshold, T scale,
                       cudaStream_t stream, int threads = 256, int max_blocks = 0);

// y[i] = x[i] * mask[i], overwritten (forward; also the backward with x = dy,
// y = dx). All three contiguous on the same device.
template <class T>
void dropout_apply_cuda(const T* x,     // [n]
                        const T* mask,  // [n]
                        T* y,           // [n], overwritten
                        int64_t n, cudaStream_t stream);

}  // namespace sirs
