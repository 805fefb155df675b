// Matrix products on raw row-major buffers: the contract behind matmul,
// linear and the im2col convolutions.
//
//   C = alpha * op(A) * op(B) + beta * C
//   op(A) is [M, K]: A itself ([M, K], row stride lda) or, with trans_a,
//   the transpose of a stored [K, M] (row stride lda). Same for op(B) [K, N].
//   C is [M, N] with row stride ldc.
//
// beta = 0 overwrites C (its old contents are never read, NaNs included);
// beta = 1 accumulates. K = 0 gives beta * C. The batched form runs the same
// product for every batch entry i with A + a_off[i], B + b_off[i],
// C + c_off[i] (element offsets; broadcast batch dims simply repeat an
// offset). Backed by OpenBLAS cblas_sgemm / cblas_dgemm, which threads
// itself: the default pthreads build (Makefile OPENBLAS_VARIANT) has its own
// threads, so never call these from inside an OpenMP region; the OpenMP build
// runs on the process's libgomp team (single-threaded inside a region).
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha,
              const T* a, int64_t lda,  // [M, K] or, transposed, [K, M]
              const T* b, int64_t ldb,  // [K, N] or, transposed, [N, K]
              T beta, T* c, int64_t ldc);  // [M, N]

template <class T>
void gemm_batched_cpu(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                      T alpha, const T* a, const int64_t* a_off, int64_t lda,  // a_off: [batch]
                      const T* b, const int64_t* b_off, int64_t ldb,           // b_off: [batch]
                      T beta, T* c, const int64_t* c_off, int64_t ldc);        // c_off: [batch]

}  // namespace sirs
