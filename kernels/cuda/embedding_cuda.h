// CUDA launchers for kernels/embedding.h: the row gather and its
// deterministic scatter-add backward (kernels/cuda/embedding.cu).
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

// Versions of the forward (kernels/cuda/embedding.cu says how each works);
// every one stays callable for tests and bench/bench_cuda.cpp, and
// kEmbeddingForwardCudaVersion is the live one (docs/PERF.md has the
// measurements).
constexpr int kEmbeddingForwardCudaVersions = 2;
constexpr int kEmbeddingForwardCudaVersion = 2;

// out[n, :] = weight[idx[n], :], overwritten. The indices are checked on the
// device as the rows are gathered: when some idx[n] lies outside [0, V),
// *flag (a flag of kernels/cuda/deferred_check.h) is set to 1, else left
// untouched; rows with a bad index are zeros. The caller launches this
// through cuda_checked_launch (no sync), which raises the error the CPU
// raises.
template <class T>
void embedding_forward_cuda(const T* weight,     // [V, E]
                            const int64_t* idx,  // [N]
                            int64_t N, int64_t E, int64_t V,
                            T* out,              // [N, E], overwritten
                            int32_t* flag,       // [1], set to 1 on a bad index
                            cudaStream_t stream, int version = kEmbeddingForwardCudaVersion);

// dweight[v, :] = beta * dweight[v, :] + sum_{n : idx[n] == v} dout[n, :] for
// v != padding_idx; the padding row is only scaled by beta (beta = 0
// overwrites without reading dweight). An index outside [0, V) adds
// nothing (the forward's check reports it later; the backward may run
// before that). Deterministic: the (idx[n], n) pairs are radix
// sorted (stable), and each dweight element has one writer that adds its
// rows in increasing n, the CPU's order, so with beta = 0 or 1 the result
// is bit-identical to embedding_backward_cpu. Scratch (4 N + V int64 and
// the sort's temporary storage) comes from the caching allocator of
// `device`, the device that owns `stream`.
template <class T>
void embedding_backward_cuda(const T* dout,       // [N, E]
                             const int64_t* idx,  // [N]
                             int64_t N, int64_t E, int64_t V, int64_t padding_idx,
                             T* dweight,  // [V, E]
                             T beta, int device, cudaStream_t stream);

}  // namespace sirs
