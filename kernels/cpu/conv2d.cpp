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
// our threads and OpenBLAS's per call. Version 4 (live) is version 3 with
// backward data for stride 1 computed as a forward convolution of dy (see
// backward_data_flipped). Version 5 is version 4 with equal chunks capped at
// 16 MiB of col so im2col's output is still in L3 when the GEMM reads it (not
// promoted: no clear gain in the measurements, docs/PERF.md).
//
// Threads: the GEMMs are OpenBLAS (its own pthreads). im2col, col2im,
// gathers and scatters run on short-lived std::threads (parallel_for below
// says why not OpenMP). Version 0 is serial on purpose: it only checks the
// others (tests, bench), and an OpenMP region there would leave libgomp
// workers spinning into the next version's GEMM.
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

#include <algorithm>
#include <cstring>
#include <thread>
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

// Thread-local scratch that only grows. slot 0: col/dcol, slot 1: Y/dY
// gather, slot 2: the flipped filter of version 4's backward data.
template <class T>
T* workspace(int slot, int64_t n) {
  thread_local std::vector<T> buf[3];
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
// The data-movement loops of versions 1-4 (im2col, col2im, gathers) run on
// short-lived std::threads rather than in OpenMP regions, because each of
// them is followed by an OpenBLAS GEMM on OpenBLAS's own pthreads: libgomp's
// idle workers keep spinning after a region ends (GOMP_SPINCOUNT, several ms
// of PAUSE loops on this CPU) and take a core from the GEMM. Measured on the
// 2-core box: the whole conv ran at 1-thread speed that way (docs/PERF.md).
// Starting a thread costs tens of microseconds against milliseconds of work.
template <class F>
void parallel_for(int64_t n, int64_t work, const F& body) {
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

template <class T>
void scale(T* p, int64_t n, T beta) {
  if (beta == T(1)) return;
  for (int64_t i = 0; i < n; ++i) p[i] = beta == T(0) ? T(0) : beta * p[i];
}

// col [C*R*S, nb*P] from images b0 .. b0+nb-1 of x.
template <class T>
void im2col(const Conv2dGeom& g, const T* x, int64_t b0, int64_t nb, T* col) {
  const int64_t P = g.Ho * g.Wo, CRS = g.C * g.R * g.S, ld = nb * P;
  parallel_for(CRS * nb, CRS * ld, [&](int64_t i) {
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
void col2im(const Conv2dGeom& g, const T* dcol, int64_t b0, int64_t nb, T beta, T* dx) {
  const int64_t P = g.Ho * g.Wo, ld = nb * P, HW = g.H * g.W;
  parallel_for(nb * g.C, g.C * g.R * g.S * ld, [&](int64_t i) {
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
};

// Smallest P = Ho*Wo for which version 3 uses per-image GEMMs.
constexpr int64_t kPerImageMinP = 1024;

Plan make_plan(const Conv2dGeom& g, int version) {
  if (version == 1) return {1, true};
  // Version 4 lowers like version 3; version 5 in cache-sized chunks.
  const int64_t per_image = g.C * g.R * g.S * g.Ho * g.Wo;
  const int64_t cap = version >= 5 ? kCacheColElems : kMaxColElems;
  int64_t nb = std::max<int64_t>(1, std::min<int64_t>(g.B, cap / std::max<int64_t>(per_image, 1)));
  // Version 5: equal chunks (a divisor of B), not e.g. 7 + 1.
  while (version >= 5 && g.B % nb != 0) --nb;
  return {nb, nb == 1 || (version >= 3 && g.Ho * g.Wo >= kPerImageMinP)};
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
    im2col(g, x, b0, nb, col);
    if (plan.per_image) {
      // y = bias + beta * y first, so the GEMMs can accumulate into it.
      T gemm_beta = beta;
      if (bias) {
        parallel_for(nb * g.K, g.K * ld, [&](int64_t i) {
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
    parallel_for(nb * g.K, g.K * ld, [&](int64_t i) {
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
void gather_dy(const Conv2dGeom& g, const T* dy, int64_t b0, int64_t nb, T* dyg) {
  const int64_t P = g.Ho * g.Wo, ld = nb * P;
  parallel_for(g.K * nb, g.K * ld, [&](int64_t i) {
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
      gather_dy(g, dy, b0, nb, dyg);
      gemm_cpu<T>(true, false, CRS, ld, g.K, T(1), w, CRS, dyg, ld, T(0), dcol, ld);
    }
    col2im(g, dcol, b0, nb, beta, dx);
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
  parallel_for(g.C * g.K, g.K * g.C * RS, [&](int64_t i) {
    const int64_t c = i / g.K, k = i % g.K;
    for (int64_t rs = 0; rs < RS; ++rs) wf[i * RS + rs] = w[(k * g.C + c) * RS + RS - 1 - rs];
  });
  Conv2dGeom t = g;
  t.C = g.K, t.H = g.Ho, t.W = g.Wo;
  t.K = g.C, t.Ho = g.H, t.Wo = g.W;
  t.pad_h = g.dil_h * (g.R - 1) - g.pad_h;
  t.pad_w = g.dil_w * (g.S - 1) - g.pad_w;
  forward_gemm<T>(t, dy, wf, nullptr, beta, dx, version == 4 ? 3 : version);
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
    im2col(g, x, b0, nb, col);
    if (plan.per_image) {
      for (int64_t bi = 0; bi < nb; ++bi)
        gemm_cpu<T>(false, true, g.K, CRS, P, T(1), dy + (b0 + bi) * g.K * P, P, col + bi * P, ld,
                    b0 + bi == 0 ? beta : T(1), dw, CRS);
    } else {
      gather_dy(g, dy, b0, nb, dyg);
      gemm_cpu<T>(false, true, g.K, CRS, ld, T(1), dyg, ld, col, ld, b0 == 0 ? beta : T(1), dw,
                  CRS);
    }
  }
  if (dbias) {
    parallel_for(g.K, g.B * g.K * P, [&](int64_t k) {
      T acc = 0;
      for (int64_t b = 0; b < g.B; ++b) {
        const T* p = dy + (b * g.K + k) * P;
        for (int64_t i = 0; i < P; ++i) acc += p[i];
      }
      dbias[k] = beta == T(0) ? acc : acc + beta * dbias[k];
    });
  }
}

}  // namespace

template <class T>
void conv2d_forward_cpu(const Conv2dGeom& g, const T* x, const T* w, const T* bias, T beta, T* y,
                        int version) {
  if (version == 0) return forward_v0(g, x, w, bias, beta, y);
  forward_gemm(g, x, w, bias, beta, y, version);
}

template <class T>
void conv2d_backward_data_cpu(const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx,
                              int version) {
  if (version == 0) return backward_data_v0(g, dy, w, beta, dx);
  if (version >= 4 && flipped_backward_data_applies(g))
    return backward_data_flipped(g, dy, w, beta, dx, version);
  backward_data_gemm(g, dy, w, beta, dx, version);
}

template <class T>
void conv2d_backward_filter_cpu(const Conv2dGeom& g, const T* x, const T* dy, T beta, T* dw,
                                T* dbias, int version) {
  if (version == 0) return backward_filter_v0(g, x, dy, beta, dw, dbias);
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
