// CUDA launchers for kernels/matmul.h: the same row-major contract as
// gemm_cpu / gemm_batched_cpu, run by cuBLAS on the stream the handle is
// bound to (cublas_handle(device) binds it to cuda_stream(device)).
//
//   C = alpha * op(A) * op(B) + beta * C
//
// beta = 0 overwrites C (old contents never read); K = 0 gives beta * C.
// allow_tf32 picks the float32 compute type: CUBLAS_COMPUTE_32F_FAST_TF32
// (tensor cores, 10-bit mantissa inputs) when true, CUBLAS_COMPUTE_32F
// otherwise; it is ignored for double. Callers pass
// math_precision() == MathPrecision::TF32, the setting cublas_handle()
// also puts into the handle's math mode.
#pragma once

#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

template <class T>
void gemm_cuda(cublasHandle_t handle, bool allow_tf32, bool trans_a, bool trans_b, int64_t M,
               int64_t N, int64_t K, T alpha, const T* a,
               int64_t lda,                 // device, [M, K] or, transposed, [K, M]
               const T* b, int64_t ldb,     // device, [K, N] or, transposed, [N, K]
               T beta, T* c, int64_t ldc);  // device, [M, N]

// Batch entry i uses A + a_off[i], B + b_off[i], C + c_off[i]. The offset
// arrays are HOST memory (element offsets, as for gemm_batched_cpu). Runs of
// entries whose three offsets advance by constant steps (broadcast batch
// dims give step 0 on A or B) become one cublas*gemmStridedBatched call;
// entries whose C blocks would overlap within a run are issued one by one
// (in stream order, so accumulating into a repeated C block behaves as on
// the CPU).
template <class T>
void gemm_batched_cuda(cublasHandle_t handle, bool allow_tf32, int64_t batch, bool trans_a,
                       bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* a,
                       const int64_t* a_off, int64_t lda,                 // a_off: host, [batch]
                       const T* b, const int64_t* b_off, int64_t ldb,     // b_off: host, [batch]
                       T beta, T* c, const int64_t* c_off, int64_t ldc);  // c_off: host, [batch]

}  // namespace sirs
