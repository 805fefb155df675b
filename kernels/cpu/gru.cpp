// The fused GRU gates on the CPU (contract and derivation: kernels/gru.h).
//   r = sigmoid(gi_r + gh_r), z = sigmoid(gi_z + gh_z),
//   n = tanh(gi_n + r * gh_n), h' = (1 - z) * n + z * h
// One pass over the B * H elements; each element is independent, so the
// loop is split statically across threads.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='GruCell*:GRU*'
#include "kernels/gru.h"

#include <cmath>

namespace sirs {

namespace {

constexpr int64_t kParallelWork = 32768;  // below this, threads cost more than they save

// The same formula as the sigmoid op (kernels/cpu/elementwise.cpp), so the
// fused step matches the composed one.
template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

}  // namespace

template <class T>
void gru_cell_forward_cpu(const T* gi_r, const T* gi_z, const T* gi_n, const T* gh_r,
                          const T* gh_z, const T* gh_n, const T* h, T* h_out, T* r, T* z, T* n,
                          int64_t B, int64_t H) {
  const int64_t count = B * H;
  const bool save = r != nullptr && z != nullptr && n != nullptr;
#pragma omp parallel for schedule(static) if (count > kParallelWork)
  for (int64_t i = 0; i < count; ++i) {
    T ri = sigmoid(gi_r[i] + gh_r[i]);
    T zi = sigmoid(gi_z[i] + gh_z[i]);
    T ni = std::tanh(gi_n[i] + ri * gh_n[i]);
    h_out[i] = (T(1) - zi) * ni + zi * h[i];
    if (save) {
      r[i] = ri;
      z[i] = zi;
      n[i] = ni;
    }
  }
}

template <class T>
void gru_cell_backward_cpu(const T* dh_out, const T* r, const T* z, const T* n, const T* gh_n,
                           const T* h, T* dgi_r, T* dgi_z, T* dgi_n, T* dgh_n, T* dh, int64_t B,
                           int64_t H) {
  const int64_t count = B * H;
#pragma omp parallel for schedule(static) if (count > kParallelWork)
  for (int64_t i = 0; i < count; ++i) {
    T g = dh_out[i], ri = r[i], zi = z[i], ni = n[i];
    T dn = g * (T(1) - zi) * (T(1) - ni * ni);
    if (dgi_r) dgi_r[i] = dn * gh_n[i] * ri * (T(1) - ri);
    if (dgi_z) dgi_z[i] = g * (h[i] - ni) * zi * (T(1) - zi);
    if (dgi_n) dgi_n[i] = dn;
    if (dgh_n) dgh_n[i] = dn * ri;
    if (dh) dh[i] = g * zi;
  }
}

#define SIRS_INSTANTIATE(T)                                                                      \
  template void gru_cell_forward_cpu<T>(const T*, const T*, const T*, const T*, const T*,        \
                                        const T*, const T*, T*, T*, T*, T*, int64_t, int64_t);   \
  template void gru_cell_backward_cpu<T>(const T*, const T*, const T*, const T*, const T*,       \
                                         const T*, T*, T*, T*, T*, T*, int64_t, int64_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
