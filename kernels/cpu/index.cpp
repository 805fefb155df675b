// index_select / gather forward and backward on the CPU (contract:
// kernels/index.h).
//   index_select: out[o, l, i] = x[o, idx[l], i];      dx[o, idx[l], i] += dout[o, l, i]
//   gather:       out[o, l, i] = x[o, idx[o,l,i], i];  dx[o, idx[o,l,i], i] += dout[o, l, i]
// Layouts [outer, N or L, inner], contiguous. The backwards split the work
// into (o, tile of kTile columns i) jobs: one writer per dx element, rows l
// added in increasing order, so duplicates accumulate deterministically.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='IndexOps*'
#include "kernels/index.h"

#include <algorithm>
#include <cstring>

namespace sirs {

namespace {
constexpr int64_t kTile = 256;

template <class T>
void scale_rows(T* dx, int64_t n, T beta) {
  if (beta == T(0)) {
    for (int64_t j = 0; j < n; ++j) dx[j] = 0;
  } else if (beta != T(1)) {
    for (int64_t j = 0; j < n; ++j) dx[j] *= beta;
  }
}
}  // namespace

template <class T>
void index_select_forward_cpu(const T* x, const int64_t* idx, int64_t outer, int64_t N,
                              int64_t inner, int64_t L, T* out) {
#pragma omp parallel for schedule(static) if (outer * L * inner > 32768)
  for (int64_t r = 0; r < outer * L; ++r) {
    int64_t o = r / L, l = r % L;
    std::memcpy(out + r * inner, x + (o * N + idx[l]) * inner, static_cast<size_t>(inner) * sizeof(T));
  }
}

template <class T>
void index_select_backward_cpu(const T* dout, const int64_t* idx, int64_t outer, int64_t N,
                               int64_t inner, int64_t L, T* dx, T beta) {
  int64_t tiles = (inner + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (outer * (N + L) * inner > 32768)
  for (int64_t job = 0; job < outer * tiles; ++job) {
    int64_t o = job / tiles;
    int64_t i0 = (job % tiles) * kTile, w = std::min(inner, i0 + kTile) - i0;
    for (int64_t n = 0; n < N; ++n) scale_rows(dx + (o * N + n) * inner + i0, w, beta);
    for (int64_t l = 0; l < L; ++l) {
      const T* g = dout + (o * L + l) * inner + i0;
      T* d = dx + (o * N + idx[l]) * inner + i0;
      for (int64_t i = 0; i < w; ++i) d[i] += g[i];
    }
  }
}

template <class T>
void gather_forward_cpu(const T* x, const int64_t* idx, int64_t outer, int64_t N, int64_t inner,
                        int64_t L, T* out) {
#pragma omp parallel for schedule(static) if (outer * L * inner > 32768)
  for (int64_t r = 0; r < outer * L; ++r) {
    int64_t o = r / L;
    const int64_t* ip = idx + r * inner;
    const T* xp = x + o * N * inner;
    T* op = out + r * inner;
    for (int64_t i = 0; i < inner; ++i) op[i] = xp[ip[i] * inner + i];
  }
}

template <class T>
void gather_backward_cpu(const T* dout, const int64_t* idx, int64_t outer, int64_t N,
                         int64_t inner, int64_t L, T* dx, T beta) {
  int64_t tiles = (inner + kTile - 1) / kTile;
#pragma omp parallel for schedule(static) if (outer * (N + L) * inner > 32768)
  for (int64_t job = 0; job < outer * tiles; ++job) {
    int64_t o = job / tiles;
    int64_t i0 = (job % tiles) * kTile, w = std::min(inner, i0 + kTile) - i0;
    T* d = dx + o * N * inner + i0;
    for (int64_t n = 0; n < N; ++n) scale_rows(d + n * inner, w, beta);
    for (int64_t l = 0; l < L; ++l) {
      const T* g = dout + (o * L + l) * inner + i0;
      const int64_t* ip = idx + (o * L + l) * inner + i0;
      for (int64_t i = 0; i < w; ++i) d[ip[i] * inner + i] += g[i];
    }
  }
}

#define SIRS_INSTANTIATE_FWD(T)                                                                 \
  template void index_select_forward_cpu<T>(const T*, const int64_t*, int64_t, int64_t,         \
                                            int64_t, int64_t, T*);                              \
  template void gather_forward_cpu<T>(const T*, const int64_t*, int64_t, int64_t, int64_t,      \
                                      int64_t, T*);
#define SIRS_INSTANTIATE_BWD(T)                                                                 \
  template void index_select_backward_cpu<T>(const T*, const int64_t*, int64_t, int64_t,        \
                                             int64_t, int64_t, T*, T);                          \
  template void gather_backward_cpu<T>(const T*, const int64_t*, int64_t, int64_t, int64_t,     \
                                       int64_t, T*, T);
SIRS_INSTANTIATE_FWD(float)
SIRS_INSTANTIATE_FWD(double)
SIRS_INSTANTIATE_FWD(int64_t)
SIRS_INSTANTIATE_BWD(float)
SIRS_INSTANTIATE_BWD(double)
#undef SIRS_INSTANTIATE_FWD
#undef SIRS_INSTANTIATE_BWD

}  // namespace sirs
