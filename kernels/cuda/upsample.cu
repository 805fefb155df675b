// Bilinear resampling on CUDA (contract and formula: kernels/upsample.h;
// launchers: kernels/cuda/upsample_cuda.h).
//
//   src(o) = align_corners ? o * (In - 1) / (Out - 1)      (0 when Out == 1)
//                          : max((o + 0.5) * In / Out - 0.5, 0)
//   i0 = min(floor(src), In - 1), i1 = min(i0 + 1, In - 1), l1 = src - i0, l0 = 1 - l1
//   out[n,oh,ow] = lh0 (lw0 x[n,ih0,iw0] + lw1 x[n,ih0,iw1])
//                + lh1 (lw0 x[n,ih1,iw0] + lw1 x[n,ih1,iw1])
//   dx[n,h,w]    = beta * dx + sum of dout[n,oh,ow] * (its weight on (h, w))
//
// Layout: N = B * C contiguous planes, x / dx [N, H, W], out / dout [N, OH, OW].
//
// Versions (one each, live):
//   axes_kernel_v1: tabulates both axes into the workspace once per call:
//     per output o, (i0, i1, l0, l1) in double then cast to T, with the
//     CPU's own expressions (so both devices pick the same neighbours); per
//     input i, the range [lo, hi) of outputs that read it, i.e. those with
//     i0(o) in {i - 1, i} (i1 = min(i0 + 1, In - 1) reaches i only from
//     there). i0(o) is monotone in o (every step of src, including IEEE
//     rounding, is monotone), so the range is contiguous; it is found from
//     the inverted formula and then corrected by stepping with the exact
//     i0(o), so rounding in the inversion cannot lose an output.
//   forward_kernel_v1: one thread per output element (flat grid-stride loop,
//     neighbouring threads take neighbouring ow: coalesced stores; the four
//     loads of a warp hit one or two rows).
//   backward_kernel_v1: a gather, one thread per input element, looping over
//     its output rectangle [lo_h, hi_h) x [lo_w, hi_w) and adding each
//     output's weight on it in the CPU's order (per output: (i0,i0), (i0,i1),
//     (i1,i0), (i1,i1)). Chosen over an atomicAdd scatter: deterministic,
//     no contention when upsampling (each input gets ~(2 Out / In)^2
//     contributions, which atomics would serialise on one address), and the
//     same summation order as the CPU. Each dout element is read by at most
//     4 threads, from L1/L2.
// Index arithmetic runs in int32 when every flat index fits (well below
// 2^31, so the grid-stride step cannot overflow), else in int64; table
// entries are int32 (each size must be below 2^31).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CudaUpsample*'
#include <cuda_runtime.h>

#include <cmath>
#include <cstdint>

#include "kernels/cuda/check.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/upsample_cuda.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kInt32Limit = int64_t{1} << 30;

// One axis's tables in the workspace.
template <class T>
struct AxisTables {
  T* l0;        // [Out] weight of i0
  T* l1;        // [Out] weight of i1
  int32_t* i0;  // [Out]
  int32_t* i1;  // [Out]
  int32_t* lo;  // [In] first output that reads this input
  int32_t* hi;  // [In] one past the last
};

struct AxisGeom {
  int64_t in, out;
  double scale;
  bool align_corners;
};

// The CPU's scale (kernels/cpu/upsample.cpp make_axis).
AxisGeom axis_geom(int64_t in, int64_t out, bool align_corners) {
  double scale;
  if (align_corners)
    scale = out > 1 ? static_cast<double>(in - 1) / static_cast<double>(out - 1) : 0.0;
  else
    scale = static_cast<double>(in) / static_cast<double>(out);
  return AxisGeom{in, out, scale, align_corners};
}

// The table and per-element bodies are __host__ __device__ so a host
// program can check their index math against the CPU kernels without a GPU.

// The lower source index of output o and its distance lam to src; the
// CPU's expressions, in double.
__host__ __device__ __forceinline__ int64_t source_index(const AxisGeom& a, int64_t o,
                                                         double* lam) {
  const double src = a.align_corners ? a.scale * static_cast<double>(o)
                                     : fmax(a.scale * (static_cast<double>(o) + 0.5) - 0.5, 0.0);
  int64_t i = static_cast<int64_t>(src);
  if (i > a.in - 1) i = a.in - 1;
  *lam = src - static_cast<double>(i);
  return i;
}

__host__ __device__ __forceinline__ int64_t source_index(const AxisGeom& a, int64_t o) {
  double lam;
  return source_index(a, o, &lam);
}

// First output o in [0, Out] with i0(o) >= t (Out when none): a guess from
// the inverted formula, then exact steps with the monotone i0(o).
__host__ __device__ inline int64_t first_output_at_least(const AxisGeom& a, int64_t t) {
  if (t <= 0) return 0;
  if (t > a.in - 1) return a.out;  // i0 never exceeds In - 1
  double guess;
  if (a.scale <= 0.0)
    guess = static_cast<double>(a.out);  // src is 0 everywhere: i0 = 0 < t
  else if (a.align_corners)
    guess = static_cast<double>(t) / a.scale;
  else
    guess = (static_cast<double>(t) + 0.5) / a.scale - 0.5;
  guess = fmin(fmax(ceil(guess), 0.0), static_cast<double>(a.out));
  int64_t o = static_cast<int64_t>(guess);
  while (o > 0 && source_index(a, o - 1) >= t) --o;
  while (o < a.out && source_index(a, o) < t) ++o;
  return o;
}

// Table entry j of [row outputs | column outputs | row inputs | column inputs].
template <class T>
__host__ __device__ inline void axes_entry(int64_t j, const AxisTables<T>& th, const AxisGeom& gh,
                                           const AxisTables<T>& tw, const AxisGeom& gw) {
  int64_t k = j;
  if (k < gh.out + gw.out) {
    const bool rows = k < gh.out;
    const AxisTables<T>& t = rows ? th : tw;
    const AxisGeom& g = rows ? gh : gw;
    if (!rows) k -= gh.out;
    double lam;
    const int64_t i0 = source_index(g, k, &lam);
    t.i0[k] = static_cast<int32_t>(i0);
    t.i1[k] = static_cast<int32_t>(i0 + 1 < g.in ? i0 + 1 : g.in - 1);
    t.l1[k] = static_cast<T>(lam);
    t.l0[k] = static_cast<T>(1.0 - lam);
  } else {
    k -= gh.out + gw.out;
    const bool rows = k < gh.in;
    const AxisTables<T>& t = rows ? th : tw;
    const AxisGeom& g = rows ? gh : gw;
    if (!rows) k -= gh.in;
    // Outputs with i0(o) in {k - 1, k}.
    t.lo[k] = static_cast<int32_t>(first_output_at_least(g, k - 1));
    t.hi[k] = static_cast<int32_t>(first_output_at_least(g, k + 1));
  }
}

// Output element i = ((n * OH) + oh) * OW + ow.
template <class T, class I>
__host__ __device__ __forceinline__ void bilinear_forward_element(const T* __restrict__ x,
                                                                  T* __restrict__ out,
                                                                  const AxisTables<T>& th,
                                                                  const AxisTables<T>& tw, I i, I H,
                                                                  I W, I OH, I OW) {
  const I ow = i % OW;
  const I t = i / OW;
  const I oh = t % OH;
  const I n = t / OH;
  const T* xp = x + n * H * W;
  const T* r0 = xp + static_cast<I>(th.i0[oh]) * W;
  const T* r1 = xp + static_cast<I>(th.i1[oh]) * W;
  const T lh0 = th.l0[oh], lh1 = th.l1[oh];
  const I w0 = tw.i0[ow], w1 = tw.i1[ow];
  const T lw0 = tw.l0[ow], lw1 = tw.l1[ow];
  out[i] = lh0 * (lw0 * r0[w0] + lw1 * r0[w1]) + lh1 * (lw0 * r1[w0] + lw1 * r1[w1]);
}

// Input element i = ((n * H) + h) * W + w.
template <class T, class I>
__host__ __device__ __forceinline__ void bilinear_backward_element(const T* __restrict__ dout,
                                                                   T* __restrict__ dx,
                                                                   const AxisTables<T>& th,
                                                                   const AxisTables<T>& tw, I i,
                                                                   I H, I W, I OH, I OW, T beta) {
  const I w = i % W;
  const I t = i / W;
  const I h = t % H;
  const I n = t / H;
  const T* gp = dout + n * OH * OW;
  const I oh0 = th.lo[h], oh1 = th.hi[h];
  const I ow0 = tw.lo[w], ow1 = tw.hi[w];
  // beta == 0 must not read dx (it may hold garbage). The CPU scales by T(beta).
  T acc = beta == T(0) ? T(0) : beta * dx[i];
  for (I oh = oh0; oh < oh1; ++oh) {
    const bool top = th.i0[oh] == h, bottom = th.i1[oh] == h;
    const T lh0 = th.l0[oh], lh1 = th.l1[oh];
    const T* grow = gp + oh * OW;
    for (I ow = ow0; ow < ow1; ++ow) {
      const bool left = tw.i0[ow] == w, right = tw.i1[ow] == w;
      const T lw0 = tw.l0[ow], lw1 = tw.l1[ow];
      const T g = grow[ow];
      if (top) {
        if (left) acc += lh0 * lw0 * g;
        if (right) acc += lh0 * lw1 * g;
      }
      if (bottom) {
        if (left) acc += lh1 * lw0 * g;
        if (right) acc += lh1 * lw1 * g;
      }
    }
  }
  dx[i] = acc;
}

template <class T>
static __global__ void upsample_bilinear2d_axes_kernel_v1(AxisTables<T> th, AxisGeom gh,
                                                          AxisTables<T> tw, AxisGeom gw) {
  const int64_t n = gh.out + gw.out + gh.in + gw.in;
  for (int64_t j = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; j < n;
       j += static_cast<int64_t>(gridDim.x) * blockDim.x)
    axes_entry(j, th, gh, tw, gw);
}

template <class T, class I>
static __global__ void upsample_bilinear2d_forward_kernel_v1(const T* __restrict__ x,  // [N, H, W]
                                                             T* __restrict__ out,  // [N, OH, OW]
                                                             AxisTables<T> th, AxisTables<T> tw,
                                                             I total, I H, I W, I OH, I OW) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += step)
    bilinear_forward_element(x, out, th, tw, i, H, W, OH, OW);
}

template <class T, class I>
static __global__ void upsample_bilinear2d_backward_kernel_v1(
    const T* __restrict__ dout,  // [N, OH, OW]
    T* __restrict__ dx,          // [N, H, W]
    AxisTables<T> th, AxisTables<T> tw, I total, I H, I W, I OH, I OW, T beta) {
  const I step = static_cast<I>(gridDim.x) * static_cast<I>(blockDim.x);
  for (I i = static_cast<I>(blockIdx.x) * static_cast<I>(blockDim.x) + static_cast<I>(threadIdx.x);
       i < total; i += step)
    bilinear_backward_element(dout, dx, th, tw, i, H, W, OH, OW, beta);
}

// The workspace carved into the two axes' tables: the T arrays first (the
// allocator's alignment serves double), then the int32 arrays.
template <class T>
void carve(void* workspace, int64_t H, int64_t W, int64_t OH, int64_t OW, AxisTables<T>* th,
           AxisTables<T>* tw) {
  T* f = static_cast<T*>(workspace);
  th->l0 = f;
  th->l1 = f + OH;
  tw->l0 = f + 2 * OH;
  tw->l1 = f + 2 * OH + OW;
  int32_t* p = reinterpret_cast<int32_t*>(f + 2 * (OH + OW));
  th->i0 = p;
  th->i1 = p + OH;
  tw->i0 = p + 2 * OH;
  tw->i1 = p + 2 * OH + OW;
  p += 2 * (OH + OW);
  th->lo = p;
  th->hi = p + H;
  tw->lo = p + 2 * H;
  tw->hi = p + 2 * H + W;
}

// Checks the sizes, carves the workspace and fills the tables on `stream`.
template <class T>
void build_tables(int64_t H, int64_t W, int64_t OH, int64_t OW, bool align_corners, void* workspace,
                  AxisTables<T>* th, AxisTables<T>* tw, cudaStream_t stream) {
  constexpr int64_t kMax = (int64_t{1} << 31) - 1;
  SIRS_CHECK(H > 0 && W > 0 && OH > 0 && OW > 0 && H < kMax && W < kMax && OH < kMax && OW < kMax,
             ShapeError, "upsample_bilinear2d_cuda: sizes must be in [1, 2^31 - 1), got ", H, "x",
             W, " -> ", OH, "x", OW);
  SIRS_CHECK(workspace != nullptr, ValueError, "upsample_bilinear2d_cuda: no workspace");
  carve(workspace, H, W, OH, OW, th, tw);
  const AxisGeom gh = axis_geom(H, OH, align_corners), gw = axis_geom(W, OW, align_corners);
  const int64_t n = OH + OW + H + W;
  upsample_bilinear2d_axes_kernel_v1<T>
      <<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(*th, gh, *tw, gw);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

bool fits_int32(int64_t N, int64_t H, int64_t W, int64_t OH, int64_t OW) {
  return N * H * W < kInt32Limit && N * OH * OW < kInt32Limit;
}

}  // namespace

size_t upsample_bilinear2d_workspace_bytes_cuda(int64_t H, int64_t W, int64_t OH, int64_t OW,
                                                size_t elem_bytes) {
  return static_cast<size_t>(2 * (OH + OW)) * elem_bytes +
         static_cast<size_t>(2 * (OH + OW) + 2 * (H + W)) * sizeof(int32_t);
}

template <class T>
void upsample_bilinear2d_forward_cuda(const T* x, T* out, int64_t N, int64_t H, int64_t W,
                                      int64_t OH, int64_t OW, bool align_corners, void* workspace,
                                      cudaStream_t stream) {
  if (N * OH * OW == 0) return;
  AxisTables<T> th, tw;
  build_tables<T>(H, W, OH, OW, align_corners, workspace, &th, &tw, stream);
  const int64_t total = N * OH * OW;
  const int blocks = cuda_blocks(total, kThreads);
  if (fits_int32(N, H, W, OH, OW)) {
    using I = int32_t;
    upsample_bilinear2d_forward_kernel_v1<T, I><<<blocks, kThreads, 0, stream>>>(
        x, out, th, tw, static_cast<I>(total), static_cast<I>(H), static_cast<I>(W),
        static_cast<I>(OH), static_cast<I>(OW));
  } else {
    upsample_bilinear2d_forward_kernel_v1<T, int64_t>
        <<<blocks, kThreads, 0, stream>>>(x, out, th, tw, total, H, W, OH, OW);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
void upsample_bilinear2d_backward_cuda(const T* dout, T* dx, int64_t N, int64_t H, int64_t W,
                                       int64_t OH, int64_t OW, bool align_corners, double beta,
                                       void* workspace, cudaStream_t stream) {
  if (N * H * W == 0) return;
  AxisTables<T> th, tw;
  build_tables<T>(H, W, OH, OW, align_corners, workspace, &th, &tw, stream);
  const int64_t total = N * H * W;
  const int blocks = cuda_blocks(total, kThreads);
  const T b = static_cast<T>(beta);
  if (fits_int32(N, H, W, OH, OW)) {
    using I = int32_t;
    upsample_bilinear2d_backward_kernel_v1<T, I><<<blocks, kThreads, 0, stream>>>(
        dout, dx, th, tw, static_cast<I>(total), static_cast<I>(H), static_cast<I>(W),
        static_cast<I>(OH), static_cast<I>(OW), b);
  } else {
    upsample_bilinear2d_backward_kernel_v1<T, int64_t>
        <<<blocks, kThreads, 0, stream>>>(dout, dx, th, tw, total, H, W, OH, OW, b);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

#define SIRS_INSTANTIATE(T)                                                                       \
  template void upsample_bilinear2d_forward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t,      \
                                                    int64_t, int64_t, bool, void*, cudaStream_t); \
  template void upsample_bilinear2d_backward_cuda<T>(const T*, T*, int64_t, int64_t, int64_t,     \
                                                     int64_t, int64_t, bool, double, void*,       \
                                                     cudaStream_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
