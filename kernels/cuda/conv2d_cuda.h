// CUDA launchers for kernels/conv2d.h through cuDNN's convolution API
// (cudnnConvolutionForward / BackwardData / BackwardFilter). Same formula,
// NCHW / KCRS layouts and overwrite/accumulate contract as the CPU functions:
// every output is result + beta * output (beta = 0 never reads it).
//
// The cuDNN descriptors of a geometry and the algorithm of each pass are
// made once per key (device, dtype, precision, B, C, H, W, K, R, S, stride,
// padding, dilation) and cached for the life of the process; the algorithm
// is picked by timing the candidates once (cudnnFind*AlgorithmEx), the
// fastest whose workspace fits. allow_tf32 is math_precision() ==
// MathPrecision::TF32: float32 convolutions may then use TF32 tensor cores;
// otherwise they are restricted to FMA kernels (full fp32). Ignored for double.
// `handle` is cudnn_handle(device); the work runs on its stream.
#pragma once

#include <cuda_runtime.h>
#include <cudnn.h>

#include <cstddef>
#include <cstdint>

#include "kernels/conv2d.h"

namespace sirs {

template <class T>
void conv2d_forward_cuda(cudnnHandle_t handle, int device, bool allow_tf32, const Conv2dGeom& g,
                         const T* x,     // device, [B, C, H, W]
                         const T* w,     // device, [K, C, R, S]
                         const T* bias,  // device, [K], or null for none
                         T beta,
                         T* y);  // device, [B, K, Ho, Wo]

template <class T>
void conv2d_backward_data_cuda(cudnnHandle_t handle, int device, bool allow_tf32,
                               const Conv2dGeom& g,
                               const T* dy,  // device, [B, K, Ho, Wo]
                               const T* w,   // device, [K, C, R, S]
                               T beta,
                               T* dx);  // device, [B, C, H, W]

template <class T>
void conv2d_backward_filter_cuda(cudnnHandle_t handle, int device, bool allow_tf32,
                                 const Conv2dGeom& g,
                                 const T* x,   // device, [B, C, H, W]
                                 const T* dy,  // device, [B, K, Ho, Wo]
                                 T beta,
                                 T* dw,      // device, [K, C, R, S]
                                 T* dbias);  // device, [K], or null when not wanted

// dbias[k] = sum_{b,oh,ow} dy[b,k,oh,ow] + beta * dbias[k] (our kernel; also
// what conv2d_backward_filter_cuda runs for its dbias), for a bias whose
// weight needs no gradient.
template <class T>
void conv2d_backward_bias_cuda(const Conv2dGeom& g,
                               const T* dy,  // device, [B, K, Ho, Wo]
                               T beta,
                               T* dbias,  // device, [K]
                               cudaStream_t stream);

// --- the cached cuDNN choice, for benchmarks that call cuDNN directly with
// exactly what conv2d uses, and for the cache test.

enum class Conv2dPass { Forward = 0, BackwardData = 1, BackwardFilter = 2 };

// Owned by the cache (never destroyed); valid for the life of the process.
struct Conv2dCudnnPlan {
  cudnnTensorDescriptor_t x_desc;          // [B, C, H, W] (dx for BackwardData)
  cudnnFilterDescriptor_t w_desc;          // [K, C, R, S] (dw for BackwardFilter)
  cudnnTensorDescriptor_t y_desc;          // [B, K, Ho, Wo] (dy for the backward passes)
  cudnnConvolutionDescriptor_t conv_desc;  // this pass's, math type set to math_type
  // The pass's algorithm: a cudnnConvolutionFwdAlgo_t, cudnnConvolutionBwdDataAlgo_t
  // or cudnnConvolutionBwdFilterAlgo_t value.
  int algo;
  cudnnMathType_t math_type;
  size_t workspace_bytes;  // what the algorithm needs; conv2d allocates exactly this
};

// The plan conv2d uses for (g, T, allow_tf32) and `pass` on `device`,
// choosing the algorithm now (on zeroed scratch tensors) when no call has
// yet. g.B >= 1.
template <class T>
Conv2dCudnnPlan conv2d_cudnn_plan(cudnnHandle_t handle, int device, bool allow_tf32,
                                  const Conv2dGeom& g, Conv2dPass pass);

// How many algorithm searches the process has made (each kFindRounds
// cudnnFind*AlgorithmEx calls; one search per key and pass when the cache
// works).
int64_t conv2d_cudnn_find_count();

}  // namespace sirs
