// CUDA launchers for kernels/gru.h: the fused GRU gates, forward and
// backward. Same math, layout ([B, H] contiguous) and overwrite / null
// contract as the CPU functions there. T is float or double.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

template <class T>
void gru_cell_forward_cuda(const T* gi_r,  // [B, H]
                           const T* gi_z,  // [B, H]
                           const T* gi_n,  // [B, H]
                           const T* gh_r,  // [B, H]
                           const T* gh_z,  // [B, H]
                           const T* gh_n,  // [B, H]
                           const T* h,     // [B, H]
                           T* h_out,       // [B, H], overwritten
                           T* r,           // [B, H], overwritten, or null (with z, n)
                           T* z,           // [B, H], overwritten, or null
                           T* n,           // [B, H], overwritten, or null
                           int64_t B, int64_t H, cudaStream_t stream);

template <class T>
void gru_cell_backward_cuda(const T* dh_out,  // [B, H] gradient of h'
                            const T* r,       // [B, H] as saved by the forward
                            const T* z,       // [B, H] as saved by the forward
                            const T* n,       // [B, H] as saved by the forward
                            const T* gh_n,    // [B, H] the forward's input
                            const T* h,       // [B, H] the forward's input
                            T* dgi_r,         // [B, H] = d(gh_r), overwritten, or null
                            T* dgi_z,         // [B, H] = d(gh_z), overwritten, or null
                            T* dgi_n,         // [B, H], overwritten, or null
                            T* dgh_n,         // [B, H], overwritten, or null
                            T* dh,            // [B, H], overwritten, or null
                            int64_t B, int64_t H, cudaStream_t stream);

}  // namespace sirs
