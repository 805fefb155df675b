// Matrix products on CUDA (contract: kernels/matmul.h; launchers:
// kernels/cuda/matmul_cuda.h), through cuBLAS.
//
//   C [M, N] = alpha * op(A) [M, K] * op(B) [K, N] + beta * C    (row-major)
//
// Layout: cuBLAS is column-major. A row-major [R, C] buffer with row stride
// ld is, read column-major, the [C, R] transpose with leading dimension ld.
// So the row-major product C = op(A) op(B) is computed as the column-major
// C^T = op(B)^T op(A)^T: cuBLAS gets (B, A) swapped, m = N, n = M, and each
// operand keeps its own transpose flag. No operand is ever copied here; a
// transposed view reaches this file as trans_* plus its row stride.
//
// Precision: float goes through cublasGemmEx / cublasGemmStridedBatchedEx
// with CUBLAS_COMPUTE_32F, or CUBLAS_COMPUTE_32F_FAST_TF32 when the caller
// allows TF32; double through cublasDgemm / cublasDgemmStridedBatched.
//
// Batches: consecutive entries whose A, B and C offsets each advance by one
// constant step form a run served by one strided-batched call (broadcast batch
// dims are steps of 0 on A or B). A run never has C blocks that overlap or
// a negative step, and holds at most kMaxRun entries.
//
// Versions: v1 (live) is the only kernel, gemm_scale_kernel_v1: C = beta * C
// for K = 0, where the product is empty (handled here, not by cuBLAS, so beta
// = 0 writes zeros without ever reading C, NaNs included, as on the CPU).
//
// Tests: make test GTEST_FILTER='CudaMatmul*'
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <climits>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/matmul_cuda.h"

namespace sirs {

namespace {

// Largest number of entries in one strided-batched call. cuBLAS takes an int
// batch count; staying within gridDim.y/z limits keeps clear of any kernel
// that maps the batch onto them.
constexpr int64_t kMaxRun = 65535;

// c[i * ldc + j] = beta * c[i * ldc + j] over i < M, j < N; beta = 0 writes 0
// without reading.
template <class T>
static __global__ void gemm_scale_kernel_v1(T* c, int64_t M, int64_t N, int64_t ldc, T beta) {
  const int64_t n = M * N;
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    T* p = c + (i / N) * ldc + i % N;
    *p = beta == T(0) ? T(0) : beta * *p;
  }
}

template <class T>
void scale_c(cublasHandle_t handle, int64_t M, int64_t N, T beta, T* c, int64_t ldc) {
  if (beta == T(1)) return;
  cudaStream_t stream = nullptr;
  SIRS_CUDA_CHECK(cublasGetStream(handle, &stream));
  constexpr int kThreads = 256;
  gemm_scale_kernel_v1<T>
      <<<cuda_blocks(M * N, kThreads), kThreads, 0, stream>>>(c, M, N, ldc, beta);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

int to_int(int64_t v, const char* what) {
  SIRS_CHECK(v >= 0 && v <= INT_MAX, ShapeError, "gemm_cuda: ", what, " = ", v,
             " does not fit cuBLAS's 32-bit int");
  return static_cast<int>(v);
}

inline cublasOperation_t op(bool trans) { return trans ? CUBLAS_OP_T : CUBLAS_OP_N; }

// One column-major cuBLAS call, `count` products (1: plain GEMM). Operand 1
// is our B, operand 2 our A (see the file comment); s1, s2, sc are the
// element steps between batch entries.
struct ColMajor {
  cublasOperation_t op1, op2;
  int m, n, k, ld1, ld2, ldc;
};

void cublas_gemm(cublasHandle_t h, bool tf32, const ColMajor& g, const float* alpha,
                 const float* p1, long long s1, const float* p2, long long s2, const float* beta,
                 float* c, long long sc, int count) {
  const cublasComputeType_t ct = tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F;
  if (count == 1) {
    SIRS_CUDA_CHECK(cublasGemmEx(h, g.op1, g.op2, g.m, g.n, g.k, alpha, p1, CUDA_R_32F, g.ld1, p2,
                                 CUDA_R_32F, g.ld2, beta, c, CUDA_R_32F, g.ldc, ct,
                                 CUBLAS_GEMM_DEFAULT));
  } else {
    SIRS_CUDA_CHECK(cublasGemmStridedBatchedEx(
        h, g.op1, g.op2, g.m, g.n, g.k, alpha, p1, CUDA_R_32F, g.ld1, s1, p2, CUDA_R_32F, g.ld2, s2,
        beta, c, CUDA_R_32F, g.ldc, sc, count, ct, CUBLAS_GEMM_DEFAULT));
  }
}

void cublas_gemm(cublasHandle_t h, bool /*tf32: no such mode for double*/, const ColMajor& g,
                 const double* alpha, const double* p1, long long s1, const double* p2,
                 long long s2, const double* beta, double* c, long long sc, int count) {
  if (count == 1) {
    SIRS_CUDA_CHECK(
        cublasDgemm(h, g.op1, g.op2, g.m, g.n, g.k, alpha, p1, g.ld1, p2, g.ld2, beta, c, g.ldc));
  } else {
    SIRS_CUDA_CHECK(cublasDgemmStridedBatched(h, g.op1, g.op2, g.m, g.n, g.k, alpha, p1, g.ld1, s1,
                                              p2, g.ld2, s2, beta, c, g.ldc, sc, count));
  }
}

// The column-major description of the row-major product, with the leading
// dimensions raised to what cuBLAS insists on (only possible to change when
// the matrix has a single row or column, where the stride is never used).
ColMajor col_major(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t lda,
                   int64_t ldb, int64_t ldc) {
  lda = std::max<int64_t>({lda, trans_a ? M : K, 1});
  ldb = std::max<int64_t>({ldb, trans_b ? K : N, 1});
  ldc = std::max<int64_t>({ldc, N, 1});
  ColMajor g;
  g.op1 = op(trans_b);
  g.op2 = op(trans_a);
  g.m = to_int(N, "N");
  g.n = to_int(M, "M");
  g.k = to_int(K, "K");
  g.ld1 = to_int(ldb, "ldb");
  g.ld2 = to_int(lda, "lda");
  g.ldc = to_int(ldc, "ldc");
  return g;
}

}  // namespace

template <class T>
void gemm_cuda(cublasHandle_t handle, bool allow_tf32, bool trans_a, bool trans_b, int64_t M,
               int64_t N, int64_t K, T alpha, const T* a, int64_t lda, const T* b, int64_t ldb,
               T beta, T* c, int64_t ldc) {
  if (M == 0 || N == 0) return;
  if (K == 0) return scale_c(handle, M, N, beta, c, std::max<int64_t>(ldc, N));
  const ColMajor g = col_major(trans_a, trans_b, M, N, K, lda, ldb, ldc);
  cublas_gemm(handle, allow_tf32, g, &alpha, b, 0, a, 0, &beta, c, 0, 1);
}

template <class T>
void gemm_batched_cuda(cublasHandle_t handle, bool allow_tf32, int64_t batch, bool trans_a,
                       bool trans_b, int64_t M, int64_t N, int64_t K, T alpha, const T* a,
                       const int64_t* a_off, int64_t lda, const T* b, const int64_t* b_off,
                       int64_t ldb, T beta, T* c, const int64_t* c_off, int64_t ldc) {
  if (batch <= 0 || M == 0 || N == 0) return;
  if (K == 0) {
    for (int64_t i = 0; i < batch; ++i)
      scale_c(handle, M, N, beta, c + c_off[i], std::max<int64_t>(ldc, N));
    return;
  }
  const ColMajor g = col_major(trans_a, trans_b, M, N, K, lda, ldb, ldc);
  // Elements from C's first to just past its last: the next entry of a run
  // must start at least this far on, or the batched kernel would race on C.
  const int64_t c_extent = (M - 1) * static_cast<int64_t>(g.ldc) + N;
  for (int64_t i = 0; i < batch;) {
    int64_t n = 1;
    int64_t sa = 0, sb = 0, sc = 0;
    if (i + 1 < batch) {
      sa = a_off[i + 1] - a_off[i];
      sb = b_off[i + 1] - b_off[i];
      sc = c_off[i + 1] - c_off[i];
      if (sa >= 0 && sb >= 0 && sc >= c_extent) {
        n = 2;
        while (i + n < batch && n < kMaxRun && a_off[i + n] - a_off[i + n - 1] == sa &&
               b_off[i + n] - b_off[i + n - 1] == sb && c_off[i + n] - c_off[i + n - 1] == sc)
          ++n;
      }
    }
    cublas_gemm(handle, allow_tf32, g, &alpha, b + b_off[i], sb, a + a_off[i], sa, &beta,
                c + c_off[i], sc, static_cast<int>(n));
    i += n;
  }
}

#define SIRS_INSTANTIATE(T)                                                                       \
  template void gemm_cuda<T>(cublasHandle_t, bool, bool, bool, int64_t, int64_t, int64_t, T,      \
                             const T*, int64_t, const T*, int64_t, T, T*, int64_t);               \
  template void gemm_batched_cuda<T>(cublasHandle_t, bool, int64_t, bool, bool, int64_t, int64_t, \
                                     int64_t, T, const T*, const int64_t*, int64_t, const T*,     \
                                     const int64_t*, int64_t, T, T*, const int64_t*, int64_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
