// Embedding forward (row gather) and backward (row scatter-add) on the CPU
// (contract: kernels/embedding.h).
//   out[n, :] = weight[idx[n], :]
//   dweight[v, :] = beta * dweight[v, :] + sum_{idx[n] == v} dout[n, :]   (v != padding_idx)
// The backward buckets n by idx[n] with a counting sort (stable, so each
// bucket lists n in increasing order), then parallelises over rows v: every
// dweight row has exactly one writer and a fixed summation order.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='NN*Embedding*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=embedding
#include "kernels/embedding.h"

#include <cstring>
#include <vector>

namespace sirs {

template <class T>
void embedding_forward_cpu(const T* weight, const int64_t* idx, int64_t N, int64_t E, T* out) {
#pragma omp parallel for schedule(static) if (N * E > 32768)
  for (int64_t n = 0; n < N; ++n)
    std::memcpy(out + n * E, weight + idx[n] * E, static_cast<size_t>(E) * sizeof(T));
}

template <class T>
void embedding_backward_cpu(const T* dout, const int64_t* idx, int64_t N, int64_t E, int64_t V,
                            int64_t padding_idx, T* dweight, T beta) {
  // start[v] .. start[v + 1] delimit the rows n with idx[n] == v in `order`.
  std::vector<int64_t> start(static_cast<size_t>(V) + 1, 0);
  for (int64_t n = 0; n < N; ++n) start[idx[n] + 1]++;
  for (int64_t v = 0; v < V; ++v) start[v + 1] += start[v];
  std::vector<int64_t> order(static_cast<size_t>(N)), fill(start.begin(), start.end() - 1);
  for (int64_t n = 0; n < N; ++n) order[fill[idx[n]]++] = n;

#pragma omp parallel for schedule(dynamic, 16) if (V * E > 32768)
  for (int64_t v = 0; v < V; ++v) {
    T* row = dweight + v * E;
    if (beta == T(0)) {
      for (int64_t e = 0; e < E; ++e) row[e] = 0;
    } else if (beta != T(1)) {
      for (int64_t e = 0; e < E; ++e) row[e] *= beta;
    }
    if (v == padding_idx) continue;
    for (int64_t j = start[v]; j < start[v + 1]; ++j) {
      const T* g = dout + order[j] * E;
      for (int64_t e = 0; e < E; ++e) row[e] += g[e];
    }
  }
}

template void embedding_forward_cpu<float>(const float*, const int64_t*, int64_t, int64_t, float*);
template void embedding_forward_cpu<double>(const double*, const int64_t*, int64_t, int64_t,
                                            double*);
template void embedding_backward_cpu<float>(const float*, const int64_t*, int64_t, int64_t,
                                            int64_t, int64_t, float*, float);
template void embedding_backward_cpu<double>(const double*, const int64_t*, int64_t, int64_t,
                                             int64_t, int64_t, double*, double);

}  // namespace sirs
