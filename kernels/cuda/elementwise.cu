// Elementwise kernels on CUDA (contract: kernels/elementwise.h; launchers:
// kernels/cuda/elementwise_cuda.h; reference: kernels/cpu/elementwise.cpp).
//
//   binary:      out[i] = a[i] op b[i]           op in + - * /
//   compare:     out[i] = a[i] cmp b[i]          uint8 0/1
//   where:       out[i] = cond[i] ? a[i] : b[i]
//   add_inplace: dst[i] += alpha * src[i]        scale_inplace: x[i] *= s
//   unary:       y[i] = f(x[i])                  dx[i] = dy[i] * f'(x[i])
//
// Each op is a small functor holding the math written exactly as the CPU
// writes it (same expressions, same NaN behaviour: clamp keeps NaN, relu and
// the masks of the derivatives send it to 0), run by one of a few generic
// kernels. The launcher picks the kernel on the host:
//   1. The operands' dims (the output's among them) are coalesced as on the
//      CPU: size-1 dims dropped, a dim merged into the one inside it when
//      every operand steps across both as one run. Same-shape contiguous
//      operands become one dim; so does x + scalar.
//   2. Flat path, map<K>_flat_kernel_v1: one dim left, output stride 1 and
//      every input stride 1 (contiguous) or 0 (one value broadcast
//      everywhere: a 0-d tensor, the scalar forms). Each thread moves
//      16-byte vectors (float4 / double2 / 16 x uint8 worth of elements,
//      V = 16 / widest element) when every contiguous pointer is aligned to
//      its vector, else one element at a time (V = 1, the same kernel);
//      the last n % V elements are a scalar tail. This is the path that has
//      to reach the copy bandwidth.
//   2b. Row path, map2_rows_kernel_v2 (binary ops): the innermost dim is
//      contiguous in the output and contiguous or broadcast in each input
//      (a [C, 1, 1] bias on [B, C, H, W]): row offsets decoded once per
//      block and row, the row run with vector loads, several per thread
//      (first GPU run: the strided path reached 26 % of copy bandwidth on
//      this case; v1 of the row path 53 %).
//   3. Strided path, map<K>_strided_kernel_v1: anything else (broadcast
//      rows such as [B, C] + [C], permuted or sliced views, strided in-place
//      destinations). Every thread decodes its flat index once, dividing by
//      the (coalesced, so few) dims, and reuses each quotient for all
//      operands' offsets. Below 2^31 elements the division is in 32 bits,
//      several times cheaper than the 64-bit one; offsets stay int64.
// Comparisons take the op at run time (a uniform branch, cheaper than
// instantiating 5 ops x 5 dtypes x 4 kernels); arithmetic and unary ops are
// template parameters. One version of each kernel is kept, the live one (v1; the row path v2).
//
// Tests: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CudaElementwise*'
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/elementwise_cuda.h"
#include "kernels/cuda/launch.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;

// ------------------------------------------------------------ device math

__device__ __forceinline__ float dev_exp(float x) { return expf(x); }
__device__ __forceinline__ double dev_exp(double x) { return exp(x); }
__device__ __forceinline__ float dev_log(float x) { return logf(x); }
__device__ __forceinline__ double dev_log(double x) { return log(x); }
__device__ __forceinline__ float dev_sqrt(float x) { return sqrtf(x); }
__device__ __forceinline__ double dev_sqrt(double x) { return sqrt(x); }
__device__ __forceinline__ float dev_abs(float x) { return fabsf(x); }
__device__ __forceinline__ double dev_abs(double x) { return fabs(x); }
__device__ __forceinline__ float dev_tanh(float x) { return tanhf(x); }
__device__ __forceinline__ double dev_tanh(double x) { return tanh(x); }
__device__ __forceinline__ float dev_pow(float x, float p) { return powf(x, p); }
__device__ __forceinline__ double dev_pow(double x, double p) { return pow(x, p); }

// ------------------------------------------------------------ op functors

template <BinaryOp Op, class T>
struct BinaryFn {
  __device__ __forceinline__ T operator()(T u, T v) const {
    if constexpr (Op == BinaryOp::Add) return u + v;
    else if constexpr (Op == BinaryOp::Sub) return u - v;
    else if constexpr (Op == BinaryOp::Mul) return u * v;
    else return u / v;
  }
};

template <class T>
struct CompareFn {
  CompareOp op;
  __device__ __forceinline__ uint8_t operator()(T u, T v) const {
    switch (op) {
      case CompareOp::Gt: return u > v;
      case CompareOp::Lt: return u < v;
      case CompareOp::Ge: return u >= v;
      case CompareOp::Le: return u <= v;
      case CompareOp::Eq: return u == v;
    }
    return 0;
  }
};

template <class T>
struct WhereFn {
  __device__ __forceinline__ T operator()(uint8_t c, T u, T v) const { return c != 0 ? u : v; }
};

template <class T>
struct AxpyFn {  // d + alpha * s
  T alpha;
  __device__ __forceinline__ T operator()(T d, T s) const { return d + alpha * s; }
};

template <class T>
struct ScaleFn {
  T s;
  __device__ __forceinline__ T operator()(T v) const { return v * s; }
};

template <UnaryOp Op, class T>
struct UnaryFn {
  T p0, p1;
  __device__ __forceinline__ T operator()(T v) const {
    if constexpr (Op == UnaryOp::Neg) return -v;
    else if constexpr (Op == UnaryOp::Exp) return dev_exp(v);
    else if constexpr (Op == UnaryOp::Log) return dev_log(v);
    else if constexpr (Op == UnaryOp::Sqrt) return dev_sqrt(v);
    else if constexpr (Op == UnaryOp::Abs) return dev_abs(v);
    else if constexpr (Op == UnaryOp::Relu) return v > T(0) ? v : T(0);
    // 1 / (1 + e^-x) as on the CPU: e^-x overflowing to inf gives exactly 0.
    else if constexpr (Op == UnaryOp::Sigmoid) return T(1) / (T(1) + dev_exp(-v));
    else if constexpr (Op == UnaryOp::Tanh) return dev_tanh(v);
    else if constexpr (Op == UnaryOp::Pow) return dev_pow(v, p0);
    else {
      // std::min(std::max(v, p0), p1) spelled out: fmin/fmax would drop a
      // NaN input, std::max/min (and so the CPU) keep it.
      T lo = v < p0 ? p0 : v;
      return p1 < lo ? p1 : lo;
    }
  }
};

template <class T>
struct SquareFn {  // pow with exponent 2, as the CPU special-cases it
  __device__ __forceinline__ T operator()(T v) const { return v * v; }
};

template <class T>
struct NegFn {  // d(-x) = -1
  __device__ __forceinline__ T operator()(T g) const { return -g; }
};

template <class T>
struct ZeroFn {  // d(x^0) = 0, even where dy or x is NaN or x = 0
  __device__ __forceinline__ T operator()(T) const { return T(0); }
};

// dx = g * f'(.) where v is x or y as the contract says for Op.
template <UnaryOp Op, class T>
struct UnaryGradFn {
  T p0, p1;
  __device__ __forceinline__ T operator()(T g, T v) const {
    if constexpr (Op == UnaryOp::Exp) return g * v;
    else if constexpr (Op == UnaryOp::Log) return g / v;
    else if constexpr (Op == UnaryOp::Sqrt) return g / (T(2) * v);
    else if constexpr (Op == UnaryOp::Abs) return v > T(0) ? g : (v < T(0) ? -g : T(0));
    else if constexpr (Op == UnaryOp::Relu) return v > T(0) ? g : T(0);
    else if constexpr (Op == UnaryOp::Sigmoid) return g * v * (T(1) - v);
    else if constexpr (Op == UnaryOp::Tanh) return g * (T(1) - v * v);
    else if constexpr (Op == UnaryOp::Pow) return g * p0 * dev_pow(v, p0 - T(1));
    else return (v >= p0 && v <= p1) ? g : T(0);  // Clamp
  }
};

// ------------------------------------------------------------ flat path

// V elements moved as one aligned load/store (ld.global.v4.f32 for float).
template <class T, int V>
struct alignas(sizeof(T) * V) Vec {
  T v[V];
};

// A flat-path input: contiguous (element i at p[i]), or one value at p[0]
// broadcast to every i.
template <class T>
struct Operand {
  const T* p;
  bool scalar;

  __device__ __forceinline__ T at(int64_t i) const { return p[scalar ? 0 : i]; }

  // Elements i .. i+V-1; p + i is aligned to the vector unless scalar.
  template <int V>
  __device__ __forceinline__ Vec<T, V> load(int64_t i) const {
    if (scalar) {
      Vec<T, V> r;
      const T s = *p;
#pragma unroll
      for (int j = 0; j < V; ++j) r.v[j] = s;
      return r;
    }
    return *reinterpret_cast<const Vec<T, V>*>(p + i);
  }
};

// out[i] = f(a[i]) for i < n: vectors of V by a grid-stride loop, then the
// n % V tail, one element per thread. out may alias a (same index read
// before written by the same thread).
template <int V, class F, class O, class A>
static __global__ void map1_flat_kernel_v1(F f, O* out,  // [n]
                                           Operand<A> a,  // [n] or scalar
                                           int64_t n) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t nvec = n / V;
  for (int64_t k = first; k < nvec; k += step) {
    const Vec<A, V> va = a.template load<V>(k * V);
    Vec<O, V> vo;
#pragma unroll
    for (int j = 0; j < V; ++j) vo.v[j] = f(va.v[j]);
    *reinterpret_cast<Vec<O, V>*>(out + k * V) = vo;
  }
  for (int64_t i = nvec * V + first; i < n; i += step) out[i] = f(a.at(i));
}

template <int V, class F, class O, class A, class B>
static __global__ void map2_flat_kernel_v1(F f, O* out,  // [n]
                                           Operand<A> a,  // [n] or scalar
                                           Operand<B> b,  // [n] or scalar
                                           int64_t n) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t nvec = n / V;
  for (int64_t k = first; k < nvec; k += step) {
    const Vec<A, V> va = a.template load<V>(k * V);
    const Vec<B, V> vb = b.template load<V>(k * V);
    Vec<O, V> vo;
#pragma unroll
    for (int j = 0; j < V; ++j) vo.v[j] = f(va.v[j], vb.v[j]);
    *reinterpret_cast<Vec<O, V>*>(out + k * V) = vo;
  }
  for (int64_t i = nvec * V + first; i < n; i += step) out[i] = f(a.at(i), b.at(i));
}

template <int V, class F, class O, class A, class B, class C>
static __global__ void map3_flat_kernel_v1(F f, O* out,  // [n]
                                           Operand<A> a,  // [n] or scalar
                                           Operand<B> b,  // [n] or scalar
                                           Operand<C> c,  // [n] or scalar
                                           int64_t n) {
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  const int64_t nvec = n / V;
  for (int64_t k = first; k < nvec; k += step) {
    const Vec<A, V> va = a.template load<V>(k * V);
    const Vec<B, V> vb = b.template load<V>(k * V);
    const Vec<C, V> vc = c.template load<V>(k * V);
    Vec<O, V> vo;
#pragma unroll
    for (int j = 0; j < V; ++j) vo.v[j] = f(va.v[j], vb.v[j], vc.v[j]);
    *reinterpret_cast<Vec<O, V>*>(out + k * V) = vo;
  }
  for (int64_t i = nvec * V + first; i < n; i += step) out[i] = f(a.at(i), b.at(i), c.at(i));
}

// ------------------------------------------------------------ strided path

// The views of N operands over one coalesced shape; v[0] is the output.
// Every v[k] holds the same shape.
template <int N>
struct Views {
  CudaStrided v[N];
};

// Element offsets of flat index i (row-major over the shape) in each of the
// N views. I is the index type of the division: uint32_t when every index
// is below 2^31, uint64_t otherwise.
template <class I, int N>
__device__ __forceinline__ void view_offsets(const Views<N>& w, int64_t i, int64_t (&off)[N]) {
#pragma unroll
  for (int k = 0; k < N; ++k) off[k] = 0;
  I rest = static_cast<I>(i);
  const int ndim = w.v[0].ndim;
  // Innermost dim first. The loop runs over every possible dim and skips
  // those past ndim, so after unrolling each array index is a constant and
  // the views are read straight from the kernel parameters (a dynamic index
  // could make the compiler copy them to local memory).
#pragma unroll
  for (int d = kCudaMaxDims - 1; d >= 0; --d) {
    if (d < ndim) {
      const I s = static_cast<I>(w.v[0].shape[d]);
      const I q = rest / s;
      const int64_t r = static_cast<int64_t>(rest - q * s);
#pragma unroll
      for (int k = 0; k < N; ++k) off[k] += r * w.v[k].strides[d];
      rest = q;
    }
  }
}

template <class I, class F, class O, class A>
static __global__ void map1_strided_kernel_v1(F f, O* out,  // [shape] via w.v[0]
                                              const A* a,   // [shape] via w.v[1]
                                              Views<2> w, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[2];
    view_offsets<I>(w, i, off);
    out[off[0]] = f(a[off[1]]);
  }
}

template <class I, class F, class O, class A, class B>
static __global__ void map2_strided_kernel_v1(F f, O* out,  // [shape] via w.v[0]
                                              const A* a,   // [shape] via w.v[1]
                                              const B* b,   // [shape] via w.v[2]
                                              Views<3> w, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[3];
    view_offsets<I>(w, i, off);
    out[off[0]] = f(a[off[1]], b[off[2]]);
  }
}

template <class I, class F, class O, class A, class B, class C>
static __global__ void map3_strided_kernel_v1(F f, O* out,  // [shape] via w.v[0]
                                              const A* a,   // [shape] via w.v[1]
                                              const B* b,   // [shape] via w.v[2]
                                              const C* c,   // [shape] via w.v[3]
                                              Views<4> w, int64_t n) {
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    int64_t off[4];
    view_offsets<I>(w, i, off);
    out[off[0]] = f(a[off[1]], b[off[2]], c[off[3]]);
  }
}

// ------------------------------------------------------------ row path
// Binary ops whose innermost coalesced dim is contiguous in the output and
// contiguous or broadcast (stride 0) in each input, with outer dims in any
// layout: [B, C, H*W] + [C, 1] (a per-channel bias), [N, D] * [N, 1].
// blockIdx.y walks the rows (the outer index space) and gridDim.x blocks
// share a row; each row's three base offsets are decoded once per block
// and row (32-bit division: rows < 2^31), and the row runs like the flat
// path (vector loads, broadcast operands loaded once) with kRowUnroll
// vectors per thread loaded before any is stored. `outer` holds the views
// of the outer dims only. v1 had one vector per thread and one block per
// 256 vectors of a row, each thread decoding the row in 64-bit divisions:
// 53 % of the copy bandwidth for [32, 64, 112, 112] + [64, 1, 1] on an
// H200 (1.14x PyTorch's time).
constexpr int kRowUnroll = 4;

template <int V, class F, class O, class A, class B>
static __global__ void map2_rows_kernel_v2(F f, O* out,  // [rows, inner] via outer.v[0]
                                           const A* a,   // [rows, inner] via outer.v[1]
                                           const B* b,   // [rows, inner] via outer.v[2]
                                           Views<3> outer, int64_t rows, int64_t inner,
                                           bool a_bcast, bool b_bcast) {
  const int64_t nvec = inner / V;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  const int64_t step = static_cast<int64_t>(gridDim.x) * blockDim.x;
  for (int64_t r = blockIdx.y; r < rows; r += gridDim.y) {
    int64_t off[3];
    view_offsets<uint32_t>(outer, r, off);
    O* po = out + off[0];
    const Operand<A> pa{a + off[1], a_bcast};
    const Operand<B> pb{b + off[2], b_bcast};
    for (int64_t k0 = first; k0 < nvec; k0 += kRowUnroll * step) {
      Vec<A, V> va[kRowUnroll];
      Vec<B, V> vb[kRowUnroll];
#pragma unroll
      for (int u = 0; u < kRowUnroll; ++u) {
        const int64_t k = k0 + u * step;
        if (k < nvec) {
          va[u] = pa.template load<V>(k * V);
          vb[u] = pb.template load<V>(k * V);
        }
      }
#pragma unroll
      for (int u = 0; u < kRowUnroll; ++u) {
        const int64_t k = k0 + u * step;
        if (k < nvec) {
          Vec<O, V> vo;
#pragma unroll
          for (int j = 0; j < V; ++j) vo.v[j] = f(va[u].v[j], vb[u].v[j]);
          *reinterpret_cast<Vec<O, V>*>(po + k * V) = vo;
        }
      }
    }
    for (int64_t i = nvec * V + first; i < inner; i += step) po[i] = f(pa.at(i), pb.at(i));
  }
}

// ------------------------------------------------------------ host side

// The iteration space of N operands (operand 0 the output) after
// coalescing: shape and strides[k], innermost dim last, at least one dim.
template <int N>
struct Coalesced {
  std::vector<int64_t> shape;
  std::array<std::vector<int64_t>, N> strides;
};

template <int N>
Coalesced<N> coalesce(const int64_t* shape, int ndim,
                      const std::array<const int64_t*, N>& strides) {
  Coalesced<N> c;
  for (int d = ndim - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (!c.shape.empty()) {
      // Dim d merges into the (already merged) dim inside it when one step
      // along d is, for every operand, a full sweep of the inner dim.
      bool merge = true;
      for (int k = 0; k < N; ++k)
        merge = merge && strides[k][d] == c.strides[k].back() * c.shape.back();
      if (merge) {
        c.shape.back() *= shape[d];
        continue;
      }
    }
    c.shape.push_back(shape[d]);
    for (int k = 0; k < N; ++k) c.strides[k].push_back(strides[k][d]);
  }
  if (c.shape.empty()) {  // every dim 1: one element
    c.shape.push_back(1);
    for (int k = 0; k < N; ++k) c.strides[k].push_back(0);
  }
  std::reverse(c.shape.begin(), c.shape.end());
  for (int k = 0; k < N; ++k) std::reverse(c.strides[k].begin(), c.strides[k].end());
  return c;
}

int64_t numel(const int64_t* shape, int ndim) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  return n;
}

std::vector<int64_t> row_major_strides(const int64_t* shape, int ndim) {
  std::vector<int64_t> s(static_cast<size_t>(ndim > 0 ? ndim : 1), 1);
  for (int d = ndim - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

// One dim, output stride 1 and every input stride 1 or 0 (or one element).
template <int N>
bool is_flat(const Coalesced<N>& c) {
  if (c.shape.size() != 1) return false;
  if (c.shape[0] == 1) return true;
  if (c.strides[0][0] != 1) return false;
  for (int k = 1; k < N; ++k)
    if (c.strides[k][0] != 0 && c.strides[k][0] != 1) return false;
  return true;
}

template <int N>
Views<N> pack_views(const Coalesced<N>& c, const char* op) {
  Views<N> w;
  int nd = static_cast<int>(c.shape.size());
  for (int k = 0; k < N; ++k)
    w.v[k] = make_cuda_strided(c.shape.data(), c.strides[k].data(), nd, op);
  return w;
}

template <class T>
Operand<T> flat_operand(const T* p, int64_t stride) {
  return Operand<T>{p, stride == 0};
}

// Vector width: 16 bytes of the widest element type.
template <class A, class B = A, class C = A, class D = A>
constexpr int vec_width() {
  size_t m = sizeof(A);
  if (sizeof(B) > m) m = sizeof(B);
  if (sizeof(C) > m) m = sizeof(C);
  if (sizeof(D) > m) m = sizeof(D);
  return static_cast<int>(16 / m);
}

template <class T>
bool vec_aligned(const T* p, int v) {
  return reinterpret_cast<uintptr_t>(p) % (sizeof(T) * static_cast<size_t>(v)) == 0;
}

template <class T>
bool vec_ok(const Operand<T>& a, int v) {
  return a.scalar || vec_aligned(a.p, v);
}

bool index_fits_32(int64_t n) { return n <= std::numeric_limits<int32_t>::max(); }

// The row path applies: at least two dims, an innermost dim long enough to
// fill vectors (>= 32 elements), contiguous in the output and contiguous or
// broadcast in every input.
template <int N>
bool is_rows(const Coalesced<N>& c) {
  if (c.shape.size() < 2 || c.shape.back() < 32 || c.strides[0].back() != 1) return false;
  for (int k = 1; k < N; ++k)
    if (c.strides[k].back() != 0 && c.strides[k].back() != 1) return false;
  return true;
}

// p + (any row's offset) is aligned to V elements.
template <class T>
bool rows_aligned(const T* p, const std::vector<int64_t>& outer_strides, int v) {
  if (!vec_aligned(p, v)) return false;
  for (int64_t st : outer_strides)
    if (st % v != 0) return false;
  return true;
}

// out = f(a) over a coalesced layout (operands: out, a).
template <class F, class O, class A>
void run1(F f, O* out, const A* a, const Coalesced<2>& it, const char* op, cudaStream_t stream) {
  int64_t n = numel(it.shape.data(), static_cast<int>(it.shape.size()));
  if (is_flat(it)) {
    Operand<A> oa = flat_operand(a, it.strides[1][0]);
    constexpr int V = vec_width<O, A>();
    if (vec_aligned(out, V) && vec_ok(oa, V))
      map1_flat_kernel_v1<V><<<cuda_blocks(n / V, kThreads), kThreads, 0, stream>>>(f, out, oa, n);
    else
      map1_flat_kernel_v1<1><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(f, out, oa, n);
  } else {
    Views<2> w = pack_views(it, op);
    if (index_fits_32(n))
      map1_strided_kernel_v1<uint32_t><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
          f, out, a, w, n);
    else
      map1_strided_kernel_v1<uint64_t><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
          f, out, a, w, n);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// out = f(a, b) over a coalesced layout (operands: out, a, b).
template <class F, class O, class A, class B>
void run2(F f, O* out, const A* a, const B* b, const Coalesced<3>& it, const char* op,
          cudaStream_t stream) {
  int64_t n = numel(it.shape.data(), static_cast<int>(it.shape.size()));
  if (is_flat(it)) {
    Operand<A> oa = flat_operand(a, it.strides[1][0]);
    Operand<B> ob = flat_operand(b, it.strides[2][0]);
    constexpr int V = vec_width<O, A, B>();
    if (vec_aligned(out, V) && vec_ok(oa, V) && vec_ok(ob, V))
      map2_flat_kernel_v1<V><<<cuda_blocks(n / V, kThreads), kThreads, 0, stream>>>(
          f, out, oa, ob, n);
    else
      map2_flat_kernel_v1<1><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(f, out, oa, ob, n);
  } else if (is_rows(it) && index_fits_32(n / it.shape.back())) {  // row index in 32 bits
    // Outer dims alone: the views minus the innermost dim.
    Coalesced<3> outer = it;
    const int64_t inner = outer.shape.back();
    outer.shape.pop_back();
    for (auto& st : outer.strides) st.pop_back();
    const int64_t rows = n / inner;
    const bool a_bcast = it.strides[1].back() == 0, b_bcast = it.strides[2].back() == 0;
    Views<3> w = pack_views(outer, op);
    constexpr int V = vec_width<O, A, B>();
    // Vector loads need every row start aligned: the base pointer and every
    // outer stride of each contiguous-row operand a multiple of V.
    bool vec = inner % V == 0 && rows_aligned(out, outer.strides[0], V);
    vec = vec && (a_bcast || rows_aligned(a, outer.strides[1], V));
    vec = vec && (b_bcast || rows_aligned(b, outer.strides[2], V));
    // Blocks per row: each thread gets about kRowUnroll vectors (at least
    // one block; at most 1024, the rest looped).
    const int64_t per_row = vec ? inner / V : inner;
    const int64_t per_block = int64_t{kThreads} * kRowUnroll;
    const dim3 grid(static_cast<unsigned>(std::clamp<int64_t>(per_row / per_block, 1, 1024)),
                    static_cast<unsigned>(std::min<int64_t>(rows, 65535)));
    if (vec)
      map2_rows_kernel_v2<V><<<grid, kThreads, 0, stream>>>(f, out, a, b, w, rows, inner, a_bcast,
                                                            b_bcast);
    else
      map2_rows_kernel_v2<1><<<grid, kThreads, 0, stream>>>(f, out, a, b, w, rows, inner, a_bcast,
                                                            b_bcast);
  } else {
    Views<3> w = pack_views(it, op);
    if (index_fits_32(n))
      map2_strided_kernel_v1<uint32_t><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
          f, out, a, b, w, n);
    else
      map2_strided_kernel_v1<uint64_t><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
          f, out, a, b, w, n);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// out = f(a, b, c) over a coalesced layout (operands: out, a, b, c).
template <class F, class O, class A, class B, class C>
void run3(F f, O* out, const A* a, const B* b, const C* c, const Coalesced<4>& it, const char* op,
          cudaStream_t stream) {
  int64_t n = numel(it.shape.data(), static_cast<int>(it.shape.size()));
  if (is_flat(it)) {
    Operand<A> oa = flat_operand(a, it.strides[1][0]);
    Operand<B> ob = flat_operand(b, it.strides[2][0]);
    Operand<C> oc = flat_operand(c, it.strides[3][0]);
    constexpr int V = vec_width<O, A, B, C>();
    if (vec_aligned(out, V) && vec_ok(oa, V) && vec_ok(ob, V) && vec_ok(oc, V))
      map3_flat_kernel_v1<V><<<cuda_blocks(n / V, kThreads), kThreads, 0, stream>>>(
          f, out, oa, ob, oc, n);
    else
      map3_flat_kernel_v1<1><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
          f, out, oa, ob, oc, n);
  } else {
    Views<4> w = pack_views(it, op);
    if (index_fits_32(n))
      map3_strided_kernel_v1<uint32_t><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
          f, out, a, b, c, w, n);
    else
      map3_strided_kernel_v1<uint64_t><<<cuda_blocks(n, kThreads), kThreads, 0, stream>>>(
          f, out, a, b, c, w, n);
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

// Contiguous y = f(x), n elements (unary forward).
template <class F, class T>
void run_flat1(F f, T* y, const T* x, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  Coalesced<2> c;
  c.shape = {n};
  c.strides = {std::vector<int64_t>{1}, std::vector<int64_t>{1}};
  run1(f, y, x, c, "unary", stream);
}

// Contiguous out = f(u, v), n elements (unary backward).
template <class F, class T>
void run_flat2(F f, T* out, const T* u, const T* v, int64_t n, cudaStream_t stream) {
  if (n == 0) return;
  Coalesced<3> c;
  c.shape = {n};
  c.strides = {std::vector<int64_t>{1}, std::vector<int64_t>{1}, std::vector<int64_t>{1}};
  run2(f, out, u, v, c, "unary_backward", stream);
}

}  // namespace

// ------------------------------------------------------------ launchers

template <class T>
void binary_forward_cuda(BinaryOp op, T* out, const T* a, const int64_t* a_strides, const T* b,
                         const int64_t* b_strides, const int64_t* shape, int ndim,
                         cudaStream_t stream) {
  if (numel(shape, ndim) == 0) return;
  std::vector<int64_t> os = row_major_strides(shape, ndim);
  Coalesced<3> c = coalesce<3>(shape, ndim, {os.data(), a_strides, b_strides});
  switch (op) {
    case BinaryOp::Add: return run2(BinaryFn<BinaryOp::Add, T>{}, out, a, b, c, "add", stream);
    case BinaryOp::Sub: return run2(BinaryFn<BinaryOp::Sub, T>{}, out, a, b, c, "sub", stream);
    case BinaryOp::Mul: return run2(BinaryFn<BinaryOp::Mul, T>{}, out, a, b, c, "mul", stream);
    case BinaryOp::Div: return run2(BinaryFn<BinaryOp::Div, T>{}, out, a, b, c, "div", stream);
  }
}

template <class T>
void compare_forward_cuda(CompareOp op, uint8_t* out, const T* a, const int64_t* a_strides,
                          const T* b, const int64_t* b_strides, const int64_t* shape, int ndim,
                          cudaStream_t stream) {
  if (numel(shape, ndim) == 0) return;
  std::vector<int64_t> os = row_major_strides(shape, ndim);
  Coalesced<3> c = coalesce<3>(shape, ndim, {os.data(), a_strides, b_strides});
  run2(CompareFn<T>{op}, out, a, b, c, "compare", stream);
}

template <class T>
void where_forward_cuda(T* out, const uint8_t* cond, const int64_t* cond_strides, const T* a,
                        const int64_t* a_strides, const T* b, const int64_t* b_strides,
                        const int64_t* shape, int ndim, cudaStream_t stream) {
  if (numel(shape, ndim) == 0) return;
  std::vector<int64_t> os = row_major_strides(shape, ndim);
  Coalesced<4> c = coalesce<4>(shape, ndim, {os.data(), cond_strides, a_strides, b_strides});
  run3(WhereFn<T>{}, out, cond, a, b, c, "where", stream);
}

template <class T>
void add_inplace_cuda(T* dst, const int64_t* dst_strides, const T* src, const int64_t* src_strides,
                      const int64_t* shape, int ndim, T alpha, cudaStream_t stream) {
  if (numel(shape, ndim) == 0) return;
  // dst is both the output and the first input: dst = dst + alpha * src.
  Coalesced<3> c = coalesce<3>(shape, ndim, {dst_strides, dst_strides, src_strides});
  run2(AxpyFn<T>{alpha}, dst, dst, src, c, "add_", stream);
}

template <class T>
void scale_inplace_cuda(T* x, const int64_t* strides, const int64_t* shape, int ndim, T s,
                        cudaStream_t stream) {
  if (numel(shape, ndim) == 0) return;
  Coalesced<2> c = coalesce<2>(shape, ndim, {strides, strides});
  run1(ScaleFn<T>{s}, x, x, c, "mul_", stream);
}

template <class T>
void unary_forward_cuda(UnaryOp op, T* y, const T* x, int64_t n, T p0, T p1, cudaStream_t stream) {
  switch (op) {
    case UnaryOp::Neg: return run_flat1(UnaryFn<UnaryOp::Neg, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Exp: return run_flat1(UnaryFn<UnaryOp::Exp, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Log: return run_flat1(UnaryFn<UnaryOp::Log, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Sqrt: return run_flat1(UnaryFn<UnaryOp::Sqrt, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Abs: return run_flat1(UnaryFn<UnaryOp::Abs, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Relu: return run_flat1(UnaryFn<UnaryOp::Relu, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Sigmoid: return run_flat1(UnaryFn<UnaryOp::Sigmoid, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Tanh: return run_flat1(UnaryFn<UnaryOp::Tanh, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Pow:
      if (p0 == T(2)) return run_flat1(SquareFn<T>{}, y, x, n, stream);
      return run_flat1(UnaryFn<UnaryOp::Pow, T>{p0, p1}, y, x, n, stream);
    case UnaryOp::Clamp: return run_flat1(UnaryFn<UnaryOp::Clamp, T>{p0, p1}, y, x, n, stream);
  }
}

template <class T>
void unary_backward_cuda(UnaryOp op, T* dx, const T* dy, const T* x, const T* y, int64_t n, T p0,
                         T p1, cudaStream_t stream) {
  switch (op) {
    case UnaryOp::Neg: return run_flat1(NegFn<T>{}, dx, dy, n, stream);
    case UnaryOp::Exp: return run_flat2(UnaryGradFn<UnaryOp::Exp, T>{p0, p1}, dx, dy, y, n, stream);
    case UnaryOp::Log: return run_flat2(UnaryGradFn<UnaryOp::Log, T>{p0, p1}, dx, dy, x, n, stream);
    case UnaryOp::Sqrt:
      return run_flat2(UnaryGradFn<UnaryOp::Sqrt, T>{p0, p1}, dx, dy, y, n, stream);
    case UnaryOp::Abs: return run_flat2(UnaryGradFn<UnaryOp::Abs, T>{p0, p1}, dx, dy, x, n, stream);
    case UnaryOp::Relu:
      return run_flat2(UnaryGradFn<UnaryOp::Relu, T>{p0, p1}, dx, dy, x, n, stream);
    case UnaryOp::Sigmoid:
      return run_flat2(UnaryGradFn<UnaryOp::Sigmoid, T>{p0, p1}, dx, dy, y, n, stream);
    case UnaryOp::Tanh:
      return run_flat2(UnaryGradFn<UnaryOp::Tanh, T>{p0, p1}, dx, dy, y, n, stream);
    case UnaryOp::Pow:
      if (p0 == T(0)) return run_flat1(ZeroFn<T>{}, dx, dy, n, stream);
      return run_flat2(UnaryGradFn<UnaryOp::Pow, T>{p0, p1}, dx, dy, x, n, stream);
    case UnaryOp::Clamp:
      return run_flat2(UnaryGradFn<UnaryOp::Clamp, T>{p0, p1}, dx, dy, x, n, stream);
  }
}

#define SIRS_ELEMENTWISE_CUDA_FLOAT(T)                                                             \
  template void binary_forward_cuda<T>(BinaryOp, T*, const T*, const int64_t*, const T*,           \
                                       const int64_t*, const int64_t*, int, cudaStream_t);         \
  template void add_inplace_cuda<T>(T*, const int64_t*, const T*, const int64_t*, const int64_t*,  \
                                    int, T, cudaStream_t);                                         \
  template void scale_inplace_cuda<T>(T*, const int64_t*, const int64_t*, int, T, cudaStream_t);  \
  template void unary_forward_cuda<T>(UnaryOp, T*, const T*, int64_t, T, T, cudaStream_t);         \
  template void unary_backward_cuda<T>(UnaryOp, T*, const T*, const T*, const T*, int64_t, T, T,   \
                                       cudaStream_t);
SIRS_ELEMENTWISE_CUDA_FLOAT(float)
SIRS_ELEMENTWISE_CUDA_FLOAT(double)
#undef SIRS_ELEMENTWISE_CUDA_FLOAT

#define SIRS_ELEMENTWISE_CUDA_ANY(T)                                                               \
  template void compare_forward_cuda<T>(CompareOp, uint8_t*, const T*, const int64_t*, const T*,   \
                                        const int64_t*, const int64_t*, int, cudaStream_t);        \
  template void where_forward_cuda<T>(T*, const uint8_t*, const int64_t*, const T*,                \
                                      const int64_t*, const T*, const int64_t*, const int64_t*,    \
                                      int, cudaStream_t);
SIRS_ELEMENTWISE_CUDA_ANY(float)
SIRS_ELEMENTWISE_CUDA_ANY(double)
SIRS_ELEMENTWISE_CUDA_ANY(int64_t)
SIRS_ELEMENTWISE_CUDA_ANY(int32_t)
SIRS_ELEMENTWISE_CUDA_ANY(uint8_t)
#undef SIRS_ELEMENTWISE_CUDA_ANY

}  // namespace sirs
