// CUDA launchers for kernels/norm.h: batch norm, group norm, layer norm (as
// group norm), forward and backward. Same math, layouts and overwrite /
// accumulate contract (beta) as the CPU functions there; all pointers on one
// device, contiguous. Launchers that need scratch memory (the split
// reductions) take the device ordinal for the caching allocator and the SM
// count; everything is queued on `stream`, nothing synchronises.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

// mean[c] and biased var[c] over the B * S values of each channel (as
// batch_norm_stats_cpu; single read, shifted sums in double).
template <class T>
void batch_norm_stats_cuda(const T* x,  // [B, C, S]
                           T* mean,     // [C], overwritten
                           T* var,      // [C], overwritten
                           int64_t B, int64_t C, int64_t S, int device, cudaStream_t stream);

// Training epilogue of the statistics, all on the device:
//   invstd[c] = 1 / sqrt(var[c] + eps)
//   running_mean[c] = (1 - momentum) * running_mean[c] + momentum * mean[c]
//   running_var[c]  = (1 - momentum) * running_var[c]  + momentum * var[c] * n / (n - 1)
// running_mean / running_var may be null (not updated); element c of each
// sits at c * its stride (a strided [C] view is updated in place). n > 1.
template <class T>
void batch_norm_update_cuda(const T* mean,    // [C]
                            const T* var,     // [C], biased
                            T* invstd,        // [C], overwritten
                            T* running_mean,  // [C] strided, or null
                            int64_t running_mean_stride,
                            T* running_var,  // [C] strided, or null
                            int64_t running_var_stride, int64_t C, int64_t n, double momentum,
                            double eps, cudaStream_t stream);

// Eval statistics: mean[c] = running_mean[c], invstd[c] = 1 / sqrt(running_var[c] + eps).
template <class T>
void batch_norm_eval_stats_cuda(const T* running_mean,  // [C] strided
                                int64_t running_mean_stride,
                                const T* running_var,  // [C] strided
                                int64_t running_var_stride,
                                T* mean,    // [C], overwritten
                                T* invstd,  // [C], overwritten
                                int64_t C, double eps, cudaStream_t stream);

template <class T>
void batch_norm_forward_cuda(const T* x,       // [B, C, S]
                             const T* mean,    // [C]
                             const T* invstd,  // [C]
                             const T* weight,  // [C] or null
                             const T* bias,    // [C] or null
                             T* out,           // [B, C, S], overwritten
                             int64_t B, int64_t C, int64_t S, cudaStream_t stream);

template <class T>
void batch_norm_backward_cuda(const T* dout,    // [B, C, S]
                              const T* x,       // [B, C, S]
                              const T* mean,    // [C] as used in the forward
                              const T* invstd,  // [C] as used in the forward
                              const T* weight,  // [C] or null
                              T* dx,            // [B, C, S] or null
                              T* dweight,       // [C] or null
                              T* dbias,         // [C] or null
                              int64_t B, int64_t C, int64_t S, bool training, double beta,
                              int device, cudaStream_t stream);

// Versions of the group norm forward (kernels/cuda/norm.cu); every one
// falls back to 1 where its condition fails (5 tries 2 first):
//   1  split statistics (several blocks per segment) + an elementwise pass:
//      any size, reads x twice from memory.
//   2  segment held in the registers of one block (segments up to 8192
//      floats): one read.
//   3  one block per segment reads it twice, the second time from L2
//      (segments up to 16384 values, at least one segment per SM).
//   4  as 2, with a grid of resident blocks that each load their next
//      segment while normalising the current one.
//   5  a grid of resident blocks streaming segments (256 to 4096 16-byte
//      vectors, 4 to 64 KB) through a 3-stage ring in shared memory filled
//      by cp.async: the next two segments' reads overlap the current one's
//      writes. Falls back to 2 (then 1) for other sizes.
//   6  a segment (512 to 8192 16-byte vectors) split over a thread-block
//      cluster of 2-8 blocks (sm_90 and later), each holding its part in
//      registers; the partial sums meet in distributed shared memory.
//      Falls back to 2 (then 1).
//   7  as 5 with 2 stages and up to 256 threads per block.
//   8  as 5, one block per SM with a ring of up to 5 segments, loaded and
//      stored by bulk copies of the tensor memory accelerator (sm_90 and
//      later). Falls back to 2 (then 1).
//   9  two passes over parts of 512 vectors: partial sums, then the
//      output from the part re-read (from L2 when x fits there). Segments
//      of 512 to 16384 vectors; falls back to 2 (then 1).
//  10  as 7, the block's two sums added with one barrier instead of four.
//  11  as 10, each vector's values shifted and added in T before the
//      double sums (float rounding in 4-value sums, ~1e-7 relative).
//  12  as 6, parts of up to 512 vectors in blocks of up to 8 loads a
//      thread, one cluster rendezvous (each block pushes its sums into
//      every block's shared memory). Falls back to 2 (then 1).
//  13  12's kernel with parts of up to 2048 vectors: one block of 256
//      threads per segment of up to 32 KB of float (as 2, at 64 registers
//      a thread instead of 111: four blocks per SM instead of two).
// kGroupNormForwardCudaVersion is the live one (docs/PERF.md has the
// measurements).
constexpr int kGroupNormForwardCudaVersions = 13;
constexpr int kGroupNormForwardCudaVersion = 7;

template <class T>
void group_norm_forward_cuda(const T* x,       // [B, C, S]
                             const T* weight,  // [C] or null
                             const T* bias,    // [C] or null
                             T* out,           // [B, C, S], overwritten
                             T* mean,          // [B, G], overwritten
                             T* invstd,        // [B, G], overwritten
                             int64_t B, int64_t C, int64_t S, int64_t G, double eps, int device,
                             cudaStream_t stream, int version = kGroupNormForwardCudaVersion);

template <class T>
void group_norm_backward_cuda(const T* dout,    // [B, C, S]
                              const T* x,       // [B, C, S]
                              const T* mean,    // [B, G]
                              const T* invstd,  // [B, G]
                              const T* weight,  // [C] or null
                              T* dx,            // [B, C, S] or null
                              T* dweight,       // [C] or null
                              T* dbias,         // [C] or null
                              int64_t B, int64_t C, int64_t S, int64_t G, double beta, int device,
                              cudaStream_t stream);

}  // namespace sirs
