// conv2d on CUDA through cuDNN (contract and formula: kernels/conv2d.h;
// launchers: kernels/cuda/conv2d_cuda.h).
//
//   y[b,k,oh,ow] = bias[k] + sum_{c,r,s} w[k,c,r,s] * x[b, c, oh*sh - ph + r*dh, ow*sw - pw + s*dw]
//
// Layouts: x [B, C, H, W], y [B, K, Ho, Wo] as NCHW tensor descriptors,
// w [K, C, R, S] as a KCRS filter descriptor, CUDNN_CROSS_CORRELATION (no
// kernel flip, as PyTorch). The three passes are cuDNN's legacy convolution
// API, still shipped in cuDNN 9 (deprecated in favour of the graph API,
// warnings only with CUDNN_WARN_DEPRECATED):
//   forward          cudnnConvolutionForward, then the bias kernel below
//   backward data    cudnnConvolutionBackwardData
//   backward filter  cudnnConvolutionBackwardFilter, the bias reduction below
//
// Plans: descriptors are made once per key (device, dtype, precision and the
// geometry) and kept in a map for the life of the process, like the handles
// in context.cu. Each pass picks its algorithm once, on its first call, by
// timing every candidate with cudnnFind*AlgorithmEx (kFindRounds times,
// ranked by median) on the call's own tensors
// (the output slot is scratch when beta != 0, so accumulating outputs are
// never clobbered) and a workspace as large as the hungriest candidate asks,
// capped at kMaxWorkspaceBytes; the fastest that succeeded is kept with the
// workspace it needs. Later calls allocate exactly that workspace from the
// caching allocator. One mutex guards the map and the choices.
//
// Precision: cuDNN's CUDNN_DEFAULT_MATH lets float32 convolutions use TF32
// tensor cores on Ampere and later, so full fp32 (MathPrecision::FP32) asks
// for CUDNN_FMA_MATH and accepts only algorithms Find reports as FMA;
// MathPrecision::TF32 asks for CUDNN_DEFAULT_MATH (TF32 permitted, no
// conversion to half precision, which CUDNN_TENSOR_OP_MATH_ALLOW_CONVERSION
// would allow). Double uses CUDNN_DEFAULT_MATH. The descriptor of each pass
// then carries the math type of the chosen algorithm, as cuDNN requires.
//
// Our kernels, each a v1 (live, the only version):
//   conv2d_bias_forward_kernel_v1   y += bias[k], grid-stride over y
//   conv2d_bias_backward_kernel_v1  dbias[k] = sum over b, oh, ow of dy (+ beta
//                                   dbias): one block per channel, block_sum
//   conv2d_scale_kernel_v1          dw = beta * dw for an empty batch (B = 0,
//                                   which cuDNN descriptors cannot express)
// The bias is ours rather than cudnnAddTensor / cudnnConvolutionBackwardBias:
// two trivial kernels, same in float and double, no further legacy calls.
//
// Tests: make test GTEST_FILTER='CudaConv2d*'
#include <cuda_runtime.h>
#include <cudnn.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cuda/check.h"
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d_cuda.h"
#include "kernels/cuda/launch.h"

namespace sirs {

namespace {

// Find calls per pass and shape; each candidate is ranked by its median time.
constexpr int kFindRounds = 3;

// Largest workspace offered to cudnnFind (and so to any chosen algorithm).
constexpr size_t kMaxWorkspaceBytes = size_t{1} << 30;

template <class T>
struct CudnnType;
template <>
struct CudnnType<float> {
  static constexpr cudnnDataType_t value = CUDNN_DATA_FLOAT;
};
template <>
struct CudnnType<double> {
  static constexpr cudnnDataType_t value = CUDNN_DATA_DOUBLE;
};

// p[i] = beta * p[i] over n elements; beta = 0 writes 0 without reading.
template <class T>
static __global__ void conv2d_scale_kernel_v1(T* p, int64_t n, T beta) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    p[i] = beta == T(0) ? T(0) : beta * p[i];
}

// y[b,k,p] += bias[k] over the n = B*K*P elements of y [B, K, P].
template <class T>
static __global__ void conv2d_bias_forward_kernel_v1(T* y, const T* bias, int64_t n, int64_t K,
                                                     int64_t P) {
  for (int64_t i = blockIdx.x * static_cast<int64_t>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x)
    y[i] += bias[(i / P) % K];
}

// dbias[k] = sum_{b,p} dy[b,k,p] + beta * dbias[k] (beta = 0 never reads
// dbias). One block per channel k; its threads stride over the B*P values
// of that channel, in runs of P contiguous elements (coalesced), then one
// block reduction. B = 0 gives beta * dbias.
template <class T>
static __global__ void conv2d_bias_backward_kernel_v1(const T* dy, int64_t B, int64_t K, int64_t P,
                                                      T beta, T* dbias) {
  __shared__ T shared[32];
  const int64_t k = blockIdx.x;
  const int64_t n = B * P;
  T acc = 0;
  for (int64_t j = threadIdx.x; j < n; j += blockDim.x) {
    const int64_t b = j / P, p = j - b * P;
    acc += dy[(b * K + k) * P + p];
  }
  acc = block_sum(acc, shared);  // every thread of the block takes part
  if (threadIdx.x == 0) dbias[k] = beta == T(0) ? acc : acc + beta * dbias[k];
}

cudaStream_t stream_of(cudnnHandle_t handle) {
  cudaStream_t stream = nullptr;
  SIRS_CUDA_CHECK(cudnnGetStream(handle, &stream));
  return stream;
}

int to_int(int64_t v, const char* what) {
  SIRS_CHECK(v >= 0 && v <= INT_MAX, ShapeError, "conv2d (cuDNN): ", what, " = ", v,
             " does not fit a 32-bit int");
  return static_cast<int>(v);
}

// One pass's choice, made once.
struct PassState {
  cudnnConvolutionDescriptor_t conv = nullptr;
  bool chosen = false;
  int algo = 0;
  cudnnMathType_t math = CUDNN_DEFAULT_MATH;
  size_t workspace = 0;
};

struct Plan {
  cudnnDataType_t dtype = CUDNN_DATA_FLOAT;
  cudnnMathType_t requested_math = CUDNN_DEFAULT_MATH;
  bool fma_only = false;  // float32 at FP32 precision: no TF32 algorithms
  cudnnTensorDescriptor_t x = nullptr, y = nullptr;
  cudnnFilterDescriptor_t w = nullptr;
  PassState pass[3];
  size_t x_bytes = 0, w_bytes = 0, y_bytes = 0;
  Conv2dGeom geom{};  // for SIRS_CUDNN_LOG
};

using Key = std::array<int64_t, 16>;

std::mutex g_mutex;  // guards g_plans and the PassStates inside
std::map<Key, std::unique_ptr<Plan>> g_plans;
std::atomic<int64_t> g_find_calls{0};

Key make_key(int device, cudnnDataType_t dtype, bool tf32, const Conv2dGeom& g) {
  const int64_t dt = dtype, precision = dtype == CUDNN_DATA_FLOAT && tf32 ? 1 : 0;
  return {device, dt,  precision,  g.B,        g.C,     g.H,     g.W,     g.K,
          g.R,    g.S, g.stride_h, g.stride_w, g.pad_h, g.pad_w, g.dil_h, g.dil_w};
}

std::unique_ptr<Plan> make_plan(cudnnDataType_t dtype, bool tf32, const Conv2dGeom& g) {
  SIRS_CHECK(g.B >= 1, ShapeError, "conv2d (cuDNN): empty batch");
  const int64_t kMaxElems = INT_MAX;  // cuDNN's limit on one tensor's elements
  SIRS_CHECK(g.B * g.C * g.H * g.W <= kMaxElems && g.B * g.K * g.Ho * g.Wo <= kMaxElems, ShapeError,
             "conv2d (cuDNN): input [", g.B, ", ", g.C, ", ", g.H, ", ", g.W, "] or output [", g.B,
             ", ", g.K, ", ", g.Ho, ", ", g.Wo,
             "] has more than 2^31 - 1 elements; split the batch");
  auto p = std::make_unique<Plan>();
  p->dtype = dtype;
  p->geom = g;
  p->fma_only = dtype == CUDNN_DATA_FLOAT && !tf32;
  p->requested_math = p->fma_only ? CUDNN_FMA_MATH : CUDNN_DEFAULT_MATH;
  const size_t elem = dtype == CUDNN_DATA_DOUBLE ? 8 : 4;
  p->x_bytes = static_cast<size_t>(g.B * g.C * g.H * g.W) * elem;
  p->w_bytes = static_cast<size_t>(g.K * g.C * g.R * g.S) * elem;
  p->y_bytes = static_cast<size_t>(g.B * g.K * g.Ho * g.Wo) * elem;

  SIRS_CUDA_CHECK(cudnnCreateTensorDescriptor(&p->x));
  SIRS_CUDA_CHECK(cudnnCreateTensorDescriptor(&p->y));
  SIRS_CUDA_CHECK(cudnnCreateFilterDescriptor(&p->w));
  SIRS_CUDA_CHECK(cudnnSetTensor4dDescriptor(p->x, CUDNN_TENSOR_NCHW, dtype, to_int(g.B, "B"),
                                             to_int(g.C, "C"), to_int(g.H, "H"), to_int(g.W, "W")));
  SIRS_CUDA_CHECK(cudnnSetTensor4dDescriptor(p->y, CUDNN_TENSOR_NCHW, dtype, to_int(g.B, "B"),
                                             to_int(g.K, "K"), to_int(g.Ho, "Ho"),
                                             to_int(g.Wo, "Wo")));
  SIRS_CUDA_CHECK(cudnnSetFilter4dDescriptor(p->w, dtype, CUDNN_TENSOR_NCHW, to_int(g.K, "K"),
                                             to_int(g.C, "C"), to_int(g.R, "R"), to_int(g.S, "S")));
  for (PassState& s : p->pass) {
    SIRS_CUDA_CHECK(cudnnCreateConvolutionDescriptor(&s.conv));
    SIRS_CUDA_CHECK(cudnnSetConvolution2dDescriptor(
        s.conv, to_int(g.pad_h, "pad_h"), to_int(g.pad_w, "pad_w"), to_int(g.stride_h, "stride_h"),
        to_int(g.stride_w, "stride_w"), to_int(g.dil_h, "dil_h"), to_int(g.dil_w, "dil_w"),
        CUDNN_CROSS_CORRELATION, dtype));
    SIRS_CUDA_CHECK(cudnnSetConvolutionMathType(s.conv, p->requested_math));
  }
  // cuDNN's idea of the output size must be ours (kernels/conv2d.h).
  int n = 0, k = 0, ho = 0, wo = 0;
  SIRS_CUDA_CHECK(
      cudnnGetConvolution2dForwardOutputDim(p->pass[0].conv, p->x, p->w, &n, &k, &ho, &wo));
  SIRS_CHECK(n == g.B && k == g.K && ho == g.Ho && wo == g.Wo, DeviceError,
             "conv2d (cuDNN): output [", n, ", ", k, ", ", ho, ", ", wo, "] differs from [", g.B,
             ", ", g.K, ", ", g.Ho, ", ", g.Wo, "]");
  return p;
}

int algo_count(Conv2dPass pass) {
  switch (pass) {
    case Conv2dPass::Forward:
      return CUDNN_CONVOLUTION_FWD_ALGO_COUNT;
    case Conv2dPass::BackwardData:
      return CUDNN_CONVOLUTION_BWD_DATA_ALGO_COUNT;
    case Conv2dPass::BackwardFilter:
      return CUDNN_CONVOLUTION_BWD_FILTER_ALGO_COUNT;
  }
  return 0;
}

cudnnStatus_t workspace_size(cudnnHandle_t h, const Plan& p, Conv2dPass pass,
                             cudnnConvolutionDescriptor_t conv, int algo, size_t* bytes) {
  switch (pass) {
    case Conv2dPass::Forward:
      return cudnnGetConvolutionForwardWorkspaceSize(
          h, p.x, p.w, conv, p.y, static_cast<cudnnConvolutionFwdAlgo_t>(algo), bytes);
    case Conv2dPass::BackwardData:
      return cudnnGetConvolutionBackwardDataWorkspaceSize(
          h, p.w, p.y, conv, p.x, static_cast<cudnnConvolutionBwdDataAlgo_t>(algo), bytes);
    case Conv2dPass::BackwardFilter:
      return cudnnGetConvolutionBackwardFilterWorkspaceSize(
          h, p.x, p.y, conv, p.w, static_cast<cudnnConvolutionBwdFilterAlgo_t>(algo), bytes);
  }
  return CUDNN_STATUS_BAD_PARAM;
}

// The tensors a Find call runs on: the pass's inputs in their role slots
// (forward: x, w; backward data: w, y = dy; backward filter: x, y = dy) and
// `out`, the pass's output (y, dx or dw). Null slots get zeroed scratch.
struct FindIO {
  const void* x = nullptr;
  const void* w = nullptr;
  const void* y = nullptr;
  void* out = nullptr;
};

// One candidate of a Find, whatever the pass.
struct Candidate {
  int algo;
  cudnnStatus_t status;
  size_t memory;
  cudnnMathType_t math;
  float ms;  // Find's timing
};

template <class Perf>
std::vector<Candidate> candidates(const std::vector<Perf>& perf, int n) {
  std::vector<Candidate> out;
  for (int i = 0; i < n; ++i)
    out.push_back(
        {static_cast<int>(perf[i].algo), perf[i].status, perf[i].memory, perf[i].mathType,
         perf[i].time});
  return out;
}

std::vector<Candidate> find(cudnnHandle_t h, const Plan& p, Conv2dPass pass,
                            cudnnConvolutionDescriptor_t conv, const void* x, const void* w,
                            const void* y, void* out, void* ws, size_t ws_bytes) {
  int max_count = 0, n = 0;
  switch (pass) {
    case Conv2dPass::Forward: {
      SIRS_CUDA_CHECK(cudnnGetConvolutionForwardAlgorithmMaxCount(h, &max_count));
      std::vector<cudnnConvolutionFwdAlgoPerf_t> perf(std::max(max_count, 1));
      SIRS_CUDA_CHECK(cudnnFindConvolutionForwardAlgorithmEx(
          h, p.x, x, p.w, w, conv, p.y, out, max_count, &n, perf.data(), ws, ws_bytes));
      return candidates(perf, n);
    }
    case Conv2dPass::BackwardData: {
      SIRS_CUDA_CHECK(cudnnGetConvolutionBackwardDataAlgorithmMaxCount(h, &max_count));
      std::vector<cudnnConvolutionBwdDataAlgoPerf_t> perf(std::max(max_count, 1));
      SIRS_CUDA_CHECK(cudnnFindConvolutionBackwardDataAlgorithmEx(
          h, p.w, w, p.y, y, conv, p.x, out, max_count, &n, perf.data(), ws, ws_bytes));
      return candidates(perf, n);
    }
    case Conv2dPass::BackwardFilter: {
      SIRS_CUDA_CHECK(cudnnGetConvolutionBackwardFilterAlgorithmMaxCount(h, &max_count));
      std::vector<cudnnConvolutionBwdFilterAlgoPerf_t> perf(std::max(max_count, 1));
      SIRS_CUDA_CHECK(cudnnFindConvolutionBackwardFilterAlgorithmEx(
          h, p.x, x, p.y, y, conv, p.w, out, max_count, &n, perf.data(), ws, ws_bytes));
      return candidates(perf, n);
    }
  }
  return {};
}

// A scratch buffer of `bytes`, zeroed on the handle's stream.
std::unique_ptr<CudaBuffer> zeroed_scratch(cudnnHandle_t h, int device, size_t bytes) {
  auto b = std::make_unique<CudaBuffer>(bytes, device);
  if (bytes > 0) SIRS_CUDA_CHECK(cudaMemsetAsync(b->get(), 0, bytes, stream_of(h)));
  return b;
}

// SIRS_CUDNN_LOG=1 in the environment: every algorithm choice is written to
// stderr, with the last Find round's candidates (algorithm number and math
// type as in cudnn_cnn.h, time, workspace, status), for profiling and for
// telling numeric differences between runs apart.
bool cudnn_log_enabled() {
  static const bool on = [] {
    const char* v = std::getenv("SIRS_CUDNN_LOG");
    return v != nullptr && *v != '\0' && std::string(v) != "0";
  }();
  return on;
}

void log_choice(const Plan& p, Conv2dPass pass, const std::vector<Candidate>& found,
                const PassState& s) {
  const Conv2dGeom& g = p.geom;
  const char* name = pass == Conv2dPass::Forward        ? "forward"
                     : pass == Conv2dPass::BackwardData ? "backward-data"
                                                        : "backward-filter";
  std::ostringstream o;
  o << "sirs: cudnn conv2d " << name << " x [" << g.B << ", " << g.C << ", " << g.H << ", " << g.W
    << "] w [" << g.K << ", " << g.C << ", " << g.R << ", " << g.S << "] stride " << g.stride_h
    << "x" << g.stride_w << " pad " << g.pad_h << "x" << g.pad_w << " dil " << g.dil_h << "x"
    << g.dil_w << (p.fma_only ? " (fp32, FMA only)" : "") << ": algo " << s.algo << " math "
    << static_cast<int>(s.math) << " workspace " << s.workspace << " B; candidates:";
  for (const Candidate& c : found)
    o << " [algo " << c.algo << " math " << static_cast<int>(c.math) << " " << c.ms << " ms "
      << c.memory << " B" << (c.status == CUDNN_STATUS_SUCCESS ? "" : " failed") << "]";
  std::fprintf(stderr, "%s\n", o.str().c_str());
}

// Picks the algorithm of `pass` (caller holds g_mutex).
void choose(cudnnHandle_t h, int device, Plan& p, Conv2dPass pass, const FindIO& io) {
  PassState& s = p.pass[static_cast<int>(pass)];
  // Workspace for the timing: what the hungriest candidate wants, within the
  // cap; less when the allocator cannot find that much.
  size_t want = 0;
  for (int a = 0; a < algo_count(pass); ++a) {
    size_t bytes = 0;
    if (workspace_size(h, p, pass, s.conv, a, &bytes) == CUDNN_STATUS_SUCCESS)
      want = std::max(want, bytes);
  }
  want = std::min(want, kMaxWorkspaceBytes);
  std::unique_ptr<CudaBuffer> ws;
  for (size_t bytes = want;; bytes /= 4) {
    try {
      ws = std::make_unique<CudaBuffer>(bytes, device);
      break;
    } catch (const DeviceError&) {
      if (bytes == 0) throw;
    }
  }
  // Inputs the caller did not give (a benchmark asking for the plan) and the
  // output, when the caller's must not be clobbered, are scratch.
  std::unique_ptr<CudaBuffer> sx, sw, sy, sout;
  const void* x = io.x;
  const void* w = io.w;
  const void* y = io.y;
  const size_t out_bytes = pass == Conv2dPass::Forward        ? p.y_bytes
                           : pass == Conv2dPass::BackwardData ? p.x_bytes
                                                              : p.w_bytes;
  if (pass != Conv2dPass::BackwardData && x == nullptr)
    x = (sx = zeroed_scratch(h, device, p.x_bytes))->get();
  if (pass != Conv2dPass::BackwardFilter && w == nullptr)
    w = (sw = zeroed_scratch(h, device, p.w_bytes))->get();
  if (pass != Conv2dPass::Forward && y == nullptr)
    y = (sy = zeroed_scratch(h, device, p.y_bytes))->get();
  void* out = io.out != nullptr ? io.out : (sout = zeroed_scratch(h, device, out_bytes))->get();

  // One Find times each candidate once, cold: on an H200 two processes
  // picked algorithm 7 (0.14 ms) and algorithm 0 (0.34 ms) for the same
  // 64-channel 56x56 forward. kFindRounds rounds, each candidate ranked by
  // its median time over them, make the choice repeatable.
  g_find_calls.fetch_add(1);  // one algorithm search (of kFindRounds Find calls)
  std::vector<Candidate> found;
  std::map<std::pair<int, int>, std::vector<float>> times;  // (algo, math) -> ms per round
  for (int round = 0; round < kFindRounds; ++round) {
    found = find(h, p, pass, s.conv, x, w, y, out, ws->get(), ws->size());
    for (const Candidate& c : found)
      if (c.status == CUDNN_STATUS_SUCCESS) times[{c.algo, static_cast<int>(c.math)}].push_back(c.ms);
  }
  auto median_ms = [&](const Candidate& c) {
    std::vector<float> t = times[{c.algo, static_cast<int>(c.math)}];
    if (t.size() < kFindRounds) return std::numeric_limits<float>::infinity();  // failed in a round
    std::nth_element(t.begin(), t.begin() + t.size() / 2, t.end());
    return t[t.size() / 2];
  };
  const Candidate* pick = nullptr;
  for (const Candidate& c : found) {
    if (c.status != CUDNN_STATUS_SUCCESS || c.memory > ws->size()) continue;
    if (p.fma_only && c.math != CUDNN_FMA_MATH) continue;
    if (pick == nullptr || median_ms(c) < median_ms(*pick)) pick = &c;
  }
  if (pick != nullptr) {
    s.algo = pick->algo;
    s.math = pick->math;
  } else {
    // Nothing usable timed: algorithm 0 of every pass supports every
    // geometry (implicit GEMM / ALGO_0), in the requested math.
    s.algo = 0;
    s.math = p.requested_math;
  }
  SIRS_CUDA_CHECK(cudnnSetConvolutionMathType(s.conv, s.math));
  size_t bytes = 0;
  SIRS_CUDA_CHECK(workspace_size(h, p, pass, s.conv, s.algo, &bytes));
  s.workspace = std::max(bytes, pick != nullptr ? pick->memory : size_t{0});
  s.chosen = true;
  if (cudnn_log_enabled()) log_choice(p, pass, found, s);
}

// The plan of (T, tf32, g) on `device`, with `pass` chosen.
template <class T>
Conv2dCudnnPlan lookup(cudnnHandle_t h, int device, bool tf32, const Conv2dGeom& g, Conv2dPass pass,
                       const FindIO& io) {
  const cudnnDataType_t dtype = CudnnType<T>::value;
  std::lock_guard<std::mutex> lock(g_mutex);
  std::unique_ptr<Plan>& slot = g_plans[make_key(device, dtype, tf32, g)];
  if (!slot) slot = make_plan(dtype, tf32, g);
  Plan& p = *slot;
  PassState& s = p.pass[static_cast<int>(pass)];
  if (!s.chosen) choose(h, device, p, pass, io);
  return Conv2dCudnnPlan{p.x, p.w, p.y, s.conv, s.algo, s.math, s.workspace};
}

}  // namespace

template <class T>
void conv2d_forward_cuda(cudnnHandle_t handle, int device, bool allow_tf32, const Conv2dGeom& g,
                         const T* x, const T* w, const T* bias, T beta, T* y) {
  if (g.B == 0) return;
  FindIO io;
  io.x = x;
  io.w = w;
  io.out = beta == T(0) ? y : nullptr;
  const Conv2dCudnnPlan p = lookup<T>(handle, device, allow_tf32, g, Conv2dPass::Forward, io);
  CudaBuffer ws(p.workspace_bytes, device);
  const T one = 1;
  SIRS_CUDA_CHECK(cudnnConvolutionForward(handle, &one, p.x_desc, x, p.w_desc, w, p.conv_desc,
                                          static_cast<cudnnConvolutionFwdAlgo_t>(p.algo), ws.get(),
                                          p.workspace_bytes, &beta, p.y_desc, y));
  if (bias != nullptr) {
    const int64_t n = g.B * g.K * g.Ho * g.Wo;
    constexpr int kThreads = 256;
    conv2d_bias_forward_kernel_v1<T><<<cuda_blocks(n, kThreads), kThreads, 0, stream_of(handle)>>>(
        y, bias, n, g.K, g.Ho * g.Wo);
    SIRS_CUDA_CHECK(cudaGetLastError());
  }
}

template <class T>
void conv2d_backward_data_cuda(cudnnHandle_t handle, int device, bool allow_tf32,
                               const Conv2dGeom& g, const T* dy, const T* w, T beta, T* dx) {
  if (g.B == 0) return;
  FindIO io;
  io.w = w;
  io.y = dy;
  io.out = beta == T(0) ? dx : nullptr;
  const Conv2dCudnnPlan p = lookup<T>(handle, device, allow_tf32, g, Conv2dPass::BackwardData, io);
  CudaBuffer ws(p.workspace_bytes, device);
  const T one = 1;
  SIRS_CUDA_CHECK(cudnnConvolutionBackwardData(handle, &one, p.w_desc, w, p.y_desc, dy, p.conv_desc,
                                               static_cast<cudnnConvolutionBwdDataAlgo_t>(p.algo),
                                               ws.get(), p.workspace_bytes, &beta, p.x_desc, dx));
}

template <class T>
void conv2d_backward_filter_cuda(cudnnHandle_t handle, int device, bool allow_tf32,
                                 const Conv2dGeom& g, const T* x, const T* dy, T beta, T* dw,
                                 T* dbias) {
  if (dbias != nullptr) conv2d_backward_bias_cuda(g, dy, beta, dbias, stream_of(handle));
  if (g.B == 0) {
    // No images: the sum is empty, dw becomes beta * dw.
    const int64_t n = g.K * g.C * g.R * g.S;
    if (beta == T(1) || n == 0) return;
    constexpr int kThreads = 256;
    conv2d_scale_kernel_v1<T>
        <<<cuda_blocks(n, kThreads), kThreads, 0, stream_of(handle)>>>(dw, n, beta);
    SIRS_CUDA_CHECK(cudaGetLastError());
    return;
  }
  FindIO io;
  io.x = x;
  io.y = dy;
  io.out = beta == T(0) ? dw : nullptr;
  const Conv2dCudnnPlan p =
      lookup<T>(handle, device, allow_tf32, g, Conv2dPass::BackwardFilter, io);
  CudaBuffer ws(p.workspace_bytes, device);
  const T one = 1;
  SIRS_CUDA_CHECK(
      cudnnConvolutionBackwardFilter(handle, &one, p.x_desc, x, p.y_desc, dy, p.conv_desc,
                                     static_cast<cudnnConvolutionBwdFilterAlgo_t>(p.algo), ws.get(),
                                     p.workspace_bytes, &beta, p.w_desc, dw));
}

template <class T>
void conv2d_backward_bias_cuda(const Conv2dGeom& g, const T* dy, T beta, T* dbias,
                               cudaStream_t stream) {
  if (g.K == 0) return;
  constexpr int kThreads = 256;
  conv2d_bias_backward_kernel_v1<T>
      <<<static_cast<unsigned>(g.K), kThreads, 0, stream>>>(dy, g.B, g.K, g.Ho * g.Wo, beta, dbias);
  SIRS_CUDA_CHECK(cudaGetLastError());
}

template <class T>
Conv2dCudnnPlan conv2d_cudnn_plan(cudnnHandle_t handle, int device, bool allow_tf32,
                                  const Conv2dGeom& g, Conv2dPass pass) {
  return lookup<T>(handle, device, allow_tf32, g, pass, FindIO{});
}

int64_t conv2d_cudnn_find_count() { return g_find_calls.load(); }

#define SIRS_INSTANTIATE(T)                                                                     \
  template void conv2d_forward_cuda<T>(cudnnHandle_t, int, bool, const Conv2dGeom&, const T*,   \
                                       const T*, const T*, T, T*);                              \
  template void conv2d_backward_data_cuda<T>(cudnnHandle_t, int, bool, const Conv2dGeom&,       \
                                             const T*, const T*, T, T*);                        \
  template void conv2d_backward_filter_cuda<T>(cudnnHandle_t, int, bool, const Conv2dGeom&,     \
                                               const T*, const T*, T, T*, T*);                  \
  template void conv2d_backward_bias_cuda<T>(const Conv2dGeom&, const T*, T, T*, cudaStream_t); \
  template Conv2dCudnnPlan conv2d_cudnn_plan<T>(cudnnHandle_t, int, bool, const Conv2dGeom&,    \
                                                Conv2dPass);
SIRS_INSTANTIATE(float)
SIRS_INSTANTIATE(double)
#undef SIRS_INSTANTIATE

}  // namespace sirs
