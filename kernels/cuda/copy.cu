// Strided copy with dtype conversion, and fill, on CUDA (contract:
// kernels/copy.h; launchers: kernels/cuda/copy_cuda.h).
//
//   dst[i] = convert(src[i]) + beta * dst[i]
//
// Versions: v1 (live) is a grid-stride loop, one element per thread per
// step, each thread decoding its flat index into both views' offsets. A
// contiguous same-dtype overwrite never reaches it (copy_into uses
// cudaMemcpyAsync); what comes here is permute/expand materialisation,
// dtype conversion and gradient accumulation.
// Conversions match the CPU: arithmetic types by static_cast, except
// floating -> integer, which truncates toward zero into int64 and then wraps
// to the target width (a direct cast of a negative float to uint8 is
// undefined; x86 wraps, the GPU saturates); bf16 / fp16 through float with
// round to nearest even.
// Tests: make test GTEST_FILTER='CudaRuntime*'
#include <cuda_bf16.h>
#include <cuda_fp16.h>
#include <cuda_runtime.h>

#include <cstdint>
#include <type_traits>

#include "kernels/cuda/check.h"
#include "kernels/cuda/copy_cuda.h"
#include "kernels/cuda/launch.h"

namespace sirs {

namespace {

// Device-side element types: bf16 and fp16 as the CUDA types of the same bits.
template <DType D> struct DevType;
template <> struct DevType<DType::F32> { using type = float; };
template <> struct DevType<DType::F64> { using type = double; };
template <> struct DevType<DType::I64> { using type = int64_t; };
template <> struct DevType<DType::I32> { using type = int32_t; };
template <> struct DevType<DType::U8> { using type = uint8_t; };
template <> struct DevType<DType::BF16> { using type = __nv_bfloat16; };
template <> struct DevType<DType::F16> { using type = __half; };

template <class T> __device__ __forceinline__ double dev_to_double(T v) { return static_cast<double>(v); }
template <> __device__ __forceinline__ double dev_to_double(__nv_bfloat16 v) { return __bfloat162float(v); }
template <> __device__ __forceinline__ double dev_to_double(__half v) { return __half2float(v); }

// Floating -> integer as on the CPU: truncate into int64, then wrap.
template <class T> __device__ __forceinline__ T dev_from_double(double v) {
  if constexpr (std::is_integral<T>::value)
    return static_cast<T>(static_cast<int64_t>(v));
  else
    return static_cast<T>(v);
}
template <> __device__ __forceinline__ __nv_bfloat16 dev_from_double(double v) {
  return __float2bfloat16_rn(static_cast<float>(v));
}
template <> __device__ __forceinline__ __half dev_from_double(double v) {
  return __float2half_rn(static_cast<float>(v));
}

template <class D, class S>
__device__ __forceinline__ D dev_convert(S v) {
  if constexpr (std::is_same<D, S>::value) {
    return v;
  } else if constexpr (std::is_integral<D>::value && std::is_floating_point<S>::value) {
    return dev_from_double<D>(static_cast<double>(v));
  } else if constexpr (std::is_arithmetic<D>::value && std::is_arithmetic<S>::value) {
    return static_cast<D>(v);
  } else {
    return dev_from_double<D>(dev_to_double<S>(v));
  }
}

template <class D, class S>
static __global__ void strided_copy_kernel_v1(D* dst, CudaStrided ds, const S* src, CudaStrided ss,
                                              int64_t n, double beta) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    D* dp = dst + ds.offset(i);
    S v = src[ss.offset(i)];
    if (beta == 0.0)
      *dp = dev_convert<D>(v);
    else
      *dp = dev_from_double<D>(dev_to_double<S>(v) + beta * dev_to_double<D>(*dp));
  }
}

template <class T>
static __global__ void fill_kernel_v1(T* dst, CudaStrided s, int64_t n, T value) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    dst[s.offset(i)] = value;
}

// Calls fn(DevType tag) for a runtime DType.
template <class F>
void dispatch_dev(DType t, F&& fn) {
  switch (t) {
    case DType::F32: return fn(DevType<DType::F32>{});
    case DType::F64: return fn(DevType<DType::F64>{});
    case DType::I64: return fn(DevType<DType::I64>{});
    case DType::I32: return fn(DevType<DType::I32>{});
    case DType::U8: return fn(DevType<DType::U8>{});
    case DType::BF16: return fn(DevType<DType::BF16>{});
    case DType::F16: return fn(DevType<DType::F16>{});
  }
}

}  // namespace

void strided_copy_cuda(void* dst, DType dst_dtype, const int64_t* dst_strides, const void* src,
                       DType src_dtype, const int64_t* src_strides, const int64_t* shape, int ndim,
                       double beta, cudaStream_t stream) {
  CudaStrided ds = make_cuda_strided(shape, dst_strides, ndim, "strided_copy_cuda");
  CudaStrided ss = make_cuda_strided(shape, src_strides, ndim, "strided_copy_cuda");
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  if (n == 0) return;
  constexpr int kThreads = 256;
  int blocks = cuda_blocks(n, kThreads);
  dispatch_dev(dst_dtype, [&](auto dtag) {
    using D = typename decltype(dtag)::type;
    dispatch_dev(src_dtype, [&](auto stag) {
      using S = typename decltype(stag)::type;
      strided_copy_kernel_v1<D, S><<<blocks, kThreads, 0, stream>>>(
          static_cast<D*>(dst), ds, static_cast<const S*>(src), ss, n, beta);
    });
  });
  SIRS_CUDA_CHECK(cudaGetLastError());
}

void fill_cuda(void* dst, int elem_bytes, const int64_t* strides, const int64_t* shape, int ndim,
               uint64_t bits, cudaStream_t stream) {
  CudaStrided s = make_cuda_strided(shape, strides, ndim, "fill_cuda");
  int64_t n = 1;
  for (int d = 0; d < ndim; ++d) n *= shape[d];
  if (n == 0) return;
  constexpr int kThreads = 256;
  int blocks = cuda_blocks(n, kThreads);
  switch (elem_bytes) {
    case 1: fill_kernel_v1<uint8_t><<<blocks, kThreads, 0, stream>>>(static_cast<uint8_t*>(dst), s, n, static_cast<uint8_t>(bits)); break;
    case 2: fill_kernel_v1<uint16_t><<<blocks, kThreads, 0, stream>>>(static_cast<uint16_t*>(dst), s, n, static_cast<uint16_t>(bits)); break;
    case 4: fill_kernel_v1<uint32_t><<<blocks, kThreads, 0, stream>>>(static_cast<uint32_t*>(dst), s, n, static_cast<uint32_t>(bits)); break;
    case 8: fill_kernel_v1<uint64_t><<<blocks, kThreads, 0, stream>>>(static_cast<uint64_t*>(dst), s, n, bits); break;
    default: throw ValueError(str_cat("fill_cuda: bad element size ", elem_bytes));
  }
  SIRS_CUDA_CHECK(cudaGetLastError());
}

}  // namespace sirs
