// Elementwise kernels on the CPU (contract: kernels/elementwise.h).
//
//   binary:  out[i] = a[i] op b[i]     op in + - * /, broadcast by strides
//   compare: out[i] = a[i] cmp b[i]    uint8 0/1
//   where:   out[i] = cond[i] ? a[i] : b[i]
//   unary:   y[i] = f(x[i]),  dx[i] = dy[i] * f'(x[i])
//
// Layouts: operands are strided views of the output shape (stride 0 on
// broadcast dims); outputs are contiguous row-major unless given strides.
// One version of each kernel is live:
//   - same-shape contiguous operands: a flat loop the compiler vectorises,
//     split across OpenMP threads above kParallelWork elements;
//   - anything else: dims are coalesced (size-1 dims dropped, neighbours
//     merged when every operand is contiguous across them), the innermost
//     dim becomes the row, and the row loop is specialised on whether each
//     input has stride 1 or 0 so broadcast rows ([B, C] + [C], x + scalar)
//     vectorise too. Rows (cut into chunks of kChunk) are the parallel unit.
//
// Tests: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Elementwise*'
// Bench: make -j2 build/sirs_bench && ./build/sirs_bench --benchmark_filter='elementwise'
#include "kernels/elementwise.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

namespace sirs {

namespace {

constexpr int64_t kParallelWork = 32768;  // below this, threads cost more than they save
constexpr int64_t kChunk = 16384;         // longest piece of a row one task handles

// The iteration space shared by N operands after coalescing: shape[d] and
// strides[k][d] for operand k, innermost dim last, at least one dim.
template <size_t N>
struct Iter {
  std::vector<int64_t> shape;
  std::array<std::vector<int64_t>, N> strides;
};

template <size_t N>
Iter<N> coalesce(const int64_t* shape, int ndim, const std::array<const int64_t*, N>& strides) {
  Iter<N> it;
  for (int d = ndim - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    if (!it.shape.empty()) {
      // Dim d merges into the dim inside it when, for every operand, one
      // step along d equals a full sweep of the inner dim.
      bool merge = true;
      for (size_t k = 0; k < N; ++k)
        merge = merge && strides[k][d] == it.strides[k].back() * it.shape.back();
      if (merge) {
        it.shape.back() *= shape[d];
        continue;
      }
    }
    it.shape.push_back(shape[d]);
    for (size_t k = 0; k < N; ++k) it.strides[k].push_back(strides[k][d]);
  }
  if (it.shape.empty()) {
    it.shape.push_back(1);
    for (size_t k = 0; k < N; ++k) it.strides[k].push_back(0);
  }
  std::reverse(it.shape.begin(), it.shape.end());
  for (size_t k = 0; k < N; ++k) std::reverse(it.strides[k].begin(), it.strides[k].end());
  return it;
}

// Calls body(offsets, inner_strides, n) for every piece of every innermost
// row: offsets[k] is operand k's element offset of the piece's first
// element, inner_strides[k] its stride along the row, n the piece length.
template <size_t N, class Body>
void for_each_row(const int64_t* shape, int ndim, const std::array<const int64_t*, N>& strides,
                  const Body& body) {
  for (int d = 0; d < ndim; ++d)
    if (shape[d] == 0) return;
  Iter<N> it = coalesce<N>(shape, ndim, strides);
  int nd = static_cast<int>(it.shape.size());
  int64_t inner = it.shape[nd - 1];
  int64_t rows = 1;
  for (int d = 0; d < nd - 1; ++d) rows *= it.shape[d];
  int64_t chunk = std::min(inner, kChunk);
  int64_t per_row = (inner + chunk - 1) / chunk;
  std::array<int64_t, N> inner_strides;
  for (size_t k = 0; k < N; ++k) inner_strides[k] = it.strides[k][nd - 1];
#pragma omp parallel for schedule(static) if (rows * inner > kParallelWork)
  for (int64_t t = 0; t < rows * per_row; ++t) {
    int64_t r = t / per_row, start = (t % per_row) * chunk;
    std::array<int64_t, N> off{};
    for (int d = nd - 2; d >= 0; --d) {
      int64_t i = r % it.shape[d];
      r /= it.shape[d];
      for (size_t k = 0; k < N; ++k) off[k] += i * it.strides[k][d];
    }
    for (size_t k = 0; k < N; ++k) off[k] += start * inner_strides[k];
    body(off, inner_strides, std::min(chunk, inner - start));
  }
}

bool is_contiguous(const int64_t* shape, const int64_t* strides, int ndim) {
  int64_t expect = 1;
  for (int d = ndim - 1; d >= 0; --d) {
    if (shape[d] != 1 && strides[d] != expect) return false;
    expect *= shape[d];
  }
  return true;
}

int64_t numel(const int64_t* shape, int ndim) {
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  return n;
}

std::vector<int64_t> row_major_strides(const int64_t* shape, int ndim) {
  std::vector<int64_t> s(static_cast<size_t>(std::max(ndim, 1)), 1);
  for (int d = ndim - 2; d >= 0; --d) s[d] = s[d + 1] * shape[d + 1];
  return s;
}

// One row o[i*so] = f(a[i*sa], b[i*sb]); the unit/zero stride cases are
// separate loops so each one vectorises.
template <class O, class T, class F>
inline void binary_row(const F& f, O* o, int64_t so, const T* a, int64_t sa, const T* b,
                       int64_t sb, int64_t n) {
  if (so == 1 && sa == 1 && sb == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], b[i]);
  } else if (so == 1 && sa == 1 && sb == 0) {
    const T bv = *b;
    for (int64_t i = 0; i < n; ++i) o[i] = f(a[i], bv);
  } else if (so == 1 && sa == 0 && sb == 1) {
    const T av = *a;
    for (int64_t i = 0; i < n; ++i) o[i] = f(av, b[i]);
  } else {
    for (int64_t i = 0; i < n; ++i) o[i * so] = f(a[i * sa], b[i * sb]);
  }
}

// out = f(a, b) over the broadcast shape, out contiguous.
template <class O, class T, class F>
void binary_map(const F& f, O* out, const T* a, const int64_t* as, const T* b, const int64_t* bs,
                const int64_t* shape, int ndim) {
  int64_t n = numel(shape, ndim);
  if (is_contiguous(shape, as, ndim) && is_contiguous(shape, bs, ndim)) {
#pragma omp parallel for simd schedule(static) if (n > kParallelWork)
    for (int64_t i = 0; i < n; ++i) out[i] = f(a[i], b[i]);
    return;
  }
  std::vector<int64_t> os = row_major_strides(shape, ndim);
  for_each_row<3>(shape, ndim, {os.data(), as, bs},
                  [&](const std::array<int64_t, 3>& off, const std::array<int64_t, 3>& st,
                      int64_t len) {
                    binary_row(f, out + off[0], st[0], a + off[1], st[1], b + off[2], st[2], len);
                  });
}

template <class T, class F>
void unary_map(const F& f, T* y, const T* x, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; ++i) y[i] = f(x[i]);
}

template <class T, class F>
void unary_map2(const F& f, T* out, const T* u, const T* v, int64_t n) {
#pragma omp parallel for simd schedule(static) if (n > kParallelWork)
  for (int64_t i = 0; i < n; ++i) out[i] = f(u[i], v[i]);
}

// 1 / (1 + e^-x) needs no branch on the sign: for very negative x, e^-x
// overflows to inf and the result is exactly 0, and where it does not
// overflow the quotient keeps full relative precision.
template <class T>
inline T sigmoid(T x) {
  return T(1) / (T(1) + std::exp(-x));
}

}  // namespace

template <class T>
void binary_forward_cpu(BinaryOp op, T* out, const T* a, const int64_t* a_strides, const T* b,
                        const int64_t* b_strides, const int64_t* shape, int ndim) {
  switch (op) {
    case BinaryOp::Add:
      return binary_map([](T u, T v) { return u + v; }, out, a, a_strides, b, b_strides, shape, ndim);
    case BinaryOp::Sub:
      return binary_map([](T u, T v) { return u - v; }, out, a, a_strides, b, b_strides, shape, ndim);
    case BinaryOp::Mul:
      return binary_map([](T u, T v) { return u * v; }, out, a, a_strides, b, b_strides, shape, ndim);
    case BinaryOp::Div:
      return binary_map([](T u, T v) { return u / v; }, out, a, a_strides, b, b_strides, shape, ndim);
  }
}

template <class T>
void compare_forward_cpu(CompareOp op, uint8_t* out, const T* a, const int64_t* a_strides,
                         const T* b, const int64_t* b_strides, const int64_t* shape, int ndim) {
  auto run = [&](auto f) { binary_map(f, out, a, a_strides, b, b_strides, shape, ndim); };
  switch (op) {
    case CompareOp::Gt: return run([](T u, T v) -> uint8_t { return u > v; });
    case CompareOp::Lt: return run([](T u, T v) -> uint8_t { return u < v; });
    case CompareOp::Ge: return run([](T u, T v) -> uint8_t { return u >= v; });
    case CompareOp::Le: return run([](T u, T v) -> uint8_t { return u <= v; });
    case CompareOp::Eq: return run([](T u, T v) -> uint8_t { return u == v; });
  }
}

template <class T>
void where_forward_cpu(T* out, const uint8_t* cond, const int64_t* cond_strides, const T* a,
                       const int64_t* a_strides, const T* b, const int64_t* b_strides,
                       const int64_t* shape, int ndim) {
  std::vector<int64_t> os = row_major_strides(shape, ndim);
  for_each_row<4>(shape, ndim, {os.data(), cond_strides, a_strides, b_strides},
                  [&](const std::array<int64_t, 4>& off, const std::array<int64_t, 4>& st,
                      int64_t n) {
                    T* o = out + off[0];
                    const uint8_t* c = cond + off[1];
                    const T* pa = a + off[2];
                    const T* pb = b + off[3];
                    for (int64_t i = 0; i < n; ++i)
                      o[i * st[0]] = c[i * st[1]] ? pa[i * st[2]] : pb[i * st[3]];
                  });
}

template <class T>
void add_inplace_cpu(T* dst, const int64_t* dst_strides, const T* src, const int64_t* src_strides,
                     const int64_t* shape, int ndim, T alpha) {
  for_each_row<2>(shape, ndim, {dst_strides, src_strides},
                  [&](const std::array<int64_t, 2>& off, const std::array<int64_t, 2>& st,
                      int64_t n) {
                    T* d = dst + off[0];
                    const T* s = src + off[1];
                    if (st[0] == 1 && st[1] == 1) {
                      for (int64_t i = 0; i < n; ++i) d[i] += alpha * s[i];
                    } else {
                      for (int64_t i = 0; i < n; ++i) d[i * st[0]] += alpha * s[i * st[1]];
                    }
                  });
}

template <class T>
void scale_inplace_cpu(T* x, const int64_t* strides, const int64_t* shape, int ndim, T s) {
  for_each_row<1>(shape, ndim, {strides},
                  [&](const std::array<int64_t, 1>& off, const std::array<int64_t, 1>& st,
                      int64_t n) {
                    T* p = x + off[0];
                    if (st[0] == 1) {
                      for (int64_t i = 0; i < n; ++i) p[i] *= s;
                    } else {
                      for (int64_t i = 0; i < n; ++i) p[i * st[0]] *= s;
                    }
                  });
}

template <class T>
void unary_forward_cpu(UnaryOp op, T* y, const T* x, int64_t n, T p0, T p1) {
  switch (op) {
    case UnaryOp::Neg: return unary_map([](T v) { return -v; }, y, x, n);
    case UnaryOp::Exp: return unary_map([](T v) { return std::exp(v); }, y, x, n);
    case UnaryOp::Log: return unary_map([](T v) { return std::log(v); }, y, x, n);
    case UnaryOp::Sqrt: return unary_map([](T v) { return std::sqrt(v); }, y, x, n);
    case UnaryOp::Abs: return unary_map([](T v) { return std::abs(v); }, y, x, n);
    case UnaryOp::Relu: return unary_map([](T v) { return v > T(0) ? v : T(0); }, y, x, n);
    case UnaryOp::Sigmoid: return unary_map([](T v) { return sigmoid(v); }, y, x, n);
    case UnaryOp::Tanh: return unary_map([](T v) { return std::tanh(v); }, y, x, n);
    case UnaryOp::Pow:
      if (p0 == T(2)) return unary_map([](T v) { return v * v; }, y, x, n);
      return unary_map([p0](T v) { return std::pow(v, p0); }, y, x, n);
    case UnaryOp::Clamp:
      // max then min keeps NaN (std::max(NaN, lo) returns its first argument).
      return unary_map([p0, p1](T v) { return std::min(std::max(v, p0), p1); }, y, x, n);
  }
}

template <class T>
void unary_backward_cpu(UnaryOp op, T* dx, const T* dy, const T* x, const T* y, int64_t n, T p0,
                        T p1) {
  switch (op) {
    case UnaryOp::Neg: return unary_map([](T g) { return -g; }, dx, dy, n);
    case UnaryOp::Exp: return unary_map2([](T g, T v) { return g * v; }, dx, dy, y, n);
    case UnaryOp::Log: return unary_map2([](T g, T v) { return g / v; }, dx, dy, x, n);
    case UnaryOp::Sqrt: return unary_map2([](T g, T v) { return g / (T(2) * v); }, dx, dy, y, n);
    case UnaryOp::Abs:
      return unary_map2([](T g, T v) { return v > T(0) ? g : (v < T(0) ? -g : T(0)); }, dx, dy, x, n);
    case UnaryOp::Relu:
      return unary_map2([](T g, T v) { return v > T(0) ? g : T(0); }, dx, dy, x, n);
    case UnaryOp::Sigmoid:
      return unary_map2([](T g, T v) { return g * v * (T(1) - v); }, dx, dy, y, n);
    case UnaryOp::Tanh: return unary_map2([](T g, T v) { return g * (T(1) - v * v); }, dx, dy, y, n);
    case UnaryOp::Pow:
      // x^0 is constant: its derivative is 0 even at x = 0 (0 * 0^-1 would be NaN).
      if (p0 == T(0)) return unary_map([](T) { return T(0); }, dx, dy, n);
      return unary_map2([p0](T g, T v) { return g * p0 * std::pow(v, p0 - T(1)); }, dx, dy, x, n);
    case UnaryOp::Clamp:
      return unary_map2([p0, p1](T g, T v) { return (v >= p0 && v <= p1) ? g : T(0); }, dx, dy, x,
                        n);
  }
}

#define SIRS_ELEMENTWISE_FLOAT(T)                                                                  \
  template void binary_forward_cpu<T>(BinaryOp, T*, const T*, const int64_t*, const T*,            \
                                      const int64_t*, const int64_t*, int);                        \
  template void add_inplace_cpu<T>(T*, const int64_t*, const T*, const int64_t*, const int64_t*,   \
                                   int, T);                                                        \
  template void scale_inplace_cpu<T>(T*, const int64_t*, const int64_t*, int, T);                 \
  template void unary_forward_cpu<T>(UnaryOp, T*, const T*, int64_t, T, T);                        \
  template void unary_backward_cpu<T>(UnaryOp, T*, const T*, const T*, const T*, int64_t, T, T);
SIRS_ELEMENTWISE_FLOAT(float)
SIRS_ELEMENTWISE_FLOAT(double)
#undef SIRS_ELEMENTWISE_FLOAT

#define SIRS_ELEMENTWISE_ANY(T)                                                                    \
  template void compare_forward_cpu<T>(CompareOp, uint8_t*, const T*, const int64_t*, const T*,    \
                                       const int64_t*, const int64_t*, int);                       \
  template void where_forward_cpu<T>(T*, const uint8_t*, const int64_t*, const T*,                 \
                                     const int64_t*, const T*, const int64_t*, const int64_t*, int);
SIRS_ELEMENTWISE_ANY(float)
SIRS_ELEMENTWISE_ANY(double)
SIRS_ELEMENTWISE_ANY(int64_t)
SIRS_ELEMENTWISE_ANY(int32_t)
SIRS_ELEMENTWISE_ANY(uint8_t)
#undef SIRS_ELEMENTWISE_ANY

}  // namespace sirs
