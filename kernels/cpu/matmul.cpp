// Matrix products (contract: kernels/matmul.h). A thin layer over OpenBLAS:
// row-major cblas_?gemm with the transpose flags taken from the views, so a
// transposed operand is never copied. Degenerate sizes (M, N or K = 0) are
// handled here because BLAS implementations disagree on them.
//
// Tested by `make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Linalg*'`,
// benched by `make build/sirs_bench && ./build/sirs_bench --benchmark_filter=sgemm`.
#include "kernels/matmul.h"

#include <cblas.h>

#include <algorithm>

namespace sirs {

namespace {

inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint M, blasint N, blasint K,
                      float alpha, const float* a, blasint lda, const float* b, blasint ldb,
                      float beta, float* c, blasint ldc) {
  cblas_sgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}
inline void blas_gemm(CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, blasint M, blasint N, blasint K,
                      double alpha, const double* a, blasint lda, const double* b, blasint ldb,
                      double beta, double* c, blasint ldc) {
  cblas_dgemm(CblasRowMajor, ta, tb, M, N, K, alpha, a, lda, b, ldb, beta, c, ldc);
}

// C <- beta * C for the K = 0 case (beta = 0 writes zeros without reading).
template <class T>
void scale_c(int64_t M, int64_t N, T beta, T* c, int64_t ldc) {
  for (int64_t i = 0; i < M; ++i)
    for (int64_t j = 0; j < N; ++j) c[i * ldc + j] = beta == T(0) ? T(0) : beta * c[i * ldc + j];
}

}  // namespace

template <class T>
void gemm_cpu(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* a,
              int64_t lda, const T* b, int64_t ldb, T beta, T* c, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) return scale_c(M, N, beta, c, ldc);
  // BLAS insists on ld >= the stored row length even when there is one row.
  lda = std::max<int64_t>(lda, trans_a ? M : K);
  ldb = std::max<int64_t>(ldb, trans_b ? K : N);
  ldc = std::max<int64_t>(ldc, N);
  blas_gemm(trans_a ? CblasTrans : CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans,
            static_cast<blasint>(M), static_cast<blasint>(N), static_cast<blasint>(K), alpha, a,
            static_cast<blasint>(lda), b, static_cast<blasint>(ldb), beta, c,
            static_cast<blasint>(ldc));
}

template <class T>
void gemm_batched_cpu(int64_t batch, bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                      T alpha, const T* a, const int64_t* a_off, int64_t lda, const T* b,
                      const int64_t* b_off, int64_t ldb, T beta, T* c, const int64_t* c_off,
                      int64_t ldc) {
  for (int64_t i = 0; i < batch; ++i)
    gemm_cpu<T>(trans_a, trans_b, M, N, K, alpha, a + a_off[i], lda, b + b_off[i], ldb, beta,
                c + c_off[i], ldc);
}

#define SIRS_INSTANTIATE(T)                                                                   \
  template void gemm_cpu<T>(bool, bool, int64_t, int64_t, int64_t, T, const T*, int64_t,     \
                            const T*, int64_t, T, T*, int64_t);                               \
  template void gemm_batched_cpu<T>(int64_t, bool, bool, int64_t, int64_t, int64_t, T,        \
                                    const T*, const int64_t*, int64_t, const T*,              \
                                    const int64_t*, int64_t, T, T*, const int64_t*, int64_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
