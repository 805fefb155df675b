// The gates of one GRU step, fused: the elementwise part of the
// skip-thoughts GRU (layers/gru.h) once the matrix products are done.
//
// Inputs, all [B, H] contiguous, row-major:
//   gi_r, gi_z, gi_n  input-side pre-activations, biases included
//                     (W_ir x + b_ir, W_ii x + b_ii, W_in x + b_in)
//   gh_r, gh_z, gh_n  hidden-side projections (W_hr h, W_hi h, W_hn h: the
//                     layer's hidden Linears have no bias)
//   h                 the state the step starts from
// Forward, per element (b, j):
//   r  = sigmoid(gi_r + gh_r)           sigmoid(x) = 1 / (1 + e^-x)
//   z  = sigmoid(gi_z + gh_z)           ("i" in the reference's naming)
//   n  = tanh(gi_n + r * gh_n)          r scales the projection (PyTorch
//                                       style), not h before W_hn
//   h' = (1 - z) * n + z * h
// Backward, with g = dh':
//   dn       = g * (1 - z) * (1 - n^2)       = d(gi_n)
//   d(gh_n)  = dn * r
//   dr       = dn * gh_n * r * (1 - r)       = d(gi_r) = d(gh_r)
//   dz       = g * (h - n) * z * (1 - z)     = d(gi_z) = d(gh_z)
//   dh       = g * z
// The r and z pre-activations are plain sums, so their input-side and
// hidden-side gradients are equal: the backward writes each once.
//
// Outputs are overwritten (never read) and must not overlap any input (the
// CUDA kernels read through __restrict__ pointers). In the forward r, z and n are all
// given or all null (inference: nothing is saved for a backward); in the
// backward any output pointer may be null and is then skipped.
// CPU: kernels/cpu/gru.cpp; CUDA launchers: kernels/cuda/gru_cuda.h.
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void gru_cell_forward_cpu(const T* gi_r,  // [B, H]
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
                          int64_t B, int64_t H);

template <class T>
void gru_cell_backward_cpu(const T* dh_out,  // [B, H] gradient of h'
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
                           int64_t B, int64_t H);

}  // namespace sirs
