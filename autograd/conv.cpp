// conv2d: checks, dispatch to the CPU kernels (kernels/conv2d.h) or, for
// CUDA tensors, to cuDNN (kernels/cuda/conv2d_cuda.h), and the backward next
// to the forward: dx from conv2d_backward_data_*, dweight and dbias from one
// conv2d_backward_filter_* call.
#include "autograd/conv.h"

#include "autograd/node.h"
#include "kernels/conv2d.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/conv2d_cuda.h"
#endif

namespace sirs {

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, const Conv2dOptions& o) {
  SIRS_CHECK(x.defined() && weight.defined(), ValueError, "conv2d: undefined input or weight");
  check_same_device("conv2d", x, weight);
  check_float("conv2d", x);
  check_same_dtype("conv2d", x, weight);
  SIRS_CHECK(x.dim() == 4 && weight.dim() == 4, ShapeError,
             "conv2d: expected input [B, C, H, W] and weight [K, C, R, S], got ",
             shape_str(x.shape()), " and ", shape_str(weight.shape()));
  SIRS_CHECK(o.stride_h >= 1 && o.stride_w >= 1 && o.dil_h >= 1 && o.dil_w >= 1 && o.pad_h >= 0 &&
                 o.pad_w >= 0,
             ValueError, "conv2d: stride (", o.stride_h, ", ", o.stride_w, ") and dilation (",
             o.dil_h, ", ", o.dil_w, ") must be >= 1 and padding (", o.pad_h, ", ", o.pad_w,
             ") >= 0");
  Conv2dGeom g{x.size(0), x.size(1), x.size(2), x.size(3), weight.size(0), weight.size(2),
               weight.size(3), 0, 0};
  g.stride_h = o.stride_h, g.stride_w = o.stride_w, g.pad_h = o.pad_h, g.pad_w = o.pad_w;
  g.dil_h = o.dil_h, g.dil_w = o.dil_w;
  SIRS_CHECK(weight.size(1) == g.C, ShapeError, "conv2d: input ", shape_str(x.shape()), " has ",
             g.C, " channels but weight ", shape_str(weight.shape()), " expects ", weight.size(1));
  SIRS_CHECK(g.K >= 1 && g.C >= 1 && g.R >= 1 && g.S >= 1, ShapeError,
             "conv2d: empty weight ", shape_str(weight.shape()));
  const int64_t kh = g.dil_h * (g.R - 1) + 1, kw = g.dil_w * (g.S - 1) + 1;
  SIRS_CHECK(g.H + 2 * g.pad_h >= kh && g.W + 2 * g.pad_w >= kw, ShapeError, "conv2d: kernel ",
             kh, "x", kw, " (weight ", shape_str(weight.shape()), ", dilation ", g.dil_h, "x",
             g.dil_w, ") is larger than the padded input ", g.H + 2 * g.pad_h, "x",
             g.W + 2 * g.pad_w, " (input ", shape_str(x.shape()), ", padding ", g.pad_h, "x",
             g.pad_w, ")");
  if (bias.defined()) {
    check_same_device("conv2d", x, bias);
    check_same_dtype("conv2d", x, bias);
    SIRS_CHECK(bias.dim() == 1 && bias.size(0) == g.K, ShapeError, "conv2d: bias ",
               shape_str(bias.shape()), " does not match weight ", shape_str(weight.shape()));
  }
  g.Ho = conv2d_out_size(g.H, g.R, g.stride_h, g.pad_h, g.dil_h);
  g.Wo = conv2d_out_size(g.W, g.S, g.stride_w, g.pad_w, g.dil_w);

  Tensor xc = view::contiguous(x), wc = view::contiguous(weight);
  Tensor bc = bias.defined() ? view::contiguous(bias) : Tensor();
  const Device dev = x.device();
  Tensor y = empty({g.B, g.K, g.Ho, g.Wo}, Options(x.dtype(), dev));
  dispatch_float(x.dtype(), "conv2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* bp = bc.defined() ? bc.data<T>() : nullptr;
    if (dev.is_cuda()) {
      SIRS_IF_CUDA("conv2d",
                   conv2d_forward_cuda<T>(cudnn_handle(dev.index), dev.index,
                                          math_precision() == MathPrecision::TF32, g, xc.data<T>(),
                                          wc.data<T>(), bp, T(0), y.data<T>()));
    } else {
      conv2d_forward_cpu<T>(g, xc.data<T>(), wc.data<T>(), bp, T(0), y.data<T>());
    }
  });

  const bool gx = x.requires_grad(), gw = weight.requires_grad(),
             gb = bias.defined() && bias.requires_grad(), has_bias = bias.defined();
  Tensor sx = gw ? xc.detach() : Tensor(), sw = gx ? wc.detach() : Tensor();
  std::vector<Tensor> inputs = {x, weight};
  if (has_bias) inputs.push_back(bias);
  return record1("conv2d", y, inputs, [=](const Tensor& dy_in) -> std::vector<Tensor> {
    Tensor dy = view::contiguous(dy_in);
    const Device d = dy.device();
    Tensor dx, dw, db;
    if (gx) dx = empty({g.B, g.C, g.H, g.W}, Options(dy.dtype(), d));
    if (gw) dw = empty({g.K, g.C, g.R, g.S}, Options(dy.dtype(), d));
    if (gb) db = empty({g.K}, Options(dy.dtype(), d));
    dispatch_float(dy.dtype(), "conv2d backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* dbp = gb ? db.data<T>() : nullptr;
      if (d.is_cuda()) {
        SIRS_IF_CUDA("conv2d backward", {
          const bool tf32 = math_precision() == MathPrecision::TF32;
          cudnnHandle_t h = cudnn_handle(d.index);
          if (gx)
            conv2d_backward_data_cuda<T>(h, d.index, tf32, g, dy.data<T>(), sw.data<T>(), T(0),
                                         dx.data<T>());
          if (gw) {
            conv2d_backward_filter_cuda<T>(h, d.index, tf32, g, sx.data<T>(), dy.data<T>(), T(0),
                                           dw.data<T>(), dbp);
          } else if (gb) {
            conv2d_backward_bias_cuda<T>(g, dy.data<T>(), T(0), dbp, cuda_stream(d.index));
          }
        });
        return;
      }
      if (gx) conv2d_backward_data_cpu<T>(g, dy.data<T>(), sw.data<T>(), T(0), dx.data<T>());
      if (gw) {
        conv2d_backward_filter_cpu<T>(g, sx.data<T>(), dy.data<T>(), T(0), dw.data<T>(), dbp);
      } else if (gb) {
        // Bias alone: dbias[k] = sum over b, oh, ow of dy.
        const int64_t P = g.Ho * g.Wo;
        const T* p = dy.data<T>();
        for (int64_t k = 0; k < g.K; ++k) dbp[k] = 0;
        for (int64_t b = 0; b < g.B; ++b)
          for (int64_t k = 0; k < g.K; ++k)
            for (int64_t i = 0; i < P; ++i) dbp[k] += p[(b * g.K + k) * P + i];
      }
    });
    std::vector<Tensor> grads = {dx, dw};
    if (has_bias) grads.push_back(db);
    return grads;
  });
}

Tensor conv2d(const Tensor& x, const Tensor& weight, const Tensor& bias, int64_t stride,
              int64_t padding, int64_t dilation) {
  Conv2dOptions o;
  o.stride_h = o.stride_w = stride;
  o.pad_h = o.pad_w = padding;
  o.dil_h = o.dil_w = dilation;
  return conv2d(x, weight, bias, o);
}

}  // namespace sirs
