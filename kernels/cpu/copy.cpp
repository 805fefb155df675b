// Strided copy, conversion and fill on the CPU (contract: kernels/copy.h).
// The innermost dim runs as a plain loop; the outer index space is split
// across OpenMP threads when there is enough work.
#include <cstring>
#include <type_traits>
#include <vector>

#include "kernels/copy.h"

namespace sirs {

namespace {

template <class T> inline double to_double(T v) { return static_cast<double>(v); }
template <> inline double to_double(BFloat16 v) { return v.to_float(); }
template <> inline double to_double(Half v) { return v.to_float(); }

// Floating -> integer: truncate toward zero into int64, then wrap to the
// target width (defined behaviour, the same on the CPU and CUDA; a direct
// cast of a negative float to uint8 is undefined in C++ and differs between
// x86 and the GPU).
template <class T> inline T from_double(double v) {
  if constexpr (std::is_integral<T>::value)
    return static_cast<T>(static_cast<int64_t>(v));
  else
    return static_cast<T>(v);
}
template <> inline BFloat16 from_double(double v) { return BFloat16::from_float(static_cast<float>(v)); }
template <> inline Half from_double(double v) { return Half::from_float(static_cast<float>(v)); }

template <class D, class S>
inline D convert(S v) {
  if constexpr (std::is_same<D, S>::value) {
    return v;
  } else if constexpr (std::is_integral<D>::value && std::is_floating_point<S>::value) {
    return from_double<D>(static_cast<double>(v));
  } else if constexpr (std::is_arithmetic<D>::value && std::is_arithmetic<S>::value) {
    return static_cast<D>(v);
  } else {
    return from_double<D>(to_double<S>(v));
  }
}

template <class D, class S>
void copy_typed(D* dst, const int64_t* ds, const S* src, const int64_t* ss, const int64_t* shape,
                int ndim, double beta) {
  int64_t inner = ndim > 0 ? shape[ndim - 1] : 1;
  int64_t dsi = ndim > 0 ? ds[ndim - 1] : 1, ssi = ndim > 0 ? ss[ndim - 1] : 1;
  int64_t outer = 1;
  for (int d = 0; d < ndim - 1; ++d) outer *= shape[d];
  if (inner == 0 || outer == 0) return;
#pragma omp parallel for schedule(static) if (outer * inner > 32768)
  for (int64_t o = 0; o < outer; ++o) {
    int64_t rem = o, doff = 0, soff = 0;
    for (int d = ndim - 2; d >= 0; --d) {
      int64_t i = rem % shape[d];
      rem /= shape[d];
      doff += i * ds[d];
      soff += i * ss[d];
    }
    D* dp = dst + doff;
    const S* sp = src + soff;
    if (beta == 0.0) {
      for (int64_t i = 0; i < inner; ++i) dp[i * dsi] = convert<D>(sp[i * ssi]);
    } else {
      for (int64_t i = 0; i < inner; ++i)
        dp[i * dsi] = from_double<D>(to_double<S>(sp[i * ssi]) + beta * to_double<D>(dp[i * dsi]));
    }
  }
}

}  // namespace

void strided_copy_cpu(void* dst, DType dst_dtype, const int64_t* dst_strides, const void* src,
                      DType src_dtype, const int64_t* src_strides, const int64_t* shape, int ndim,
                      double beta) {
  dispatch_all(dst_dtype, [&](auto dtag) {
    using D = typename decltype(dtag)::type;
    dispatch_all(src_dtype, [&](auto stag) {
      using S = typename decltype(stag)::type;
      copy_typed<D, S>(static_cast<D*>(dst), dst_strides, static_cast<const S*>(src), src_strides,
                       shape, ndim, beta);
    });
  });
}

void fill_cpu(void* dst, DType dtype, const int64_t* strides, const int64_t* shape, int ndim,
              double value) {
  dispatch_all(dtype, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T v = from_double<T>(value);
    std::vector<int64_t> zero(static_cast<size_t>(ndim > 0 ? ndim : 1), 0);
    // A broadcast source of one element reuses the copy loop.
    copy_typed<T, T>(static_cast<T*>(dst), strides, &v, zero.data(), shape, ndim, 0.0);
  });
}

}  // namespace sirs
