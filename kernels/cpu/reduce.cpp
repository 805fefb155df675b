// Reductions on the CPU (contract: kernels/reduce.h).
//
//   sum:  out[o, j] = sum_r in[o, r, j]   (mean scales by 1/reduce, norm
//         sums squares then takes sqrt), accumulated in double
//   max:  out[o, j] = max_r in[o, r, j], index of the first maximum
//
// Layout: input [outer, reduce, inner] contiguous, output [outer, inner].
// Two loop shapes, one live version each:
//   - inner == 1 (reducing the last dims): each output is a dot-like sweep
//     over one contiguous row into sixteen double partial sums (vector
//     lanes), added up at the end.
//   - inner > 1 (reducing leading or middle dims): a block of up to kJChunk
//     outputs keeps double accumulators on the stack and adds one input row
//     at a time, so reads are contiguous and the inner loop vectorises.
// When outer * (inner chunks) gives too few tasks for the threads (a full
// reduction, or a sum over the first dim of a narrow matrix), the reduced
// dim is also split and the double partials are combined at the end.
//
// Tests: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Reduce*'
// Bench: make -j2 build/sirs_bench && ./build/sirs_bench --benchmark_filter='sum'
#include "kernels/reduce.h"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <vector>

namespace sirs {

namespace {

constexpr int64_t kParallelWork = 32768;  // elements below which one thread does it all
constexpr int64_t kJChunk = 1024;         // outputs per column-reduction task (8 KiB of accumulators)
constexpr int64_t kMinSplit = 16384;      // smallest piece of a split reduced dim

// sum of p[0..n) (of squares when sq), in double. Sixteen independent
// partial sums hide the latency of the vector adds (one running sum would
// wait on the previous add every step); the compiler maps them onto a few
// vector registers.
template <class T>
double row_sum(const T* p, int64_t n, bool sq) {
  constexpr int64_t kLanes = 16;
  double part[kLanes] = {};
  int64_t body = n - n % kLanes;
  if (sq) {
    for (int64_t i = 0; i < body; i += kLanes)
      for (int64_t k = 0; k < kLanes; ++k)
        part[k] += static_cast<double>(p[i + k]) * static_cast<double>(p[i + k]);
  } else {
    for (int64_t i = 0; i < body; i += kLanes)
      for (int64_t k = 0; k < kLanes; ++k) part[k] += static_cast<double>(p[i + k]);
  }
  double s = 0;
  for (int64_t i = body; i < n; ++i)
    s += sq ? static_cast<double>(p[i]) * static_cast<double>(p[i]) : static_cast<double>(p[i]);
  for (int64_t k = 0; k < kLanes; ++k) s += part[k];
  return s;
}

// acc[j] = sum_r p[r * ld + j] (of squares when sq) for j < m, r < n.
template <class T>
void col_sum(double* acc, const T* p, int64_t n, int64_t ld, int64_t m, bool sq) {
  for (int64_t j = 0; j < m; ++j) acc[j] = 0;
  for (int64_t r = 0; r < n; ++r) {
    const T* row = p + r * ld;
    if (sq) {
      for (int64_t j = 0; j < m; ++j) acc[j] += static_cast<double>(row[j]) * row[j];
    } else {
      for (int64_t j = 0; j < m; ++j) acc[j] += static_cast<double>(row[j]);
    }
  }
}

template <class T>
T finish(SumKind kind, double acc, int64_t reduce) {
  switch (kind) {
    case SumKind::Sum: return static_cast<T>(acc);
    case SumKind::Mean: return static_cast<T>(acc / static_cast<double>(reduce));
    case SumKind::Norm: return static_cast<T>(std::sqrt(acc));
  }
  return T(0);
}

// v beats best: larger (smaller for min), or the first NaN.
template <class T>
inline bool beats(bool is_min, T v, T best) {
  if (std::isnan(best)) return false;
  if (std::isnan(v)) return true;
  return is_min ? v < best : v > best;
}

}  // namespace

template <class T>
void sum_forward_cpu(SumKind kind, T* out, const T* in, int64_t outer, int64_t reduce,
                     int64_t inner) {
  bool sq = kind == SumKind::Norm;
  int64_t jchunk = std::min(inner, kJChunk);
  int64_t jblocks = inner == 0 ? 0 : (inner + jchunk - 1) / jchunk;
  int64_t tasks = outer * jblocks;
  if (tasks == 0) return;
  bool parallel = outer * reduce * inner > kParallelWork;
  int threads = parallel ? omp_get_max_threads() : 1;
  int64_t nsplit = 1;
  if (tasks < threads) nsplit = std::max<int64_t>(1, std::min<int64_t>(threads, reduce / kMinSplit));
  int64_t piece = nsplit > 1 ? (reduce + nsplit - 1) / nsplit : reduce;
  // Partial sums [nsplit, outer, inner] in double when the reduced dim is split.
  std::vector<double> partial(nsplit > 1 ? static_cast<size_t>(nsplit * outer * inner) : 0);

#pragma omp parallel for schedule(static) if (parallel)
  for (int64_t t = 0; t < tasks * nsplit; ++t) {
    int64_t s = t / tasks, o = (t % tasks) / jblocks, j0 = (t % jblocks) * jchunk;
    int64_t m = std::min(jchunk, inner - j0);
    int64_t r0 = std::min(reduce, s * piece), r1 = std::min(reduce, r0 + piece);
    const T* p = in + (o * reduce + r0) * inner + j0;
    double acc[kJChunk];
    if (inner == 1) {
      acc[0] = row_sum(p, r1 - r0, sq);
    } else {
      col_sum(acc, p, r1 - r0, inner, m, sq);
    }
    for (int64_t j = 0; j < m; ++j) {
      if (nsplit > 1) {
        partial[(s * outer + o) * inner + j0 + j] = acc[j];
      } else {
        out[o * inner + j0 + j] = finish<T>(kind, acc[j], reduce);
      }
    }
  }
  if (nsplit > 1) {
    for (int64_t k = 0; k < outer * inner; ++k) {
      double acc = 0;
      for (int64_t s = 0; s < nsplit; ++s) acc += partial[s * outer * inner + k];
      out[k] = finish<T>(kind, acc, reduce);
    }
  }
}

template <class T>
void max_forward_cpu(bool is_min, T* values, int64_t* indices, const T* in, int64_t outer,
                     int64_t reduce, int64_t inner) {
  int64_t jchunk = std::max<int64_t>(1, std::min(inner, kJChunk));
  int64_t jblocks = (inner + jchunk - 1) / jchunk;
#pragma omp parallel for schedule(static) if (outer * reduce * inner > kParallelWork)
  for (int64_t t = 0; t < outer * jblocks; ++t) {
    int64_t o = t / jblocks, j0 = (t % jblocks) * jchunk;
    int64_t m = std::min(jchunk, inner - j0);
    const T* p = in + o * reduce * inner + j0;
    T best[kJChunk];
    int64_t arg[kJChunk];
    for (int64_t j = 0; j < m; ++j) {
      best[j] = p[j];
      arg[j] = 0;
    }
    for (int64_t r = 1; r < reduce; ++r) {
      const T* row = p + r * inner;
      for (int64_t j = 0; j < m; ++j) {
        if (beats(is_min, row[j], best[j])) {
          best[j] = row[j];
          arg[j] = r;
        }
      }
    }
    for (int64_t j = 0; j < m; ++j) {
      if (values) values[o * inner + j0 + j] = best[j];
      indices[o * inner + j0 + j] = arg[j];
    }
  }
}

template <class T>
void max_backward_cpu(T* dinp, const T* dout, const int64_t* indices, int64_t outer,
                      int64_t reduce, int64_t inner) {
#pragma omp parallel for schedule(static) if (outer * reduce * inner > kParallelWork)
  for (int64_t o = 0; o < outer; ++o) {
    T* d = dinp + o * reduce * inner;
    std::fill(d, d + reduce * inner, T(0));
    for (int64_t j = 0; j < inner; ++j) d[indices[o * inner + j] * inner + j] = dout[o * inner + j];
  }
}

template <class T>
T max_all_cpu(bool is_min, const T* in, int64_t n) {
  int64_t pieces = n > kParallelWork ? std::min<int64_t>(omp_get_max_threads(), n / kMinSplit + 1) : 1;
  int64_t len = (n + pieces - 1) / pieces;
  std::vector<T> best(static_cast<size_t>(pieces), in[0]);
#pragma omp parallel for schedule(static) if (pieces > 1)
  for (int64_t k = 0; k < pieces; ++k) {
    T b = in[std::min(n - 1, k * len)];
    for (int64_t i = k * len; i < std::min(n, (k + 1) * len); ++i)
      if (beats(is_min, in[i], b)) b = in[i];
    best[k] = b;
  }
  T b = best[0];
  for (int64_t k = 1; k < pieces; ++k)
    if (beats(is_min, best[k], b)) b = best[k];
  return b;
}

#define SIRS_REDUCE(T)                                                                         \
  template void sum_forward_cpu<T>(SumKind, T*, const T*, int64_t, int64_t, int64_t);          \
  template void max_forward_cpu<T>(bool, T*, int64_t*, const T*, int64_t, int64_t, int64_t);   \
  template void max_backward_cpu<T>(T*, const T*, const int64_t*, int64_t, int64_t, int64_t);  \
  template T max_all_cpu<T>(bool, const T*, int64_t);
SIRS_REDUCE(float)
SIRS_REDUCE(double)
#undef SIRS_REDUCE

}  // namespace sirs
