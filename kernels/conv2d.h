// 2-D convolution (cross-correlation, as PyTorch), no groups.
//
//   y[b,k,oh,ow] = bias[k] + sum_{c,r,s} w[k,c,r,s] * x[b, c, oh*sh - ph + r*dh, ow*sw - pw + s*dw]
//
// with x read as 0 outside [0,H) x [0,W) (zero padding). Layouts are
// contiguous NCHW: x [B, C, H, W], w [K, C, R, S], y [B, K, Ho, Wo] with
// Ho = floor((H + 2 ph - dh (R-1) - 1) / sh) + 1 (conv2d_out_size), Wo alike.
//
// Backward, from dy = dL/dy [B, K, Ho, Wo]:
//   dx[b,c,ih,iw] = sum over (k, r, s, oh, ow) that read x[b,c,ih,iw] of dy[b,k,oh,ow] * w[k,c,r,s]
//   dw[k,c,r,s]   = sum_{b,oh,ow} dy[b,k,oh,ow] * x[b, c, oh*sh - ph + r*dh, ow*sw - pw + s*dw]
//   dbias[k]      = sum_{b,oh,ow} dy[b,k,oh,ow]
//
// Every output is out = result + beta * out, as in BLAS: beta = 0 overwrites
// (old contents never read), beta = 1 accumulates into an existing gradient.
//
// Kernel versions (kernels/cpu/conv2d.cpp), picked by the `version` argument;
// kConv2dKernelVersion is the live one:
//   0  direct loops: the readable reference, slow.
//   1  im2col + one GEMM per image (col2im for backward data).
//   2  im2col over a chunk of images + one GEMM per chunk on gathered
//      [K, nb*P] data: bigger GEMMs for the small late-stage images.
//   3  as 2, but when P = Ho*Wo is large each image of the chunk gets its own
//      GEMM that reads/writes its NCHW planes in place (no gather/scatter,
//      and one OpenMP phase per call instead of two).
//   4  as 3, but backward data with stride 1 runs as a forward convolution of
//      dy with the (K, C)-transposed, (R, S)-flipped filter: a deep GEMM and
//      im2col instead of a shallow GEMM and col2im.
//   5  as 4, with equal chunks of images capped at 16 MiB of im2col buffer
//      (stays in L3 between im2col and GEMM) instead of 128 MiB.
//   6  as 4, with im2col/col2im/gathers in OpenMP regions (versions 1-5 use
//      short-lived std::threads, written for the pthreads OpenBLAS). Meant
//      for the OpenMP build of OpenBLAS (make OPENBLAS_VARIANT=openmp), where
//      GEMMs and data movement share one thread team.
//   7  stride 1 and dilation 1 (padding <= R-1, S-1): no im2col; the input
//      copied S times into a zero-padded flat layout, R GEMMs of depth S*C on
//      shifted views of it (kernels/cpu/conv2d.cpp); other geometries as 6.
//   8  3x3, stride 1, dilation 1, padding <= 2: Winograd F(2x2, 3x3) for
//      forward and backward data (16 GEMMs of depth C on transformed tiles,
//      2.25x fewer multiplications); backward filter and other geometries
//      as 4.
//   9  stride 1, dilation 1, float, AVX2+FMA builds: direct convolution with
//      its own register-blocked micro-kernel (6 output pixels x 16 output
//      channels in 12 ymm accumulators) on channel-blocked copies of the
//      input [B, C/8, H+2ph, W+2pw, 8] and filter [K/16, C/8, R, S, 8, 16],
//      no im2col and no BLAS; backward data (padding <= R-1, S-1) through the
//      flipped filter as 4. Backward filter, double and other geometries as 4.
//      Faster than 4 in forward and backward data at the ResNet stage
//      shapes except forward at 512 channels (on par); builds without
//      AVX2/FMA get exactly version 4.
//  10  as 9, with backward filter (stride 1, dilation 1, float, AVX2+FMA)
//      by its own micro-kernel (6 filter taps x 16 output channels in 12 ymm
//      accumulators, the reduction over B*Ho*Wo pixels innermost) on a
//      zero-padded copy of x [B, C, H+2ph, W+2pw] and dy with 16 output
//      channels side by side [B, K/16, Ho*Wo, 16], no im2col and no BLAS.
//      Each thread owns whole parts of dw (no partial sums), so dw has the
//      same bits for every thread count. Other cases as 9.
// Measurements and the reasons for the live choice: docs/PERF.md.
#pragma once

#include <cstdint>

namespace sirs {

inline int64_t conv2d_out_size(int64_t in, int64_t k, int64_t stride, int64_t pad, int64_t dil) {
  return (in + 2 * pad - dil * (k - 1) - 1) / stride + 1;
}

// Sizes of one convolution. Ho, Wo from conv2d_out_size, both >= 1; all
// other sizes >= 1 except B, which may be 0.
struct Conv2dGeom {
  int64_t B, C, H, W;  // input
  int64_t K, R, S;     // filters: K output channels of [C, R, S]
  int64_t Ho, Wo;      // output
  int64_t stride_h = 1, stride_w = 1, pad_h = 0, pad_w = 0, dil_h = 1, dil_w = 1;
};

constexpr int kConv2dKernelVersion = 10;
constexpr int kConv2dNumKernelVersions = 11;

template <class T>
void conv2d_forward_cpu(const Conv2dGeom& g,
                        const T* x,     // [B, C, H, W]
                        const T* w,     // [K, C, R, S]
                        const T* bias,  // [K], or null for none
                        T beta,
                        T* y,  // [B, K, Ho, Wo]
                        int version = kConv2dKernelVersion);

template <class T>
void conv2d_backward_data_cpu(const Conv2dGeom& g,
                              const T* dy,  // [B, K, Ho, Wo]
                              const T* w,   // [K, C, R, S]
                              T beta,
                              T* dx,  // [B, C, H, W]
                              int version = kConv2dKernelVersion);

template <class T>
void conv2d_backward_filter_cpu(const Conv2dGeom& g,
                                const T* x,   // [B, C, H, W]
                                const T* dy,  // [B, K, Ho, Wo]
                                T beta,
                                T* dw,     // [K, C, R, S]
                                T* dbias,  // [K], or null when not wanted
                                int version = kConv2dKernelVersion);

}  // namespace sirs
