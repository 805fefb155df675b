// conv2d on the CPU (contract and formula: kernels/conv2d.h).
//
// Layouts: NCHW input/output, KCRS filters. The fast versions lower the
// convolution to matrix products (Caffe's im2col):
//   col [C*R*S, nb*P]  (P = Ho*Wo; column bi*P + oh*Wo + ow, row (c*R + r)*S + s)
//   forward        Y   [K, nb*P]   = W [K, CRS] . col
//   backward data  dcol [CRS, nb*P] = W^T . dY, then col2im adds dcol into dx
//   backward filter dW [K, CRS]   = dY [K, nb*P] . col^T  (+)= over chunks
// Version 1 runs im2col and the GEMM image by image; dY and Y are then the
// NCHW planes themselves. Version 2 lowers a chunk of nb images at once and
// gathers/scatters Y and dY into [K, nb*P] for one GEMM per chunk: an extra
// copy, cheap next to the GEMM, that buys much better GEMM shapes when P is
// small (8x8 images: 64 columns per image, 512 per chunk of 8). Version 3
// keeps version 2's one im2col/col2im per chunk but, when P is large, runs
// one GEMM per image straight on the NCHW planes (col columns bi*P.. are a
// strided sub-matrix), so there is no gather/scatter and one switch between
// our threads and OpenBLAS's per call. Version 4 is version 3 with
// backward data for stride 1 computed as a forward convolution of dy (see
// backward_data_flipped); it was live before version 9, which still runs it
// for backward filter and for what it does not take. Version 5 is version 4
// with equal chunks capped at 16 MiB of col so im2col's output is still in
// L3 when the GEMM reads it. Version 6 is version 4 with the data movement in
// OpenMP regions.
// Version 7 replaces im2col by shifted views of a padded copy of the input
// for stride 1 (see "version 7" below). Version 8 is Winograd F(2x2, 3x3) on
// sgemm. Version 9 is a direct convolution with an AVX2/FMA
// micro-kernel on channel-blocked layouts, no BLAS (see "version 9" below).
// Version 10 is version 9 with a backward filter of the same kind (its own
// micro-kernel, the pixel reduction innermost; see "version 10" below); it
// is live.
//
// Threads: versions 1-5 run their data movement on short-lived std::threads
// (parallel_for below), tuned for the pthreads build of OpenBLAS the Makefile
// links by default. Versions 6 and 7 use OpenMP loops, for the OpenMP build
// (make OPENBLAS_VARIANT=openmp: GEMMs on the same libgomp team). Versions 9
// and 10 run their own work on std::threads too (parallel_phases), no OpenMP
// region, so they leave no spinning libgomp workers behind for the OpenBLAS
// GEMMs that follow (version 9's backward filter, strided convolutions).
// Version 0 is serial on purpose: it only checks the others (tests, bench).
// Workspaces (col, gathered Y/dY) are thread-local and only grow, so steady
// state training does not allocate. Chunks are capped at kMaxColElems.
//
// Version 0 is the direct loop nest, kept as the reference the tests and the
// bench check the others against. Live: kConv2dKernelVersion (conv2d.h),
// promoted by changing that one constant.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Conv*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=conv2d
#include <omp.h>

#if defined(__AVX2__) && defined(__FMA__)
#include <immintrin.h>
// Version 9 (the AVX2/FMA direct kernel) is compiled only where the target has both.
#define SIRS_CONV_V9 1
#endif

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <cstring>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "kernels/conv2d.h"
#include "kernels/matmul.h"

namespace sirs {

namespace {

constexpr int64_t kOmpMinWork = 1 << 14;
// Largest col buffer (elements) one chunk may use: 2^25 floats = 128 MiB.
constexpr int64_t kMaxColElems = int64_t(1) << 25;
// Version 5's chunk cap: 2^22 floats = 16 MiB, so the col buffer im2col
// writes is still in the 32 MiB L3 when the GEMM reads it.
constexpr int64_t kCacheColElems = int64_t(1) << 22;

// Floor and ceil division for a possibly negative numerator, d > 0.
inline int64_t floor_div(int64_t n, int64_t d) { return n >= 0 ? n / d : -((-n + d - 1) / d); }
inline int64_t ceil_div(int64_t n, int64_t d) { return -floor_div(-n, d); }

// Output columns ow whose input column iw = ow*stride + off lies in [0, W):
// [lo, hi), possibly empty.
inline void valid_range(int64_t off, int64_t stride, int64_t in, int64_t out, int64_t* lo,
                        int64_t* hi) {
  *lo = std::max<int64_t>(0, ceil_div(-off, stride));
  *hi = std::min<int64_t>(out, floor_div(in - 1 - off, stride) + 1);
  if (*hi < *lo) *hi = *lo;
}

// Thread-local scratch that only grows. slot 0: col/dcol (version 8: V),
// slot 1: Y/dY gather (version 8: M), slot 2: the flipped filter of version
// 4's backward data (version 8: U), slot 3: version 8's flipped filter.
template <class T>
T* workspace(int slot, int64_t n) {
  thread_local std::vector<T> buf[4];
  if (static_cast<int64_t>(buf[slot].size()) < n) {
    buf[slot].clear();
    buf[slot].shrink_to_fit();
    buf[slot].resize(n);
  }
  return buf[slot].data();
}

// body(i) for i in [0, n), in contiguous blocks over up to
// omp_get_max_threads() threads when work (elements touched) is large.
//
// Versions 6 and up (omp = true) use a plain OpenMP loop: with the OpenMP
// build of OpenBLAS (make OPENBLAS_VARIANT=openmp) its GEMMs run on the same
// libgomp thread team as these loops and nothing spins against anything.
//
// Versions 1-5 (omp = false) run on short-lived std::threads instead: they
// were written for the pthreads build of OpenBLAS, where libgomp's idle
// workers keep spinning after a region ends (GOMP_SPINCOUNT, several ms of
// PAUSE loops on this CPU) and take a core from the OpenBLAS GEMM that
// follows (docs/PERF.md). Starting a thread costs tens of microseconds
// against milliseconds of work.
template <class F>
void parallel_for(bool omp, int64_t n, int64_t work, const F& body) {
  if (omp) {
#pragma omp parallel for schedule(static) if (work > kOmpMinWork && n > 1)
    for (int64_t i = 0; i < n; ++i) body(i);
    return;
  }
  const int64_t nt = work > kOmpMinWork ? std::min<int64_t>(omp_get_max_threads(), n) : 1;
  auto run = [&](int64_t t) {
    for (int64_t i = n * t / nt, e = n * (t + 1) / nt; i < e; ++i) body(i);
  };
  if (nt <= 1) return run(0);
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < nt; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
}

// body0(i, t) for i in [0, n0), then, once all of those have returned,
// body1(j, t) for j in [0, n1), on the same nt short-lived std::threads (the
// caller is one; t in [0, nt): which one) that take the next item from a
// shared counter: on a loaded machine a descheduled thread does not hold the
// others up at a static split (version 9: its packs, then its compute on the
// packed data). A thread that runs out of phase-0 items waits on a condition
// variable, not spinning, for the items still running on the others (one
// pack block or plane: microseconds).
template <class F0, class F1>
void parallel_phases(int64_t nt, int64_t n0, const F0& body0, int64_t n1, const F1& body1) {
  nt = std::max<int64_t>(1, std::min(nt, std::max(n0, n1)));
  std::atomic<int64_t> next0{0}, next1{0};
  std::mutex mu;
  std::condition_variable cv;
  int64_t done0 = 0;  // phase-0 items finished, under mu
  auto run = [&](int64_t t) {
    int64_t mine = 0;
    for (int64_t i; (i = next0.fetch_add(1)) < n0; ++mine) body0(i, t);
    if (nt > 1) {
      std::unique_lock<std::mutex> lock(mu);
      done0 += mine;
      if (done0 == n0)
        cv.notify_all();
      else
        cv.wait(lock, [&] { return done0 == n0; });
    }
    for (int64_t j; (j = next1.fetch_add(1)) < n1;) body1(j, t);
  };
  std::vector<std::thread> pool;
  for (int64_t t = 1; t < nt; ++t) pool.emplace_back(run, t);
  run(0);
  for (auto& th : pool) th.join();
}

template <class T>
void scale(T* p, int64_t n, T beta) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < n; ++i) p[i] = beta == T(0) ? T(0) : beta * p[i];
}

// col [C*R*S, nb*P] from images b0 .. b0+nb-1 of x.
template <class T>
void im2col(const Conv2dGeom& g, const T* x, int64_t b0, int64_t nb, T* col, bool omp) {
  const int64_t P = g.Ho * g.Wo, CRS = g.C * g.R * g.S, ld = nb * P;
  parallel_for(omp, CRS * nb, CRS * ld, [&](int64_t i) {
    const int64_t row = i / nb, bi = i % nb;
    const int64_t c = row / (g.R * g.S), r = (row / g.S) % g.R, s = row % g.S;
    const T* xp = x + ((b0 + bi) * g.C + c) * g.H * g.W;
    T* dst = col + row * ld + bi * P;
    const int64_t woff = s * g.dil_w - g.pad_w;
    int64_t lo, hi;
    valid_range(woff, g.stride_w, g.W, g.Wo, &lo, &hi);
    for (int64_t oh = 0; oh < g.Ho; ++oh, dst += g.Wo) {
      const int64_t ih = oh * g.stride_h - g.pad_h + r * g.dil_h;
      if (ih < 0 || ih >= g.H) {
        std::fill(dst, dst + g.Wo, T(0));
        continue;
      }
      // Input column of output column ow: ow * stride_w + woff (woff may be < 0).
      const T* src = xp + ih * g.W;
      std::fill(dst, dst + lo, T(0));
      if (g.stride_w == 1) {
        std::copy(src + lo + woff, src + hi + woff, dst + lo);
      } else {
        for (int64_t ow = lo; ow < hi; ++ow) dst[ow] = src[ow * g.stride_w + woff];
      }
      std::fill(dst + hi, dst + g.Wo, T(0));
    }
  });
}

// dx[b0 .. b0+nb-1] = beta * dx + col2im(dcol): each (image, channel) plane
// gathers from its own R*S rows of dcol, so planes run in parallel without
// write conflicts.
template <class T>
void col2im(const Conv2dGeom& g, const T* dcol, int64_t b0, int64_t nb, T beta, T* dx,
            bool omp) {
  const int64_t P = g.Ho * g.Wo, ld = nb * P, HW = g.H * g.W;
  parallel_for(omp, nb * g.C, g.C * g.R * g.S * ld, [&](int64_t i) {
    const int64_t bi = i / g.C, c = i % g.C;
    T* plane = dx + ((b0 + bi) * g.C + c) * HW;
    if (beta == T(0)) {
      std::fill(plane, plane + HW, T(0));
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < HW; ++j) plane[j] *= beta;
    }
    for (int64_t r = 0; r < g.R; ++r) {
      for (int64_t s = 0; s < g.S; ++s) {
        const T* src = dcol + ((c * g.R + r) * g.S + s) * ld + bi * P;
        const int64_t woff = s * g.dil_w - g.pad_w;
        int64_t lo, hi;
        valid_range(woff, g.stride_w, g.W, g.Wo, &lo, &hi);
        for (int64_t oh = 0; oh < g.Ho; ++oh, src += g.Wo) {
          const int64_t ih = oh * g.stride_h - g.pad_h + r * g.dil_h;
          if (ih < 0 || ih >= g.H) continue;
          T* dst = plane + ih * g.W;
          if (g.stride_w == 1) {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow + woff] += src[ow];
          } else {
            for (int64_t ow = lo; ow < hi; ++ow) dst[ow * g.stride_w + woff] += src[ow];
          }
        }
      }
    }
  });
}

// How versions 1-3 split the batch: nb images share one im2col/col2im
// buffer; per_image says whether each image then gets its own GEMM reading
// and writing its NCHW planes in place (no gather/scatter; fine when P is
// large) or the chunk gets one GEMM on gathered [K, nb*P] data.
struct Plan {
  int64_t nb;
  bool per_image;
  bool omp;  // data movement in OpenMP regions (versions >= 6)
};

// Smallest P = Ho*Wo for which version 3 uses per-image GEMMs.
constexpr int64_t kPerImageMinP = 1024;

Plan make_plan(const Conv2dGeom& g, int version) {
  if (version == 1) return {1, true, false};
  // Version 4 lowers like version 3; version 5 in cache-sized chunks.
  const int64_t per_image = g.C * g.R * g.S * g.Ho * g.Wo;
  const int64_t cap = version == 5 ? kCacheColElems : kMaxColElems;
  int64_t nb = std::max<int64_t>(1, std::min<int64_t>(g.B, cap / std::max<int64_t>(per_image, 1)));
  // Version 5: equal chunks (a divisor of B), not e.g. 7 + 1.
  while (version == 5 && g.B % nb != 0) --nb;
  return {nb, nb == 1 || (version >= 3 && g.Ho * g.Wo >= kPerImageMinP), version >= 6};
}

// ------------------------------------------------------------ version 0

template <class T>
void forward_v0(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T beta, T* y) {
  const int64_t P = g.Ho * g.Wo;
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t k = 0; k < g.K; ++k) {
      T* yp = y + (b * g.K + k) * P;
      for (int64_t oh = 0; oh < g.Ho; ++oh) {
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          T acc = bias ? bias[k] : T(0);
          for (int64_t c = 0; c < g.C; ++c)
            for (int64_t r = 0; r < g.R; ++r)
              for (int64_t s = 0; s < g.S; ++s) {
                int64_t ih = oh * g.stride_h - g.pad_h + r * g.dil_h;
                int64_t iw = ow * g.stride_w - g.pad_w + s * g.dil_w;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                acc += w[((k * g.C + c) * g.R + r) * g.S + s] *
                       x[((b * g.C + c) * g.H + ih) * g.W + iw];
              }
          T& out = yp[oh * g.Wo + ow];
          out = beta == T(0) ? acc : acc + beta * out;
        }
      }
    }
  }
}

template <class T>
void backward_data_v0(const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx) {
  const int64_t HW = g.H * g.W;
  for (int64_t b = 0; b < g.B; ++b) {
    for (int64_t c = 0; c < g.C; ++c) {
      T* plane = dx + (b * g.C + c) * HW;
      for (int64_t i = 0; i < HW; ++i) plane[i] = beta == T(0) ? T(0) : beta * plane[i];
      for (int64_t k = 0; k < g.K; ++k)
        for (int64_t r = 0; r < g.R; ++r)
          for (int64_t s = 0; s < g.S; ++s)
            for (int64_t oh = 0; oh < g.Ho; ++oh)
              for (int64_t ow = 0; ow < g.Wo; ++ow) {
                int64_t ih = oh * g.stride_h - g.pad_h + r * g.dil_h;
                int64_t iw = ow * g.stride_w - g.pad_w + s * g.dil_w;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                plane[ih * g.W + iw] += dy[((b * g.K + k) * g.Ho + oh) * g.Wo + ow] *
                                        w[((k * g.C + c) * g.R + r) * g.S + s];
              }
    }
  }
}

template <class T>
void backward_filter_v0(const Conv2dGeom& g, const T* x, const T* dy, T beta, T* dw, T* dbias) {
  for (int64_t k = 0; k < g.K; ++k) {
    for (int64_t c = 0; c < g.C; ++c) {
      for (int64_t r = 0; r < g.R; ++r)
        for (int64_t s = 0; s < g.S; ++s) {
          T acc = 0;
          for (int64_t b = 0; b < g.B; ++b)
            for (int64_t oh = 0; oh < g.Ho; ++oh)
              for (int64_t ow = 0; ow < g.Wo; ++ow) {
                int64_t ih = oh * g.stride_h - g.pad_h + r * g.dil_h;
                int64_t iw = ow * g.stride_w - g.pad_w + s * g.dil_w;
                if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
                acc += dy[((b * g.K + k) * g.Ho + oh) * g.Wo + ow] *
                       x[((b * g.C + c) * g.H + ih) * g.W + iw];
              }
          T& out = dw[((k * g.C + c) * g.R + r) * g.S + s];
          out = beta == T(0) ? acc : acc + beta * out;
        }
    }
  }
  if (dbias) {
    const int64_t P = g.Ho * g.Wo;
    for (int64_t k = 0; k < g.K; ++k) {
      T acc = 0;
      for (int64_t b = 0; b < g.B; ++b)
        for (int64_t p = 0; p < P; ++p) acc += dy[(b * g.K + k) * P + p];
      dbias[k] = beta == T(0) ? acc : acc + beta * dbias[k];
    }
  }
}

// ------------------------------------------------------------ versions 1, 2

template <class T>
void forward_gemm(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T beta, T* y,
                  int version) {
  const int64_t P = g.Ho * g.Wo, CRS = g.C * g.R * g.S;
  const Plan plan = make_plan(g, version);
  T* col = workspace<T>(0, CRS * plan.nb * P);
  T* ytmp = plan.per_image ? nullptr : workspace<T>(1, g.K * plan.nb * P);
  for (int64_t b0 = 0; b0 < g.B; b0 += plan.nb) {
    const int64_t nb = std::min(plan.nb, g.B - b0), ld = nb * P;
    T* yb = y + b0 * g.K * P;
    im2col(g, x, b0, nb, col, plan.omp);
    if (plan.per_image) {
      // y = bias + beta * y first, so the GEMMs can accumulate into it.
      T gemm_beta = beta;
      if (bias) {
        parallel_for(plan.omp, nb * g.K, g.K * ld, [&](int64_t i) {
          const int64_t k = i % g.K;
          T* dst = yb + i * P;
          for (int64_t p = 0; p < P; ++p)
            dst[p] = beta == T(0) ? bias[k] : bias[k] + beta * dst[p];
        });
        gemm_beta = T(1);
      }
      for (int64_t bi = 0; bi < nb; ++bi)
        gemm_cpu<T>(false, false, g.K, P, CRS, T(1), w, CRS, col + bi * P, ld, gemm_beta,
                    yb + bi * g.K * P, P);
      continue;
    }
    gemm_cpu<T>(false, false, g.K, ld, CRS, T(1), w, CRS, col, ld, T(0), ytmp, ld);
    // [K, nb, P] -> [nb, K, P], adding bias and beta * y on the way.
    parallel_for(plan.omp, nb * g.K, g.K * ld, [&](int64_t i) {
      const int64_t bi = i / g.K, k = i % g.K;
      const T* src = ytmp + k * ld + bi * P;
      T* dst = yb + (bi * g.K + k) * P;
      const T bk = bias ? bias[k] : T(0);
      if (beta == T(0)) {
        for (int64_t p = 0; p < P; ++p) dst[p] = src[p] + bk;
      } else {
        for (int64_t p = 0; p < P; ++p) dst[p] = src[p] + bk + beta * dst[p];
      }
    });
  }
}

// dyg [K, nb*P] <- dy[b0 .. b0+nb-1] ([nb, K, P]).
template <class T>
void gather_dy(const Conv2dGeom& g, const T* dy, int64_t b0, int64_t nb, T* dyg, bool omp) {
  const int64_t P = g.Ho * g.Wo, ld = nb * P;
  parallel_for(omp, g.K * nb, g.K * ld, [&](int64_t i) {
    const int64_t k = i / nb, bi = i % nb;
    std::memcpy(dyg + k * ld + bi * P, dy + ((b0 + bi) * g.K + k) * P, sizeof(T) * P);
  });
}

template <class T>
void backward_data_gemm(const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx,
                        int version) {
  const int64_t P = g.Ho * g.Wo, CRS = g.C * g.R * g.S;
  const Plan plan = make_plan(g, version);
  T* dcol = workspace<T>(0, CRS * plan.nb * P);
  T* dyg = plan.per_image ? nullptr : workspace<T>(1, g.K * plan.nb * P);
  for (int64_t b0 = 0; b0 < g.B; b0 += plan.nb) {
    const int64_t nb = std::min(plan.nb, g.B - b0), ld = nb * P;
    if (plan.per_image) {
      for (int64_t bi = 0; bi < nb; ++bi)
        gemm_cpu<T>(true, false, CRS, P, g.K, T(1), w, CRS, dy + (b0 + bi) * g.K * P, P, T(0),
                    dcol + bi * P, ld);
    } else {
      gather_dy(g, dy, b0, nb, dyg, plan.omp);
      gemm_cpu<T>(true, false, CRS, ld, g.K, T(1), w, CRS, dyg, ld, T(0), dcol, ld);
    }
    col2im(g, dcol, b0, nb, beta, dx, plan.omp);
  }
}

// Version 4, stride 1: backward data is itself a forward convolution of dy
// with the filter transposed over (K, C) and flipped over (R, S):
//   dx[b,c,ih,iw] = sum_{k,r',s'} w'[c,k,r',s'] dy[b, k, ih - p' + r' d, iw - p' + s' d]
//   w'[c,k,r',s'] = w[k, c, R-1-r', S-1-s'],  p' = d (R-1) - p  (needs p <= d)
// (substitute r = R-1-r' in oh = ih + p - r d). That turns the backward GEMM
// [CRS, P] = W^T [CRS, K] . dY [K, P], whose depth is only K, into the
// forward's [C, P] = W' [C, KRS] . col(dy) with depth K*R*S, and col2im's
// scattered read-modify-writes into im2col's plain copies.
bool flipped_backward_data_applies(const Conv2dGeom& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.pad_h <= g.dil_h * (g.R - 1) &&
         g.pad_w <= g.dil_w * (g.S - 1);
}

template <class T>
void backward_data_flipped(const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx,
                           int version) {
  const int64_t RS = g.R * g.S;
  T* wf = workspace<T>(2, g.K * g.C * RS);  // [C, K, R, S]
  parallel_for(version >= 6, g.C * g.K, g.K * g.C * RS, [&](int64_t i) {
    const int64_t c = i / g.K, k = i % g.K;
    for (int64_t rs = 0; rs < RS; ++rs) wf[i * RS + rs] = w[(k * g.C + c) * RS + RS - 1 - rs];
  });
  Conv2dGeom t = g;
  t.C = g.K, t.H = g.Ho, t.W = g.Wo;
  t.K = g.C, t.Ho = g.H, t.Wo = g.W;
  t.pad_h = g.dil_h * (g.R - 1) - g.pad_h;
  t.pad_w = g.dil_w * (g.S - 1) - g.pad_w;
  forward_gemm<T>(t, dy, wf, nullptr, beta, dx, version);
}

template <class T>
void backward_filter_gemm(const Conv2dGeom& g, const T* x, const T* dy, T beta, T* dw, T* dbias,
                          int version) {
  const int64_t P = g.Ho * g.Wo, CRS = g.C * g.R * g.S;
  if (g.B == 0) {
    scale(dw, g.K * CRS, beta);
    if (dbias) scale(dbias, g.K, beta);
    return;
  }
  const Plan plan = make_plan(g, version);
  T* col = workspace<T>(0, CRS * plan.nb * P);
  T* dyg = plan.per_image ? nullptr : workspace<T>(1, g.K * plan.nb * P);
  for (int64_t b0 = 0; b0 < g.B; b0 += plan.nb) {
    const int64_t nb = std::min(plan.nb, g.B - b0), ld = nb * P;
    im2col(g, x, b0, nb, col, plan.omp);
    if (plan.per_image) {
      for (int64_t bi = 0; bi < nb; ++bi)
        gemm_cpu<T>(false, true, g.K, CRS, P, T(1), dy + (b0 + bi) * g.K * P, P, col + bi * P, ld,
                    b0 + bi == 0 ? beta : T(1), dw, CRS);
    } else {
      gather_dy(g, dy, b0, nb, dyg, plan.omp);
      gemm_cpu<T>(false, true, g.K, CRS, ld, T(1), dyg, ld, col, ld, b0 == 0 ? beta : T(1), dw,
                  CRS);
    }
  }
  if (dbias) {
    parallel_for(plan.omp, g.K, g.B * g.K * P, [&](int64_t k) {
      T acc = 0;
      for (int64_t b = 0; b < g.B; ++b) {
        const T* p = dy + (b * g.K + k) * P;
        for (int64_t i = 0; i < P; ++i) acc += p[i];
      }
      dbias[k] = beta == T(0) ? acc : acc + beta * dbias[k];
    });
  }
}

// ------------------------------------------------------------ version 7
//
// Stride 1, dilation 1: no im2col. A chunk of nb images of one channel is
// laid out flat with zero padding that neighbouring rows and images share:
//   row stride Wp = W + pw, image stride Hs*Wp with Hs = H + ph,
//   x[b, c, ih, iw] at lead + b*Hs*Wp + ih*Wp + iw, lead = ph*Wp + pw,
// every other position 0. The pw zeros ending a row are the left padding of
// the next row and the ph zero rows ending an image the top padding of the
// next one (needs pw <= S-1, ph <= R-1, true for "same" padding). Then
// output (b, oh, ow) sits at column q = b*Hs*Wp + oh*Wp + ow of a wide
// output [K, N] and reads, for tap (r, s), column q + r*Wp + s of the flat
// input: each tap is the same matrix shifted by a constant. Columns with
// ow >= Wo or oh >= Ho are junk, computed and dropped on copy-out (3-27% of
// the columns at the ResNet shapes, more for tiny images).
//
// The S taps of one filter row are merged into one deep GEMM by storing the
// flat input S times, shifted by 0..S-1 (Z rows (s, c)); tap row r is then
// Z shifted by r*Wp, a plain strided matrix:
//   Y [K, N] = sum_r Wr [K, S*C] . Z[:, r*Wp : r*Wp + N],  Wr[k, s*C + c] = w[k, c, r, s]
// That is R GEMMs of depth S*C, and a copy S times the input instead of
// im2col's R*S times. Backward data (stride 1) is the forward of the flipped
// filter as in version 4; backward filter is
//   dWr [K, S*C] = dY' [K, N] . Z[:, r*Wp : r*Wp + N]^T
// with dY' = dy spread onto the wide layout, junk columns 0.
bool shifted_applies(const Conv2dGeom& g) {
  return g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1 &&
         g.pad_h <= g.R - 1 && g.pad_w <= g.S - 1;
}

// Sizes of the shifted layout for a chunk of nb images.
struct Shifted {
  int64_t Wp, img, lead;  // row stride, image stride, offset of x[b0, c, 0, 0]
  int64_t N;              // wide output columns
  int64_t Nz;             // columns of Z the R GEMMs read
  int64_t ld;             // row stride of Z (>= Nz + S - 1)
};

Shifted shifted_layout(const Conv2dGeom& g, int64_t nb) {
  Shifted L;
  L.Wp = g.W + g.pad_w;
  L.img = (g.H + g.pad_h) * L.Wp;
  L.lead = g.pad_h * L.Wp + g.pad_w;
  L.N = (nb - 1) * L.img + (g.Ho - 1) * L.Wp + g.Wo;
  L.Nz = L.N + (g.R - 1) * L.Wp;
  L.ld = (L.Nz + g.S - 1 + 15) / 16 * 16;
  return L;
}

// Largest Z (elements) one chunk may use: 2^22 floats = 16 MiB.
constexpr int64_t kMaxShiftedElems = int64_t(1) << 22;

int64_t shifted_chunk(const Conv2dGeom& g) {
  int64_t nb = g.B;
  while (nb > 1 && g.S * g.C * shifted_layout(g, nb).ld > kMaxShiftedElems) nb = (nb + 1) / 2;
  return std::max<int64_t>(nb, 1);
}

// Z [S*C, ld] for images b0 .. b0+nb-1 of x (see above).
template <class T>
void shifted_input(const Conv2dGeom& g, const Shifted& L, const T* x, int64_t b0, int64_t nb,
                   T* z) {
  const int64_t HW = g.H * g.W;
  parallel_for(true, g.C, g.S * g.C * L.ld, [&](int64_t c) {
    T* row = z + c * L.ld;  // tap s = 0
    int64_t pos = 0;
    for (int64_t bi = 0; bi < nb; ++bi) {
      const T* src = x + ((b0 + bi) * g.C + c) * HW;
      for (int64_t ih = 0; ih < g.H; ++ih, src += g.W) {
        const int64_t at = L.lead + bi * L.img + ih * L.Wp;
        std::fill(row + pos, row + at, T(0));
        std::copy(src, src + g.W, row + at);
        pos = at + g.W;
      }
    }
    std::fill(row + pos, row + L.ld, T(0));
    for (int64_t s = 1; s < g.S; ++s) std::copy(row + s, row + s + L.Nz, z + (s * g.C + c) * L.ld);
  });
}

// Y [K, N] = sum_r Wr . Z shifted by r*Wp; wp: [R, K, S*C].
template <class T>
void shifted_gemms(const Conv2dGeom& g, const Shifted& L, const T* wp, const T* z, T* yw) {
  const int64_t SC = g.S * g.C;
  for (int64_t r = 0; r < g.R; ++r)
    gemm_cpu<T>(false, false, g.K, L.N, SC, T(1), wp + r * g.K * SC, SC, z + r * L.Wp, L.ld,
                r == 0 ? T(0) : T(1), yw, L.N);
}

// Forward with packed weights wp [R, K, S*C].
template <class T>
void forward_shifted_packed(const Conv2dGeom& g, const T* x, const T* wp, const T* bias, T beta,
                            T* y) {
  const int64_t P = g.Ho * g.Wo, nbmax = shifted_chunk(g);
  const Shifted Lmax = shifted_layout(g, nbmax);
  T* z = workspace<T>(0, g.S * g.C * Lmax.ld);
  T* yw = workspace<T>(1, g.K * Lmax.N);
  for (int64_t b0 = 0; b0 < g.B; b0 += nbmax) {
    const int64_t nb = std::min(nbmax, g.B - b0);
    const Shifted L = shifted_layout(g, nb);
    shifted_input(g, L, x, b0, nb, z);
    shifted_gemms(g, L, wp, z, yw);
    // Wide [K, N] -> y [nb, K, Ho, Wo], adding bias and beta * y.
    parallel_for(true, nb * g.K, g.K * nb * P, [&](int64_t i) {
      const int64_t bi = i / g.K, k = i % g.K;
      const T bk = bias ? bias[k] : T(0);
      T* dst = y + ((b0 + bi) * g.K + k) * P;
      for (int64_t oh = 0; oh < g.Ho; ++oh, dst += g.Wo) {
        const T* src = yw + k * L.N + bi * L.img + oh * L.Wp;
        if (beta == T(0)) {
          for (int64_t ow = 0; ow < g.Wo; ++ow) dst[ow] = src[ow] + bk;
        } else {
          for (int64_t ow = 0; ow < g.Wo; ++ow) dst[ow] = src[ow] + bk + beta * dst[ow];
        }
      }
    });
  }
}

template <class T>
void forward_shifted(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T beta, T* y) {
  const int64_t C = g.C, R = g.R, S = g.S;
  T* wp = workspace<T>(2, g.K * C * R * S);
  parallel_for(true, g.K, g.K * C * R * S, [&](int64_t k) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t s = 0; s < S; ++s)
          wp[(r * g.K + k) * S * C + s * C + c] = w[((k * C + c) * R + r) * S + s];
  });
  forward_shifted_packed(g, x, wp, bias, beta, y);
}

// Backward data as the forward of dy with w'[c, k, r', s'] = w[k, c, R-1-r', S-1-s'],
// padding R-1-ph, S-1-pw (see backward_data_flipped), packed straight into
// [R, C, S*K].
template <class T>
void backward_data_shifted(const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx) {
  const int64_t C = g.C, K = g.K, R = g.R, S = g.S;
  T* wp = workspace<T>(2, K * C * R * S);
  parallel_for(true, C, K * C * R * S, [&](int64_t c) {
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t s = 0; s < S; ++s)
          wp[(r * C + c) * S * K + s * K + k] = w[((k * C + c) * R + (R - 1 - r)) * S + (S - 1 - s)];
  });
  Conv2dGeom t = g;
  t.C = g.K, t.H = g.Ho, t.W = g.Wo;
  t.K = g.C, t.Ho = g.H, t.Wo = g.W;
  t.pad_h = g.R - 1 - g.pad_h;
  t.pad_w = g.S - 1 - g.pad_w;
  forward_shifted_packed(t, dy, wp, static_cast<const T*>(nullptr), beta, dx);
}

template <class T>
void backward_filter_shifted(const Conv2dGeom& g, const T* x, const T* dy, T beta, T* dw,
                             T* dbias) {
  const int64_t C = g.C, K = g.K, R = g.R, S = g.S, SC = S * C, P = g.Ho * g.Wo;
  const int64_t nbmax = shifted_chunk(g);
  const Shifted Lmax = shifted_layout(g, nbmax);
  T* z = workspace<T>(0, SC * Lmax.ld);
  T* dyw = workspace<T>(1, K * Lmax.N);
  T* dwp = workspace<T>(2, R * K * SC);  // [R, K, S*C]
  for (int64_t b0 = 0; b0 < g.B; b0 += nbmax) {
    const int64_t nb = std::min(nbmax, g.B - b0);
    const Shifted L = shifted_layout(g, nb);
    shifted_input(g, L, x, b0, nb, z);
    // dy [nb, K, Ho, Wo] -> wide [K, N], junk columns 0.
    parallel_for(true, K, K * L.N, [&](int64_t k) {
      T* row = dyw + k * L.N;
      std::fill(row, row + L.N, T(0));
      for (int64_t bi = 0; bi < nb; ++bi) {
        const T* src = dy + ((b0 + bi) * K + k) * P;
        for (int64_t oh = 0; oh < g.Ho; ++oh, src += g.Wo)
          std::copy(src, src + g.Wo, row + bi * L.img + oh * L.Wp);
      }
    });
    for (int64_t r = 0; r < R; ++r)
      gemm_cpu<T>(false, true, K, SC, L.N, T(1), dyw, L.N, z + r * L.Wp, L.ld,
                  b0 == 0 ? T(0) : T(1), dwp + r * K * SC, SC);
  }
  parallel_for(true, K, K * C * R * S, [&](int64_t k) {
    for (int64_t c = 0; c < C; ++c)
      for (int64_t r = 0; r < R; ++r)
        for (int64_t s = 0; s < S; ++s) {
          T& out = dw[((k * C + c) * R + r) * S + s];
          const T v = g.B == 0 ? T(0) : dwp[(r * K + k) * SC + s * C + c];
          out = beta == T(0) ? v : v + beta * out;
        }
  });
  if (dbias) {
    parallel_for(true, K, g.B * K * P, [&](int64_t k) {
      T acc = 0;
      for (int64_t b = 0; b < g.B; ++b) {
        const T* p = dy + (b * K + k) * P;
        for (int64_t i = 0; i < P; ++i) acc += p[i];
      }
      dbias[k] = beta == T(0) ? acc : acc + beta * dbias[k];
    });
  }
}

// ---------------------------------------------------------------- version 8
// Winograd F(2x2, 3x3) (Lavin & Gray 2016) for 3x3 filters, stride 1,
// dilation 1, padding <= 2. The output is cut into 2x2 tiles; tile (i, j)
// reads the 4x4 input patch starting at (2i - pad_h, 2j - pad_w). With
//   G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]             (4x3)
//   B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]             (4x4)
//   A^T = [1 1 1 0; 0 1 -1 -1]                                (2x4)
// a tile's output is A^T [ (G w G^T) .* (B^T d B) ] A summed over channels, so
// after transforming filters (U [16, K, C]) and input tiles (V [16, C, T]) the
// channel sum is 16 GEMMs M_e [K, T] = U_e [K, C] . V_e [C, T], and the
// output transform turns each tile's 16 values back into 2x2 outputs.
// Multiplications per output: 16/4 * C = 4C instead of 9C (2.25x fewer),
// and V holds 4x the input (im2col: 9x). Rounding: the transforms only add
// and halve, so fp32 results stay within a few ulps of the direct sum's
// scale (checked against version 0 in tests/test_conv.cpp).
// Backward data with stride 1 is the forward of dy with the flipped,
// transposed filter (version 4's identity), so it runs here too; backward
// filter stays on version 4 (already at parity with PyTorch: docs/PERF.md).
bool winograd_applies(const Conv2dGeom& g) {
  return g.R == 3 && g.S == 3 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 &&
         g.dil_w == 1 && g.pad_h <= 2 && g.pad_w <= 2;
}

// Largest V or M buffer (elements) of one chunk of images: 2^23 floats = 32 MiB.
constexpr int64_t kWinogradMaxElems = int64_t(1) << 23;

// U [16, K, C]: G w[k, c] G^T for every (k, c).
template <class T>
void winograd_filter(const Conv2dGeom& g, const T* w, T* U) {
  const int64_t KC = g.K * g.C;
  parallel_for(false, KC, KC * 16, [&](int64_t i) {
    const T* f = w + i * 9;
    T gf[4][3];  // G f
    for (int s = 0; s < 3; ++s) {
      const T f0 = f[s], f1 = f[3 + s], f2 = f[6 + s];
      gf[0][s] = f0;
      gf[1][s] = T(0.5) * (f0 + f1 + f2);
      gf[2][s] = T(0.5) * (f0 - f1 + f2);
      gf[3][s] = f2;
    }
    for (int a = 0; a < 4; ++a) {
      const T t0 = gf[a][0], t1 = gf[a][1], t2 = gf[a][2];
      U[(a * 4 + 0) * KC + i] = t0;
      U[(a * 4 + 1) * KC + i] = T(0.5) * (t0 + t1 + t2);
      U[(a * 4 + 2) * KC + i] = T(0.5) * (t0 - t1 + t2);
      U[(a * 4 + 3) * KC + i] = t2;
    }
  });
}

// V [16, C, nb*tiles]: B^T d B for every 4x4 input patch of images
// b0 .. b0+nb-1 (zero outside the image).
template <class T>
void winograd_input(const Conv2dGeom& g, const T* x, int64_t b0, int64_t nb, int64_t nth,
                    int64_t ntw, T* V) {
  const int64_t tiles = nth * ntw, Tn = nb * tiles, CT = g.C * Tn;
  parallel_for(false, nb * g.C, nb * g.C * tiles * 16, [&](int64_t i) {
    const int64_t bi = i / g.C, c = i % g.C;
    const T* xp = x + ((b0 + bi) * g.C + c) * g.H * g.W;
    T* v = V + c * Tn + bi * tiles;
    for (int64_t th = 0; th < nth; ++th) {
      const int64_t ih0 = 2 * th - g.pad_h;
      for (int64_t tw = 0; tw < ntw; ++tw) {
        const int64_t iw0 = 2 * tw - g.pad_w;
        T d[4][4];
        if (ih0 >= 0 && ih0 + 3 < g.H && iw0 >= 0 && iw0 + 3 < g.W) {
          for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) d[a][b] = xp[(ih0 + a) * g.W + iw0 + b];
        } else {
          for (int a = 0; a < 4; ++a)
            for (int b = 0; b < 4; ++b) {
              const int64_t ih = ih0 + a, iw = iw0 + b;
              d[a][b] = ih >= 0 && ih < g.H && iw >= 0 && iw < g.W ? xp[ih * g.W + iw] : T(0);
            }
        }
        T t[4][4];  // B^T d
        for (int b = 0; b < 4; ++b) {
          t[0][b] = d[0][b] - d[2][b];
          t[1][b] = d[1][b] + d[2][b];
          t[2][b] = d[2][b] - d[1][b];
          t[3][b] = d[1][b] - d[3][b];
        }
        const int64_t col = th * ntw + tw;
        for (int a = 0; a < 4; ++a) {  // (B^T d) B
          v[(a * 4 + 0) * CT + col] = t[a][0] - t[a][2];
          v[(a * 4 + 1) * CT + col] = t[a][1] + t[a][2];
          v[(a * 4 + 2) * CT + col] = t[a][2] - t[a][1];
          v[(a * 4 + 3) * CT + col] = t[a][1] - t[a][3];
        }
      }
    }
  });
}

// y[b0 .. b0+nb-1] = A^T M A (+ bias) + beta * y, from M [16, K, nb*tiles].
template <class T>
void winograd_output(const Conv2dGeom& g, const T* M, int64_t b0, int64_t nb, int64_t nth,
                     int64_t ntw, const T* bias, T beta, T* y) {
  const int64_t tiles = nth * ntw, Tn = nb * tiles, KT = g.K * Tn, P = g.Ho * g.Wo;
  parallel_for(false, nb * g.K, nb * g.K * tiles * 16, [&](int64_t i) {
    const int64_t bi = i / g.K, k = i % g.K;
    const T* m = M + k * Tn + bi * tiles;
    T* yp = y + ((b0 + bi) * g.K + k) * P;
    const T bk = bias ? bias[k] : T(0);
    for (int64_t th = 0; th < nth; ++th) {
      for (int64_t tw = 0; tw < ntw; ++tw) {
        const int64_t col = th * ntw + tw;
        T s[2][4];  // A^T m
        for (int b = 0; b < 4; ++b) {
          const T m0 = m[(0 * 4 + b) * KT + col], m1 = m[(1 * 4 + b) * KT + col],
                  m2 = m[(2 * 4 + b) * KT + col], m3 = m[(3 * 4 + b) * KT + col];
          s[0][b] = m0 + m1 + m2;
          s[1][b] = m1 - m2 - m3;
        }
        for (int a = 0; a < 2; ++a) {
          const int64_t oh = 2 * th + a;
          if (oh >= g.Ho) break;
          const T o[2] = {s[a][0] + s[a][1] + s[a][2], s[a][1] - s[a][2] - s[a][3]};
          for (int b = 0; b < 2; ++b) {
            const int64_t ow = 2 * tw + b;
            if (ow >= g.Wo) break;
            T& dst = yp[oh * g.Wo + ow];
            dst = beta == T(0) ? o[b] + bk : o[b] + bk + beta * dst;
          }
        }
      }
    }
  });
}

template <class T>
void forward_winograd(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T beta, T* y) {
  const int64_t nth = (g.Ho + 1) / 2, ntw = (g.Wo + 1) / 2, tiles = nth * ntw;
  const int64_t per_image = 16 * std::max(g.C, g.K) * tiles;
  const int64_t nb = std::max<int64_t>(1, std::min<int64_t>(g.B, kWinogradMaxElems / per_image));
  T* U = workspace<T>(2, 16 * g.K * g.C);
  T* V = workspace<T>(0, 16 * g.C * nb * tiles);
  T* M = workspace<T>(1, 16 * g.K * nb * tiles);
  winograd_filter(g, w, U);
  for (int64_t b0 = 0; b0 < g.B; b0 += nb) {
    const int64_t n = std::min(nb, g.B - b0), Tn = n * tiles;
    winograd_input(g, x, b0, n, nth, ntw, V);
    for (int e = 0; e < 16; ++e)
      gemm_cpu<T>(false, false, g.K, Tn, g.C, T(1), U + e * g.K * g.C, g.C, V + e * g.C * Tn, Tn,
                  T(0), M + e * g.K * Tn, Tn);
    winograd_output(g, M, b0, n, nth, ntw, bias, beta, y);
  }
}

// Backward data of a stride-1 3x3 convolution through forward_winograd
// (see backward_data_flipped for the identity).
template <class T>
void backward_data_winograd(const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx) {
  T* wf = workspace<T>(3, g.K * g.C * 9);  // [C, K, 3, 3]; slot 2 holds U
  parallel_for(false, g.C * g.K, g.K * g.C * 9, [&](int64_t i) {
    const int64_t c = i / g.K, k = i % g.K;
    for (int64_t rs = 0; rs < 9; ++rs) wf[i * 9 + rs] = w[(k * g.C + c) * 9 + 8 - rs];
  });
  Conv2dGeom t = g;
  t.C = g.K, t.H = g.Ho, t.W = g.Wo;
  t.K = g.C, t.Ho = g.H, t.Wo = g.W;
  t.pad_h = 2 - g.pad_h;
  t.pad_w = 2 - g.pad_w;
  forward_winograd<T>(t, dy, wf, nullptr, beta, dx);
}


// ---------------------------------------------------------------- version 9
// Direct convolution for stride 1, dilation 1, float, with its own AVX2/FMA
// register-blocked micro-kernel on channel-blocked layouts (oneDNN's
// "nChw8c" idea):
//   xb [B, Cb, Hp, Wp, 8]          Cb = ceil(C/8), Hp = H + 2 ph, Wp = W + 2 pw,
//                                  zero padding and zero channels past C
//   wb [Kp, Cb, R, S, 8c, 16k]     Kp = ceil(K/16), zero past C and K
// Output pixel (oh, ow) of image b, for the 16 output channels of block kp, is
//   sum_{cb, r, s, c} xb[b, cb, oh + r, ow + s, c] * wb[kp, cb, r, s, c, :]
// The micro-kernel takes 6 output pixels (any 6, possibly in different rows
// or images: each has its own base pointer) x 16 output channels = 12 ymm
// accumulators, and for every (cb, r, s, c) loads two weight vectors and
// broadcasts one input value per pixel: 12 FMAs per 2 loads + 6 broadcasts.
// The whole reduction over C*R*S stays in registers; the 6x16 results go to
// a small tile that is written to NCHW y with bias and beta (contiguous runs
// per output channel). The B*Ho*Wo output pixels are cut into bands that
// threads take from a shared counter; a band is walked once per
// output-channel block kp, so its input rows stay in L2 while each block's
// weights (Cb*R*S*2 KiB: 36 KiB at C = 64, 288 KiB at 512) are read once
// per band (see direct_plan for the band size). Where those blocks are
// large (C > 280 at 3x3) threads take output-channel blocks instead and
// pack each block's filter themselves into an L2 buffer (the channel split,
// direct_plan). The packs and the compute run on one set of threads
// (parallel_phases): packs first, then the compute. One Zen 3 core here
// peaks at about 90 GFLOP/s (2 FMA pipes x 8 lanes); the compute phase
// (micro-kernel and NCHW write-out) measured 68-85 GFLOP/s at the four
// ResNet stages, 90 with everything in L1 (single thread, min of 10).
// Backward data with stride 1 is the forward of dy with the (K, C)-transposed,
// (R, S)-flipped filter and padding R-1-ph (version 4's identity), packed
// straight from w. Backward filter, double, other strides and dilations, and
// builds without AVX2/FMA: version 4.
#ifdef SIRS_CONV_V9
bool direct_applies(const Conv2dGeom& g) {
  return g.B > 0 && g.stride_h == 1 && g.stride_w == 1 && g.dil_h == 1 && g.dil_w == 1;
}

constexpr int64_t kDirectPix = 6;     // output pixels per micro-kernel call
constexpr int64_t kDirectGroup = 48;  // pixels per tile written out at once
constexpr int64_t kDirectBandBytes = 128 << 10;  // input rows per band (see direct_plan)
constexpr int64_t kDirectBigWeights = 160 << 10;  // weight block bytes above which: channel split

// Sizes of the blocked layouts; g is in forward form (for backward data, the
// transposed geometry).
struct Direct {
  int64_t Cb, Kp, Hp, Wp;
};

Direct direct_layout(const Conv2dGeom& g) {
  return {(g.C + 7) / 8, (g.K + 15) / 16, g.H + 2 * g.pad_h, g.W + 2 * g.pad_w};
}

// A 64-byte aligned view of workspace slot `slot` with n floats.
float* aligned_workspace(int slot, int64_t n) {
  float* p = workspace<float>(slot, n + 16);
  return reinterpret_cast<float*>((reinterpret_cast<uintptr_t>(p) + 63) & ~uintptr_t(63));
}

// 8x8 transpose in registers: r[i][j] -> o[j][i].
inline void transpose8(const __m256 r[8], __m256 o[8]) {
  const __m256 t0 = _mm256_unpacklo_ps(r[0], r[1]), t1 = _mm256_unpackhi_ps(r[0], r[1]),
               t2 = _mm256_unpacklo_ps(r[2], r[3]), t3 = _mm256_unpackhi_ps(r[2], r[3]),
               t4 = _mm256_unpacklo_ps(r[4], r[5]), t5 = _mm256_unpackhi_ps(r[4], r[5]),
               t6 = _mm256_unpacklo_ps(r[6], r[7]), t7 = _mm256_unpackhi_ps(r[6], r[7]);
  // u[j]: elements j%4 and j%4 + 4 of rows 0-3 (j < 4) or rows 4-7.
  const __m256 u0 = _mm256_shuffle_ps(t0, t2, 0x44), u1 = _mm256_shuffle_ps(t0, t2, 0xEE),
               u2 = _mm256_shuffle_ps(t1, t3, 0x44), u3 = _mm256_shuffle_ps(t1, t3, 0xEE),
               u4 = _mm256_shuffle_ps(t4, t6, 0x44), u5 = _mm256_shuffle_ps(t4, t6, 0xEE),
               u6 = _mm256_shuffle_ps(t5, t7, 0x44), u7 = _mm256_shuffle_ps(t5, t7, 0xEE);
  o[0] = _mm256_permute2f128_ps(u0, u4, 0x20);
  o[1] = _mm256_permute2f128_ps(u1, u5, 0x20);
  o[2] = _mm256_permute2f128_ps(u2, u6, 0x20);
  o[3] = _mm256_permute2f128_ps(u3, u7, 0x20);
  o[4] = _mm256_permute2f128_ps(u0, u4, 0x31);
  o[5] = _mm256_permute2f128_ps(u1, u5, 0x31);
  o[6] = _mm256_permute2f128_ps(u2, u6, 0x31);
  o[7] = _mm256_permute2f128_ps(u3, u7, 0x31);
}

// Plane i = b*Cb + cb of xb [B, Cb, Hp, Wp, 8] from x [B, C, H, W]: 8
// channel rows read front to back, the plane written in order. Full channel
// blocks move 8x8 tiles (8 channels x 8 columns) through a register transpose.
void direct_pack_input(const Conv2dGeom& g, const Direct& L, const float* x, int64_t i,
                       float* xb) {
  const int64_t HW = g.H * g.W, plane = L.Hp * L.Wp * 8;
  const int64_t b = i / L.Cb, cb = i % L.Cb, nc = std::min<int64_t>(8, g.C - cb * 8);
  const float* src = x + (b * g.C + cb * 8) * HW;
  float* dst = xb + i * plane;
  for (int64_t ih = 0; ih < L.Hp; ++ih) {
    float* d = dst + ih * L.Wp * 8;
    const int64_t y = ih - g.pad_h;
    if (y < 0 || y >= g.H) {
      std::fill(d, d + L.Wp * 8, 0.f);
      continue;
    }
    std::fill(d, d + g.pad_w * 8, 0.f);
    std::fill(d + (g.pad_w + g.W) * 8, d + L.Wp * 8, 0.f);
    d += g.pad_w * 8;
    const float* s = src + y * g.W;
    int64_t iw = 0;
    if (nc == 8) {
      for (; iw + 8 <= g.W; iw += 8) {
        __m256 r[8], o[8];
        for (int c = 0; c < 8; ++c) r[c] = _mm256_loadu_ps(s + c * HW + iw);
        transpose8(r, o);
        for (int j = 0; j < 8; ++j) _mm256_storeu_ps(d + (iw + j) * 8, o[j]);
      }
    }
    for (; iw < g.W; ++iw)
      for (int64_t c = 0; c < 8; ++c) d[iw * 8 + c] = c < nc ? s[c * HW + iw] : 0.f;
  }
}

// wb [Kp, Cb, R, S, 8, 16] with wb[kp, cb, r, s, c, k] = filter (kp*16 + k, cb*8 + c)
// at tap (r, s) inside [K, C], 0 outside, for the blocks i in [i0, i1) of
// the Kp*Cb blocks (see direct_weight_block for their order); wb starts at
// block row kp0 (0: the whole filter, kp: one block row). taps(k, c)
// points at that filter's R*S taps in (r, s) order, or in reverse order when
// kFlip. Full blocks take a vector path that relies on the source layouts of
// forward_direct (filters k..k+7 of one channel block: KCRS rows) and
// backward_data_direct (filters k..k+15 of one channel: contiguous).
//
// Both read their source in order and write whole 4.6 KiB blocks (3x3), so
// the pack runs at memory speed: forward walks the blocks kp-major (16 KCRS
// rows read front to back, blocks written one after the other); backward
// data walks them cb-major (its 8 source rows, the 8 filters w[c] of one
// block of its input channels, are then read front to back while the kp
// blocks are written). The kp-major order of the backward pack read 576
// bytes from each of C rows 18 KiB apart per block and, with vgatherdps,
// took 5.9 ms at 512 channels (single thread); and the forward pack spent
// most of its 3.2 ms on integer divisions for the store offsets, now a table.
template <bool kFlip>
inline void direct_weight_block(const Direct& L, int64_t i, int64_t* kp, int64_t* cb) {
  if (kFlip) *cb = i / L.Kp, *kp = i % L.Kp;
  else *kp = i / L.Cb, *cb = i % L.Cb;
}

template <bool kFlip, class F>
void direct_pack_weights(const Conv2dGeom& g, const Direct& L, const F& taps, int64_t i0,
                         int64_t i1, int64_t kp0, float* wb) {
  const int64_t RS = g.R * g.S, block = RS * 128;
  // Element e = c*RS + tap of one filter's 8-channel run goes to row
  // tap*8 + c of the block (forward); tap t of one channel's run of taps
  // goes to row (RS-1-t)*8 (backward data, plus the channel).
  int32_t off[8 * 64];
  const bool table = RS <= 64;
  if (table)
    for (int64_t e = 0; e < 8 * RS; ++e)
      off[e] = static_cast<int32_t>(kFlip ? (RS - 1 - e % RS) * 128 : (e % RS * 8 + e / RS) * 16);
  for (int64_t i = i0; i < i1; ++i) {
    int64_t kp, cb;
    direct_weight_block<kFlip>(L, i, &kp, &cb);
    float* dst = wb + ((kp - kp0) * L.Cb + cb) * block;
    const int64_t nk = std::min<int64_t>(16, g.K - kp * 16);
    if (table && nk == 16 && cb * 8 + 8 <= g.C) {
      if (!kFlip) {
        // Filter k's 8 channels x RS taps are contiguous: 8x8 transposes of
        // 8 filters x 8 consecutive (c, tap) elements.
        for (int64_t h = 0; h < 16; h += 8) {
          const float* src[8];
          for (int j = 0; j < 8; ++j) src[j] = taps(kp * 16 + h + j, cb * 8);
          for (int64_t q = 0; q < 8 * RS; q += 8) {
            __m256 rr[8], o[8];
            for (int j = 0; j < 8; ++j) rr[j] = _mm256_loadu_ps(src[j] + q);
            transpose8(rr, o);
            for (int m = 0; m < 8; ++m) _mm256_store_ps(dst + off[q + m] + h, o[m]);
          }
        }
        continue;
      }
      // Flipped: the 16 filters of channel c are contiguous, [16 k][RS taps]:
      // 8x8 transposes of 8 filters x 8 taps, the last RS % 8 taps one by one.
      for (int64_t c = 0; c < 8; ++c) {
        const float* t0 = taps(kp * 16, cb * 8 + c);
        float* d = dst + c * 16;
        for (int64_t h = 0; h < 16; h += 8) {
          const float* t = t0 + h * RS;
          int64_t q = 0;
          for (; q + 8 <= RS; q += 8) {
            __m256 rr[8], o[8];
            for (int j = 0; j < 8; ++j) rr[j] = _mm256_loadu_ps(t + j * RS + q);
            transpose8(rr, o);
            for (int m = 0; m < 8; ++m) _mm256_store_ps(d + off[q + m] + h, o[m]);
          }
          for (; q < RS; ++q)
            for (int j = 0; j < 8; ++j) d[off[q] + h + j] = t[j * RS + q];
        }
      }
      continue;
    }
    for (int64_t c = 0; c < 8; ++c) {
      const int64_t cc = cb * 8 + c;
      const float* t[16];
      for (int64_t k = 0; k < nk && cc < g.C; ++k) t[k] = taps(kp * 16 + k, cc);
      for (int64_t rs = 0; rs < RS; ++rs) {
        float* d = dst + (rs * 8 + c) * 16;
        const int64_t tap = kFlip ? RS - 1 - rs : rs;
        for (int64_t k = 0; k < 16; ++k) d[k] = k < nk && cc < g.C ? t[k][tap] : 0.f;
      }
    }
  }
}

// tile [NP, 16] = the 16 output channels of block wk at the NP pixels whose
// input windows start at xs[0..NP) (each xb[b, 0, oh, ow, 0]).
template <int NP>
inline void direct_micro(const float* const* xs, const float* wk, const Conv2dGeom& g,
                         const Direct& L, float* tile) {
  __m256 a0[NP], a1[NP];
  for (int p = 0; p < NP; ++p) a0[p] = a1[p] = _mm256_setzero_ps();
  const float* xp[NP];
  for (int p = 0; p < NP; ++p) xp[p] = xs[p];
  const int64_t plane = L.Hp * L.Wp * 8, row = L.Wp * 8;
  for (int64_t cb = 0; cb < L.Cb; ++cb) {
    for (int64_t r = 0; r < g.R; ++r) {
      const int64_t off_r = cb * plane + r * row;
      for (int64_t s = 0; s < g.S; ++s) {
        const int64_t off = off_r + s * 8;
#pragma GCC unroll 8
        for (int c = 0; c < 8; ++c) {
          const __m256 w0 = _mm256_load_ps(wk), w1 = _mm256_load_ps(wk + 8);
          wk += 16;
          for (int p = 0; p < NP; ++p) {
            const __m256 v = _mm256_broadcast_ss(xp[p] + off + c);
            a0[p] = _mm256_fmadd_ps(v, w0, a0[p]);
            a1[p] = _mm256_fmadd_ps(v, w1, a1[p]);
          }
        }
      }
    }
  }
  for (int p = 0; p < NP; ++p) {
    _mm256_store_ps(tile + p * 16, a0[p]);
    _mm256_store_ps(tile + p * 16 + 8, a1[p]);
  }
}

// direct_micro<6> in inline assembly. GCC (12) compiles the intrinsics of
// the generic version at NP = 6 (12 accumulators, 2 weights and 1 broadcast:
// 15 of the 16 ymm registers) with register-to-register moves, stack spills
// and weight loads folded into the FMAs. One asm block is one tap (cb, r, s):
// load the 6 pixel pointers into r8-r13, then for each of the 8 input
// channels c load its 16 weights and, per pixel, broadcast the input value
// at pointer + off + c and FMA it into the pixel's two accumulators.
#define SIRS_V9_PIX(R, A0, A1, XO)                      \
  "vbroadcastss " #XO "(%%" #R ",%[off],4), %%ymm15\n\t" \
  "vfmadd231ps %%ymm13, %%ymm15, %[" #A0 "]\n\t"        \
  "vfmadd231ps %%ymm14, %%ymm15, %[" #A1 "]\n\t"
#define SIRS_V9_STEP(WO, XO)                                                               \
  "vmovaps " #WO "(%[w]), %%ymm13\n\t"                                                    \
  "vmovaps " #WO "+32(%[w]), %%ymm14\n\t" SIRS_V9_PIX(r8, a00, a01, XO)                   \
      SIRS_V9_PIX(r9, a10, a11, XO) SIRS_V9_PIX(r10, a20, a21, XO)                          \
          SIRS_V9_PIX(r11, a30, a31, XO) SIRS_V9_PIX(r12, a40, a41, XO)                     \
              SIRS_V9_PIX(r13, a50, a51, XO)

template <>
inline void direct_micro<6>(const float* const* xs, const float* wk, const Conv2dGeom& g,
                            const Direct& L, float* tile) {
  __m256 a00 = _mm256_setzero_ps(), a01 = a00, a10 = a00, a11 = a00, a20 = a00, a21 = a00,
         a30 = a00, a31 = a00, a40 = a00, a41 = a00, a50 = a00, a51 = a00;
  const int64_t plane = L.Hp * L.Wp * 8, row = L.Wp * 8;
  for (int64_t cb = 0; cb < L.Cb; ++cb) {
    for (int64_t r = 0; r < g.R; ++r) {
      for (int64_t s = 0; s < g.S; ++s, wk += 128) {
        const int64_t off = cb * plane + r * row + s * 8;  // floats
        __asm__(
            "mov 0(%[xs]), %%r8\n\t"
            "mov 8(%[xs]), %%r9\n\t"
            "mov 16(%[xs]), %%r10\n\t"
            "mov 24(%[xs]), %%r11\n\t"
            "mov 32(%[xs]), %%r12\n\t"
            "mov 40(%[xs]), %%r13\n\t" SIRS_V9_STEP(0, 0) SIRS_V9_STEP(64, 4)
                SIRS_V9_STEP(128, 8) SIRS_V9_STEP(192, 12) SIRS_V9_STEP(256, 16)
                    SIRS_V9_STEP(320, 20) SIRS_V9_STEP(384, 24) SIRS_V9_STEP(448, 28)
            : [a00] "+x"(a00), [a01] "+x"(a01), [a10] "+x"(a10), [a11] "+x"(a11),
              [a20] "+x"(a20), [a21] "+x"(a21), [a30] "+x"(a30), [a31] "+x"(a31),
              [a40] "+x"(a40), [a41] "+x"(a41), [a50] "+x"(a50), [a51] "+x"(a51)
            : [w] "r"(wk), [xs] "r"(xs), [off] "r"(off)
            : "r8", "r9", "r10", "r11", "r12", "r13", "xmm13", "xmm14", "xmm15", "memory");
      }
    }
  }
  _mm256_store_ps(tile + 0, a00);
  _mm256_store_ps(tile + 8, a01);
  _mm256_store_ps(tile + 16, a10);
  _mm256_store_ps(tile + 24, a11);
  _mm256_store_ps(tile + 32, a20);
  _mm256_store_ps(tile + 40, a21);
  _mm256_store_ps(tile + 48, a30);
  _mm256_store_ps(tile + 56, a31);
  _mm256_store_ps(tile + 64, a40);
  _mm256_store_ps(tile + 72, a41);
  _mm256_store_ps(tile + 80, a50);
  _mm256_store_ps(tile + 88, a51);
}
#undef SIRS_V9_STEP
#undef SIRS_V9_PIX

// y[yoff[j] + k*P] = tile[j, k] + bias[k] + beta * (same), j < ng, k < nk.
// Runs of 8 pixels that are adjacent in y (the same image) go through an 8x8
// register transpose: 8 vector stores per 8 channels instead of 64 scalars.
inline void direct_store(const float* tile, const int64_t* yoff, int64_t ng, int64_t nk,
                         int64_t P, const float* bias, float beta, float* y) {
  int64_t j = 0;
  for (; j + 8 <= ng && yoff[j + 7] - yoff[j] == 7; j += 8) {
    for (int64_t h = 0; h < nk; h += 8) {
      __m256 r[8], o[8];
      for (int i = 0; i < 8; ++i) r[i] = _mm256_load_ps(tile + (j + i) * 16 + h);
      transpose8(r, o);
      for (int64_t k = 0; k < std::min<int64_t>(8, nk - h); ++k) {
        float* dst = y + (h + k) * P + yoff[j];
        __m256 v = o[k];
        if (bias) v = _mm256_add_ps(v, _mm256_set1_ps(bias[h + k]));
        if (beta != 0.f) v = _mm256_fmadd_ps(_mm256_set1_ps(beta), _mm256_loadu_ps(dst), v);
        _mm256_storeu_ps(dst, v);
      }
    }
  }
  for (; j < ng; ++j)
    for (int64_t k = 0; k < nk; ++k) {
      float& dst = y[k * P + yoff[j]];
      const float v = tile[j * 16 + k] + (bias ? bias[k] : 0.f);
      dst = beta == 0.f ? v : v + beta * dst;
    }
}

// How direct_conv splits the work (g in forward form). Pixel bands: the
// B*Ho*Wo output pixels are cut into bands that threads take one at a time
// and walk once per output-channel block kp, with the whole packed filter
// wb shared. Channel split (by_k): threads take output-channel blocks kp
// instead, pack that block's filter into an L2-sized buffer of their own
// and walk all pixels with it.
struct DirectPlan {
  int64_t nt, band, nbands;
  bool by_k;
};

DirectPlan direct_plan(const Conv2dGeom& g, const Direct& L) {
  const int64_t N = g.B * g.Ho * g.Wo, wblock = L.Cb * g.R * g.S * 128;
  const int64_t nt = std::max<int64_t>(1, std::min<int64_t>(omp_get_max_threads(), N / 64));
  // Pixels per band: every block kp walks one band before the next band
  // starts, so the band's input rows (about kDirectBandBytes) stay in L2
  // across blocks while each block's weights come once per band.
  const int64_t rows = std::max<int64_t>(1, kDirectBandBytes / (L.Cb * L.Wp * 32) - (g.R - 1));
  const int64_t big = ((N + nt - 1) / nt + 5) / 6 * 6;  // one band per thread
  const int64_t band =
      std::min(big, std::max(kDirectGroup, rows * g.Wo / kDirectGroup * kDirectGroup));
  if (wblock * 4 <= kDirectBigWeights) return {nt, band, (N + band - 1) / band, false};
  // Large weight blocks (above kDirectBigWeights: C > 280 at 3x3; 288 KiB
  // at 512, most of L2) are read once per thread at most. With pixel bands
  // that meant one band per thread (512 channels at 8x8, single thread: 30
  // vs 38-42 ms for 48-pixel bands; 2 threads: 35 vs 39-50 ms for 2 bands
  // per thread), every thread reading all of wb. The channel split reads the
  // filter once in all, from w itself (no 9.4 MB wb written and read back at
  // 512 channels), for the same input traffic (each thread walks all pixels
  // for half the blocks instead of half the pixels for all blocks). It
  // needs a few blocks per thread to balance; otherwise one band per thread.
  if (L.Kp >= 2 * nt) return {nt, N, 1, true};
  return {nt, big, (N + big - 1) / big, false};
}

// Output pixels [m0, m1) of y [B, K, Ho, Wo] = conv(xb, wk) + bias + beta * y
// for output-channel blocks [kp0, kp1), block kp's filter at wk + (kp - kp0)
// * wblock; g in forward form. xs[n]: pixel n's input window in xb, yoff[n]:
// its offset in y at channel 0.
void direct_pixels(const Conv2dGeom& g, const Direct& L, int64_t m0, int64_t m1, int64_t kp0,
                   int64_t kp1, const float* wk, const float* const* xs, const int64_t* yoff,
                   const float* bias, float beta, float* y) {
  const int64_t P = g.Ho * g.Wo, wblock = L.Cb * g.R * g.S * 128;
  alignas(64) float tile[kDirectGroup * 16];
  for (int64_t kp = kp0; kp < kp1; ++kp, wk += wblock) {
    const int64_t nk = std::min<int64_t>(16, g.K - kp * 16);
    for (int64_t n0 = m0; n0 < m1; n0 += kDirectGroup) {
      const int64_t ng = std::min(kDirectGroup, m1 - n0);
      const float* const* x0 = xs + n0;
      int64_t i = 0;
      for (; i + kDirectPix <= ng; i += kDirectPix)
        direct_micro<6>(x0 + i, wk, g, L, tile + i * 16);
      switch (ng - i) {
        case 1: direct_micro<1>(x0 + i, wk, g, L, tile + i * 16); break;
        case 2: direct_micro<2>(x0 + i, wk, g, L, tile + i * 16); break;
        case 3: direct_micro<3>(x0 + i, wk, g, L, tile + i * 16); break;
        case 4: direct_micro<4>(x0 + i, wk, g, L, tile + i * 16); break;
        case 5: direct_micro<5>(x0 + i, wk, g, L, tile + i * 16); break;
        default: break;
      }
      direct_store(tile, yoff + n0, ng, nk, P, bias ? bias + kp * 16 : nullptr, beta,
                   y + kp * 16 * P);
    }
  }
}

// Filter blocks per pack item (about 32 KiB of wb) and pixels per index
// item: few items next to the work, still split evenly over the threads.
constexpr int64_t kDirectPackBlockBytes = 32 << 10;
constexpr int64_t kDirectIndexPixels = 1024;

// y [B, K, Ho, Wo] = conv(x, w) + bias + beta * y, g in forward form, x
// [B, C, H, W]; taps(k, c) as in direct_pack_weights. The packs (filter,
// input, pixel index) and then the compute run on one set of threads
// (parallel_phases); with the channel split the filter is packed block by
// block inside the compute phase instead.
template <bool kFlip, class F>
void direct_conv(const Conv2dGeom& g, const F& taps, const float* x, const float* bias, float beta,
                 float* y) {
  const Direct L = direct_layout(g);
  const DirectPlan D = direct_plan(g, L);
  const int64_t N = g.B * g.Ho * g.Wo, P = g.Ho * g.Wo, wblock = L.Cb * g.R * g.S * 128;
  float* xb = aligned_workspace(0, g.B * L.Cb * L.Hp * L.Wp * 8);
  // Band split: wb [Kp, Cb, R, S, 8, 16]; channel split: one block per thread.
  float* wb = aligned_workspace(2, D.by_k ? D.nt * wblock : L.Kp * wblock);
  const float** xs = workspace<const float*>(0, N);
  int64_t* yoff = workspace<int64_t>(0, N);
  const int64_t nblocks = L.Kp * L.Cb;
  const int64_t per = std::max<int64_t>(1, kDirectPackBlockBytes / (g.R * g.S * 512));
  const int64_t nw = D.by_k ? 0 : (nblocks + per - 1) / per, ni = g.B * L.Cb;
  const int64_t nx = (N + kDirectIndexPixels - 1) / kDirectIndexPixels;
  parallel_phases(
      D.nt, nw + ni + nx,
      [&](int64_t i, int64_t) {
        if (i < nw) {
          direct_pack_weights<kFlip>(g, L, taps, i * per, std::min(nblocks, (i + 1) * per), 0, wb);
        } else if (i < nw + ni) {
          direct_pack_input(g, L, x, i - nw, xb);
        } else {
          const int64_t n0 = (i - nw - ni) * kDirectIndexPixels;
          for (int64_t n = n0; n < std::min(N, n0 + kDirectIndexPixels); ++n) {
            const int64_t b = n / P, p = n % P, oh = p / g.Wo, ow = p % g.Wo;
            xs[n] = xb + ((b * L.Cb * L.Hp + oh) * L.Wp + ow) * 8;
            yoff[n] = b * g.K * P + p;
          }
        }
      },
      D.by_k ? L.Kp : D.nbands,
      [&](int64_t j, int64_t t) {
        if (!D.by_k) {
          const int64_t m0 = j * D.band;
          direct_pixels(g, L, m0, std::min(N, m0 + D.band), 0, L.Kp, wb, xs, yoff, bias, beta, y);
          return;
        }
        // Block row j in direct_weight_block's order: i = j*Cb + cb forward, cb*Kp + j flipped.
        float* wk = wb + t * wblock;
        if (kFlip) {
          for (int64_t cb = 0; cb < L.Cb; ++cb)
            direct_pack_weights<kFlip>(g, L, taps, cb * L.Kp + j, cb * L.Kp + j + 1, j, wk);
        } else {
          direct_pack_weights<kFlip>(g, L, taps, j * L.Cb, (j + 1) * L.Cb, j, wk);
        }
        direct_pixels(g, L, 0, N, j, j + 1, wk, xs, yoff, bias, beta, y);
      });
}

void forward_direct(const Conv2dGeom& g, const float* x, const float* w, const float* bias,
                    float beta, float* y) {
  const int64_t C = g.C, RS = g.R * g.S;
  direct_conv<false>(
      g, [&](int64_t k, int64_t c) { return w + (k * C + c) * RS; }, x, bias, beta, y);
}

// Backward data as the forward of dy with w'[c, k, r', s'] = w[k, c, R-1-r', S-1-s'],
// padding R-1-ph, S-1-pw (see backward_data_flipped).
void backward_data_direct(const Conv2dGeom& g, const float* dy, const float* w, float beta,
                          float* dx) {
  Conv2dGeom t = g;
  t.C = g.K, t.H = g.Ho, t.W = g.Wo;
  t.K = g.C, t.Ho = g.H, t.Wo = g.W;
  t.pad_h = g.R - 1 - g.pad_h;
  t.pad_w = g.S - 1 - g.pad_w;
  const int64_t C = g.C, RS = g.R * g.S;
  // Filter (c, k) of the transposed problem is w[k, c], taps reversed.
  direct_conv<true>(
      t, [&](int64_t c, int64_t k) { return w + (k * C + c) * RS; }, dy, nullptr, beta, dx);
}
#endif  // SIRS_CONV_V9

// --------------------------------------------------------------- version 10
// Backward filter for stride 1, dilation 1, float, AVX2+FMA builds, with its
// own micro-kernel instead of im2col + sgemm:
//   dw[k, t] = sum_{b, oh, ow} dy[b, k, oh, ow] * xp[b, c, oh + r, ow + s]
// for every tap t = (c*R + r)*S + s, on two copies made first:
//   xp  [B, C, Hp, Wp]      the input with its zero padding written out
//                           (Hp = H + 2 ph, Wp = W + 2 pw), planar
//   dyp [B, Kp, P, 16]      dy with 16 output channels per pixel side by side,
//                           zero past K (Kp = ceil(K/16), P = Ho*Wo)
// The micro-kernel keeps a 6 taps x 16 output channels tile of dw in 12 ymm
// accumulators and, for every output pixel, loads the pixel's 16 dy values
// (2 vectors) and broadcasts the 6 input values the taps read: 12 FMAs per 2
// loads + 6 broadcasts, as version 9's forward kernel, but with the long
// reduction over B*Ho*Wo pixels in the inner loop (the one sgemm splits
// poorly over threads: dw is only [K, C*R*S], 64 x 576 at the first stage).
// Pixels are walked in chunks of whole output rows (kBwdwChunkPix pixels:
// their dyp block, 16 KiB, stays in L1 while every tap group of the item
// passes over it); the tile goes through dwp [Kp, C*R*S, 16] between chunks.
// Work items are (output-channel block, range of tap groups): each item owns
// its part of dw outright and sums its pixels in one fixed order, so there
// are no partial sums to combine and the result has the same bits for every
// thread count and schedule. The item writes its part of dw back (transposed
// to KCRS, with beta), and the items of tap range 0 also dbias.
#ifdef SIRS_CONV_V9
constexpr int64_t kBwdwChunkPix = 256;  // pixels per chunk: 16 KiB of dyp
constexpr int64_t kBwdwTaps = 6;        // taps per micro-kernel tile
constexpr int64_t kBwdwMinItems = 16;   // items to aim for (load balance)

// tile [NT, 16] (+)= sum over nrows output rows i and their Wo pixels ow of
// dyr[i][ow*16 .. +16] * xr[i][toff[t] + ow]. first: start from 0, not tile.
template <int NT>
void bwdw_micro(const float* const* xr, const float* const* dyr, int64_t nrows, int64_t Wo,
                const int64_t* toff, int64_t dyoff, bool first, float* tile) {
  __m256 acc[NT][2];
#pragma GCC unroll 6
  for (int t = 0; t < NT; ++t) {
    acc[t][0] = first ? _mm256_setzero_ps() : _mm256_load_ps(tile + t * 16);
    acc[t][1] = first ? _mm256_setzero_ps() : _mm256_load_ps(tile + t * 16 + 8);
  }
  for (int64_t i = 0; i < nrows; ++i) {
    const float* d = dyr[i] + dyoff;
    const float* xt[NT];
#pragma GCC unroll 6
    for (int t = 0; t < NT; ++t) xt[t] = xr[i] + toff[t];
    for (int64_t ow = 0; ow < Wo; ++ow, d += 16) {
      const __m256 d0 = _mm256_load_ps(d), d1 = _mm256_load_ps(d + 8);
#pragma GCC unroll 6
      for (int t = 0; t < NT; ++t) {
        const __m256 v = _mm256_broadcast_ss(xt[t] + ow);
        acc[t][0] = _mm256_fmadd_ps(d0, v, acc[t][0]);
        acc[t][1] = _mm256_fmadd_ps(d1, v, acc[t][1]);
      }
    }
  }
#pragma GCC unroll 6
  for (int t = 0; t < NT; ++t) {
    _mm256_store_ps(tile + t * 16, acc[t][0]);
    _mm256_store_ps(tile + t * 16 + 8, acc[t][1]);
  }
}

// Plane i = b*C + c of xp [B, C, Hp, Wp] from x [B, C, H, W].
void bwdw_pack_input(const Conv2dGeom& g, const float* x, int64_t i, float* xp) {
  const int64_t Hp = g.H + 2 * g.pad_h, Wp = g.W + 2 * g.pad_w;
  const float* src = x + i * g.H * g.W;
  float* dst = xp + i * Hp * Wp;
  std::fill(dst, dst + g.pad_h * Wp, 0.f);
  dst += g.pad_h * Wp;
  for (int64_t h = 0; h < g.H; ++h, dst += Wp, src += g.W) {
    std::fill(dst, dst + g.pad_w, 0.f);
    std::memcpy(dst + g.pad_w, src, sizeof(float) * g.W);
    std::fill(dst + g.pad_w + g.W, dst + Wp, 0.f);
  }
  std::fill(dst, dst + g.pad_h * Wp, 0.f);
}

// Block i = b*Kp + kp of dyp [B, Kp, P, 16] from dy [B, K, P]: 8 x 8 register
// transposes where 16 channels and 8 pixels are there, scalar elsewhere.
void bwdw_pack_dy(const Conv2dGeom& g, const float* dy, int64_t i, int64_t Kp, float* dyp) {
  const int64_t P = g.Ho * g.Wo, b = i / Kp, k0 = (i % Kp) * 16;
  const float* src = dy + (b * g.K + k0) * P;
  float* dst = dyp + i * P * 16;
  int64_t p = 0;
  if (k0 + 16 <= g.K) {
    for (; p + 8 <= P; p += 8) {
      for (int64_t half = 0; half < 2; ++half) {
        __m256 r[8], o[8];
        for (int j = 0; j < 8; ++j) r[j] = _mm256_loadu_ps(src + (half * 8 + j) * P + p);
        transpose8(r, o);
        for (int j = 0; j < 8; ++j) _mm256_store_ps(dst + (p + j) * 16 + half * 8, o[j]);
      }
    }
  }
  for (; p < P; ++p)
    for (int64_t kk = 0; kk < 16; ++kk) dst[p * 16 + kk] = k0 + kk < g.K ? src[kk * P + p] : 0.f;
}

// bwdw_micro<n> for n taps, n = 1 .. kBwdwTaps.
using BwdwMicro = void (*)(const float* const*, const float* const*, int64_t, int64_t,
                           const int64_t*, int64_t, bool, float*);
constexpr BwdwMicro kBwdwMicro[kBwdwTaps + 1] = {nullptr,       bwdw_micro<1>, bwdw_micro<2>,
                                                 bwdw_micro<3>, bwdw_micro<4>, bwdw_micro<5>,
                                                 bwdw_micro<6>};

void backward_filter_direct(const Conv2dGeom& g, const float* x, const float* dy, float beta,
                            float* dw, float* dbias) {
  const int64_t Hp = g.H + 2 * g.pad_h, Wp = g.W + 2 * g.pad_w, P = g.Ho * g.Wo;
  const int64_t Kp = (g.K + 15) / 16, T = g.C * g.R * g.S, ng = (T + kBwdwTaps - 1) / kBwdwTaps;
  const int64_t rows = g.B * g.Ho, chunk = std::max<int64_t>(1, kBwdwChunkPix / g.Wo);
  // Tap groups of one output-channel block split into nsplit ranges so that
  // there are about kBwdwMinItems items.
  const int64_t nsplit = std::min(ng, std::max<int64_t>(1, (kBwdwMinItems + Kp - 1) / Kp));
  float* xp = aligned_workspace(0, g.B * g.C * Hp * Wp);
  float* dyp = aligned_workspace(1, g.B * Kp * P * 16);
  float* dwp = aligned_workspace(2, Kp * ng * kBwdwTaps * 16);
  int64_t* toff = workspace<int64_t>(0, ng * kBwdwTaps);
  const float** xr = workspace<const float*>(0, 2 * rows);
  const float** dyr = xr + rows;
  for (int64_t t = 0; t < ng * kBwdwTaps; ++t) {
    const int64_t c = t / (g.R * g.S), r = t / g.S % g.R, s = t % g.S;
    toff[t] = t < T ? (c * Hp + r) * Wp + s : 0;  // past T: any valid address, result unused
  }
  for (int64_t i = 0; i < rows; ++i) {
    const int64_t b = i / g.Ho, oh = i % g.Ho;
    xr[i] = xp + (b * g.C * Hp + oh) * Wp;
    dyr[i] = dyp + (b * Kp * P + oh * g.Wo) * 16;
  }
  // Input planes packed in groups of about 16 KiB.
  const int64_t per = std::max<int64_t>(1, 4096 / (Hp * Wp));
  const int64_t nx = (g.B * g.C + per - 1) / per, nd = g.B * Kp;
  const int64_t nt = std::max<int64_t>(1, omp_get_max_threads());
  parallel_phases(
      nt, nx + nd,
      [&](int64_t i, int64_t) {
        if (i < nx) {
          for (int64_t j = i * per; j < std::min(g.B * g.C, (i + 1) * per); ++j)
            bwdw_pack_input(g, x, j, xp);
        } else {
          bwdw_pack_dy(g, dy, i - nx, Kp, dyp);
        }
      },
      Kp * nsplit,
      [&](int64_t j, int64_t) {
        const int64_t kp = j / nsplit, part = j % nsplit;
        const int64_t g0 = ng * part / nsplit, g1 = ng * (part + 1) / nsplit;
        float* tiles = dwp + kp * ng * kBwdwTaps * 16;
        for (int64_t r0 = 0; r0 < rows; r0 += chunk) {
          const int64_t nr = std::min(chunk, rows - r0);
          for (int64_t gi = g0; gi < g1; ++gi) {
            const int64_t* to = toff + gi * kBwdwTaps;
            float* tile = tiles + gi * kBwdwTaps * 16;
            const int64_t nt_here = std::min(kBwdwTaps, T - gi * kBwdwTaps);
            const float* const* xa = xr + r0;
            const float* const* da = dyr + r0;
            const int64_t off = kp * P * 16;
            kBwdwMicro[nt_here](xa, da, nr, g.Wo, to, off, r0 == 0, tile);
          }
        }
        // dw[k, t] for this block's k and this item's taps, KCRS, with beta.
        const int64_t t0 = g0 * kBwdwTaps, t1 = std::min(T, g1 * kBwdwTaps);
        for (int64_t k = kp * 16; k < std::min(g.K, kp * 16 + 16); ++k) {
          float* out = dw + k * T;
          const float* in = tiles + (k - kp * 16);
          for (int64_t t = t0; t < t1; ++t)
            out[t] = beta == 0.f ? in[t * 16] : in[t * 16] + beta * out[t];
          if (dbias && part == 0) {
            float acc = 0;
            for (int64_t b = 0; b < g.B; ++b) {
              const float* p = dy + (b * g.K + k) * P;
              for (int64_t q = 0; q < P; ++q) acc += p[q];
            }
            dbias[k] = beta == 0.f ? acc : acc + beta * dbias[k];
          }
        }
      });
}
#endif  // SIRS_CONV_V9

}  // namespace

template <class T>
void conv2d_forward_cpu(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T beta, T* y,
                        int version) {
  if (version == 0) return forward_v0(g, x, w, bias, beta, y);
  if (version == 7 && shifted_applies(g)) return forward_shifted(g, x, w, bias, beta, y);
  if (version == 8) {
    if (winograd_applies(g) && g.B > 0) return forward_winograd(g, x, w, bias, beta, y);
    version = 4;
  }
  if (version == 10) version = 9;  // version 10 differs only in backward filter
  if (version == 9) {
#ifdef SIRS_CONV_V9
    if constexpr (std::is_same_v<T, float>)
      if (direct_applies(g)) return forward_direct(g, x, w, bias, beta, y);
#endif
    version = 4;
  }
  forward_gemm(g, x, w, bias, beta, y, version);
}

template <class T>
void conv2d_backward_data_cpu(const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx,
                              int version) {
  if (version == 0) return backward_data_v0(g, dy, w, beta, dx);
  if (version == 7 && shifted_applies(g) && g.B > 0)
    return backward_data_shifted(g, dy, w, beta, dx);
  if (version == 8) {
    if (winograd_applies(g) && g.B > 0) return backward_data_winograd(g, dy, w, beta, dx);
    version = 4;
  }
  if (version == 10) version = 9;
  if (version == 9) {
#ifdef SIRS_CONV_V9
    // The flipped filter's padding R-1-ph must not be negative.
    if constexpr (std::is_same_v<T, float>)
      if (direct_applies(g) && g.pad_h <= g.R - 1 && g.pad_w <= g.S - 1)
        return backward_data_direct(g, dy, w, beta, dx);
#endif
    version = 4;
  }
  if (version >= 4 && flipped_backward_data_applies(g))
    return backward_data_flipped(g, dy, w, beta, dx, version);
  backward_data_gemm(g, dy, w, beta, dx, version);
}

template <class T>
void conv2d_backward_filter_cpu(const Conv2dGeom& g, const T* x, const T* dy, T beta, T* dw,
                                T* dbias, int version) {
  if (version == 0) return backward_filter_v0(g, x, dy, beta, dw, dbias);
  if (version == 10) {
#ifdef SIRS_CONV_V9
    if constexpr (std::is_same_v<T, float>)
      if (direct_applies(g)) return backward_filter_direct(g, x, dy, beta, dw, dbias);
#endif
    version = 4;
  }
  if (version == 8 || version == 9) version = 4;
  if (version == 7 && shifted_applies(g) && g.B > 0)
    return backward_filter_shifted(g, x, dy, beta, dw, dbias);
  backward_filter_gemm(g, x, dy, beta, dw, dbias, version);
}

#define SIRS_INSTANTIATE(T)                                                                    \
  template void conv2d_forward_cpu<T>(const Conv2dGeom&, const T*, const T*, const T*, T, T*, \
                                      int);                                                    \
  template void conv2d_backward_data_cpu<T>(const Conv2dGeom&, const T*, const T*, T, T*, int); \
  template void conv2d_backward_filter_cpu<T>(const Conv2dGeom&, const T*, const T*, T, T*, T*, \
                                              int);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
