// Optimizer arithmetic on CUDA, multi-tensor (contract and formulas:
// kernels/optim.h; launchers: kernels/cuda/optim_cuda.h):
//
//   Adam: g = grad + wd * param; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
//         param -= (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
//   SGD:  g = grad + wd * param; buf = first ? g : mu buf + (1 - dampening) g;
//         param -= lr * (nesterov ? g + mu buf : buf)   (plain g when mu == 0)
//   sum of squares (accumulated in double) and in-place scale, for clipping.
//
// Layout: every tensor is a flat contiguous array. One launch covers a whole
// table of tensors: the launcher cuts each tensor into chunks of kChunk
// elements and uploads, in one host-to-device copy into a CudaBuffer, the
// table of entries (pointers, n, per-tensor scalars such as Adam's bias
// corrections) followed by a chunk map (tensor, chunk) with one row per
// block. Block b reads its row and walks its chunk with a block-stride loop
// (consecutive threads, consecutive elements: coalesced). No allocation or
// launch per parameter tensor: one table copy and one launch per step.
// Scalars are cast to T on the host once, exactly as the CPU kernels do,
// and the per-element arithmetic is the CPU's in the same order; nvcc may
// contract a multiply-add into an FMA, so results agree with the CPU to
// about one rounding, not bit for bit.
//
// Versions (v1 live): adam_step_kernel_v1, sgd_step_kernel_v1,
// sum_squares_kernel_v1 (+ sum_partials_kernel_v1: per-block partials in
// double, then one block adds them in a fixed order, so the norm is the same
// on every run), scale_kernel_v1.
//
// Tests: make test GTEST_FILTER='CudaOptim*:Optim*'
#include <cuda_runtime.h>

#include <climits>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/launch.h"
#include "kernels/cuda/optim_cuda.h"

namespace sirs {

namespace {

constexpr int kThreads = 256;
constexpr int64_t kChunk = 1 << 14;  // elements per block: 64 per thread

struct ChunkRef {
  int tensor;  // entry of the table
  int chunk;   // elements [chunk * kChunk, min(n, (chunk + 1) * kChunk))
};

template <class T>
struct AdamEntry {
  T* param;
  const T* grad;
  T* exp_avg;
  T* exp_avg_sq;
  int64_t n;
  T step_size;  // lr / (1 - beta1^t)
  T bc2_sqrt;   // sqrt(1 - beta2^t)
};

template <class T>
struct SgdEntry {
  T* param;
  const T* grad;
  T* momentum_buf;
  int64_t n;
  int first;
};

template <class P>
struct FlatEntry {
  P x;
  int64_t n;
};

// Entries then the chunk map, as one byte block for one copy.
template <class E>
struct HostTable {
  std::vector<unsigned char> bytes;
  size_t chunk_offset = 0;
  int nchunks = 0;

  explicit HostTable(const std::vector<E>& entries) {
    std::vector<ChunkRef> chunks;
    for (size_t k = 0; k < entries.size(); ++k) {
      const int64_t c = (entries[k].n + kChunk - 1) / kChunk;
      SIRS_CHECK(chunks.size() + static_cast<size_t>(c) <= static_cast<size_t>(INT_MAX),
                 ValueError, "multi-tensor launch: more than ", INT_MAX, " chunks of ", kChunk,
                 " elements");
      for (int64_t j = 0; j < c; ++j)
        chunks.push_back(ChunkRef{static_cast<int>(k), static_cast<int>(j)});
    }
    static_assert(sizeof(E) % alignof(ChunkRef) == 0, "chunk map would be misaligned");
    chunk_offset = entries.size() * sizeof(E);
    nchunks = static_cast<int>(chunks.size());
    bytes.resize(chunk_offset + chunks.size() * sizeof(ChunkRef));
    std::memcpy(bytes.data(), entries.data(), chunk_offset);
    std::memcpy(bytes.data() + chunk_offset, chunks.data(), chunks.size() * sizeof(ChunkRef));
  }
};

// Uploads the table of non-empty entries and calls
// launch(device entries, device chunk map, number of chunks). The buffer
// goes back to the caching allocator at return: safe, since everything
// reading it is queued on `stream` (kernels/cuda/context.h). A pageable
// host-to-device cudaMemcpyAsync has taken the host bytes when it returns.
template <class E, class F>
void with_device_table(const std::vector<E>& entries, int device, cudaStream_t stream,
                       F&& launch) {
  HostTable<E> h(entries);
  CudaBuffer buf(h.bytes.size(), device);
  SIRS_CUDA_CHECK(cudaMemcpyAsync(buf.get(), h.bytes.data(), h.bytes.size(),
                                  cudaMemcpyHostToDevice, stream));
  launch(buf.as<const E>(),
         reinterpret_cast<const ChunkRef*>(buf.as<const unsigned char>() + h.chunk_offset),
         h.nchunks);
}

__device__ __forceinline__ int64_t chunk_begin(const ChunkRef& c) { return c.chunk * kChunk; }

template <class T>
static __global__ void adam_step_kernel_v1(const AdamEntry<T>* entries, const ChunkRef* chunks,
                                           T b1, T one_minus_b1, T b2, T one_minus_b2, T eps,
                                           T wd, bool decay) {
  const ChunkRef c = chunks[blockIdx.x];
  const AdamEntry<T> e = entries[c.tensor];
  const int64_t begin = chunk_begin(c), end = min(e.n, begin + kChunk);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T g = e.grad[i];
    if (decay) g += wd * e.param[i];
    T m = b1 * e.exp_avg[i] + one_minus_b1 * g;
    T v = b2 * e.exp_avg_sq[i] + one_minus_b2 * g * g;
    e.exp_avg[i] = m;
    e.exp_avg_sq[i] = v;
    T denom = sqrt(v) / e.bc2_sqrt + eps;
    e.param[i] -= e.step_size * (m / denom);
  }
}

template <class T>
static __global__ void sgd_step_kernel_v1(const SgdEntry<T>* entries, const ChunkRef* chunks,
                                          T lr, T mu, T damp, T wd, bool decay, bool use_buf,
                                          bool nesterov) {
  const ChunkRef c = chunks[blockIdx.x];
  const SgdEntry<T> e = entries[c.tensor];
  const int64_t begin = chunk_begin(c), end = min(e.n, begin + kChunk);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    T g = e.grad[i];
    if (decay) g += wd * e.param[i];
    T d = g;
    if (use_buf) {
      T b = e.first ? g : mu * e.momentum_buf[i] + damp * g;
      e.momentum_buf[i] = b;
      d = nesterov ? g + mu * b : b;
    }
    e.param[i] -= lr * d;
  }
}

// partials[b] = sum of x^2 over block b's chunk. Every thread reaches
// block_sum (no early return), as its __syncthreads need.
template <class T>
static __global__ void sum_squares_kernel_v1(const FlatEntry<const T*>* entries,
                                             const ChunkRef* chunks, double* partials) {
  __shared__ double shared[32];
  const ChunkRef c = chunks[blockIdx.x];
  const FlatEntry<const T*> e = entries[c.tensor];
  const int64_t begin = chunk_begin(c), end = min(e.n, begin + kChunk);
  double acc = 0.0;
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) {
    double v = static_cast<double>(e.x[i]);
    acc += v * v;
  }
  double s = block_sum(acc, shared);
  if (threadIdx.x == 0) partials[blockIdx.x] = s;
}

// One block: *total = beta * *total + sum of the n partials, in a fixed order.
static __global__ void sum_partials_kernel_v1(const double* partials, int n, double* total,
                                              double beta) {
  __shared__ double shared[32];
  double acc = 0.0;
  for (int j = threadIdx.x; j < n; j += blockDim.x) acc += partials[j];
  double s = block_sum(acc, shared);
  if (threadIdx.x == 0) *total = beta == 0.0 ? s : beta * *total + s;
}

template <class T>
static __global__ void scale_kernel_v1(const FlatEntry<T*>* entries, const ChunkRef* chunks,
                                       T alpha) {
  const ChunkRef c = chunks[blockIdx.x];
  const FlatEntry<T*> e = entries[c.tensor];
  const int64_t begin = chunk_begin(c), end = min(e.n, begin + kChunk);
  for (int64_t i = begin + threadIdx.x; i < end; i += blockDim.x) e.x[i] *= alpha;
}

}  // namespace

template <class T>
void adam_step_cuda(const AdamTensorCuda<T>* tensors, int count, double lr, double beta1,
                    double beta2, double eps, double weight_decay, int device,
                    cudaStream_t stream) {
  std::vector<AdamEntry<T>> es;
  for (int k = 0; k < count; ++k) {
    const AdamTensorCuda<T>& t = tensors[k];
    if (t.n == 0) continue;
    const double bias_correction1 = 1.0 - std::pow(beta1, static_cast<double>(t.step));
    const double bias_correction2 = 1.0 - std::pow(beta2, static_cast<double>(t.step));
    es.push_back(AdamEntry<T>{t.param, t.grad, t.exp_avg, t.exp_avg_sq, t.n,
                              static_cast<T>(lr / bias_correction1),
                              static_cast<T>(std::sqrt(bias_correction2))});
  }
  if (es.empty()) return;
  with_device_table(es, device, stream, [&](const AdamEntry<T>* d_es, const ChunkRef* d_chunks,
                                            int nchunks) {
    adam_step_kernel_v1<T><<<nchunks, kThreads, 0, stream>>>(
        d_es, d_chunks, static_cast<T>(beta1), static_cast<T>(1.0 - beta1), static_cast<T>(beta2),
        static_cast<T>(1.0 - beta2), static_cast<T>(eps), static_cast<T>(weight_decay),
        weight_decay != 0.0);
    SIRS_CUDA_CHECK(cudaGetLastError());
  });
}

template <class T>
void sgd_step_cuda(const SgdTensorCuda<T>* tensors, int count, double lr, double momentum,
                   double dampening, double weight_decay, bool nesterov, int device,
                   cudaStream_t stream) {
  std::vector<SgdEntry<T>> es;
  for (int k = 0; k < count; ++k) {
    const SgdTensorCuda<T>& t = tensors[k];
    if (t.n == 0) continue;
    SIRS_CHECK(momentum == 0.0 || t.momentum_buf != nullptr, ValueError,
               "sgd_step_cuda: tensor ", k, " has no momentum buffer");
    es.push_back(SgdEntry<T>{t.param, t.grad, t.momentum_buf, t.n, t.first ? 1 : 0});
  }
  if (es.empty()) return;
  with_device_table(es, device, stream, [&](const SgdEntry<T>* d_es, const ChunkRef* d_chunks,
                                            int nchunks) {
    sgd_step_kernel_v1<T><<<nchunks, kThreads, 0, stream>>>(
        d_es, d_chunks, static_cast<T>(lr), static_cast<T>(momentum),
        static_cast<T>(1.0 - dampening), static_cast<T>(weight_decay), weight_decay != 0.0,
        momentum != 0.0, nesterov);
    SIRS_CUDA_CHECK(cudaGetLastError());
  });
}

template <class T>
void sum_squares_cuda(const T* const* xs, const int64_t* ns, int count, double* total,
                      double beta, int device, cudaStream_t stream) {
  constexpr int kFinalThreads = 1024;
  std::vector<FlatEntry<const T*>> es;
  for (int k = 0; k < count; ++k)
    if (ns[k] > 0) es.push_back(FlatEntry<const T*>{xs[k], ns[k]});
  if (es.empty()) {
    // Still write the (empty) sum so *total is defined.
    sum_partials_kernel_v1<<<1, kFinalThreads, 0, stream>>>(nullptr, 0, total, beta);
    SIRS_CUDA_CHECK(cudaGetLastError());
    return;
  }
  with_device_table(es, device, stream, [&](const FlatEntry<const T*>* d_es,
                                            const ChunkRef* d_chunks, int nchunks) {
    CudaBuffer partials(static_cast<size_t>(nchunks) * sizeof(double), device);
    sum_squares_kernel_v1<T><<<nchunks, kThreads, 0, stream>>>(d_es, d_chunks,
                                                               partials.as<double>());
    SIRS_CUDA_CHECK(cudaGetLastError());
    sum_partials_kernel_v1<<<1, kFinalThreads, 0, stream>>>(partials.as<double>(), nchunks, total,
                                                            beta);
    SIRS_CUDA_CHECK(cudaGetLastError());
  });
}

template <class T>
void scale_cuda(T* const* xs, const int64_t* ns, int count, double alpha, int device,
                cudaStream_t stream) {
  std::vector<FlatEntry<T*>> es;
  for (int k = 0; k < count; ++k)
    if (ns[k] > 0) es.push_back(FlatEntry<T*>{xs[k], ns[k]});
  if (es.empty()) return;
  with_device_table(es, device, stream, [&](const FlatEntry<T*>* d_es, const ChunkRef* d_chunks,
                                            int nchunks) {
    scale_kernel_v1<T><<<nchunks, kThreads, 0, stream>>>(d_es, d_chunks, static_cast<T>(alpha));
    SIRS_CUDA_CHECK(cudaGetLastError());
  });
}

#define SIRS_INSTANTIATE(T)                                                                      \
  template void adam_step_cuda<T>(const AdamTensorCuda<T>*, int, double, double, double, double, \
                                  double, int, cudaStream_t);                                    \
  template void sgd_step_cuda<T>(const SgdTensorCuda<T>*, int, double, double, double, double,   \
                                 bool, int, cudaStream_t);                                       \
  template void sum_squares_cuda<T>(const T* const*, const int64_t*, int, double*, double, int,  \
                                    cudaStream_t);                                               \
  template void scale_cuda<T>(T* const*, const int64_t*, int, double, int, cudaStream_t);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
