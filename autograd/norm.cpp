// Batch / group / layer norm with autograd: argument checks, the running
// statistics update, dispatch to the CPU kernels (kernels/norm.h) or the
// CUDA ones (kernels/cuda/norm_cuda.h) by x's device, and the backward next
// to each forward. Saved tensors are detached or fresh, on x's device; on
// CUDA the running statistics are updated on the device, in place.
#include "autograd/norm.h"

#include <cmath>

#include "autograd/node.h"
#include "kernels/norm.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/norm_cuda.h"
#endif

namespace sirs {

namespace {

// weight / bias / running statistic: undefined, or a [n] tensor (or the
// given shape) of x's dtype on x's device.
void check_param(const char* op, const char* name, const Tensor& p, const Shape& want,
                 const Tensor& x) {
  if (!p.defined()) return;
  check_same_device(op, x, p);
  SIRS_CHECK(p.shape() == want, ShapeError, op, ": ", name, " must have shape ", shape_str(want),
             " for x ", shape_str(x.shape()), ", got ", shape_str(p.shape()));
  SIRS_CHECK(p.dtype() == x.dtype(), DTypeError, op, ": ", name, " is ", dtype_name(p.dtype()),
             " but x is ", dtype_name(x.dtype()));
}

template <class T>
const T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

bool wants_grad(const Tensor& t) { return t.defined() && t.requires_grad(); }

Tensor contiguous_or_undefined(const Tensor& t) {
  return t.defined() ? view::contiguous(t.detach()) : Tensor();
}

}  // namespace

Tensor batch_norm(const Tensor& x, const Tensor& weight, const Tensor& bias,
                  const Tensor& running_mean, const Tensor& running_var, bool training,
                  double momentum, double eps) {
  const char* op = "batch_norm";
  SIRS_CHECK(x.defined(), ValueError, op, ": x is undefined");
  SIRS_CHECK(x.dim() >= 2, ShapeError, op, ": expected x [B, C] or [B, C, *], got ",
             shape_str(x.shape()));
  const int64_t B = x.size(0), C = x.size(1);
  const int64_t S = C > 0 && B > 0 ? x.numel() / (B * C) : 0;
  check_param(op, "weight", weight, {C}, x);
  check_param(op, "bias", bias, {C}, x);
  check_param(op, "running_mean", running_mean, {C}, x);
  check_param(op, "running_var", running_var, {C}, x);
  SIRS_CHECK(training || (running_mean.defined() && running_var.defined()), ValueError, op,
             ": eval mode (training = false) needs running_mean and running_var, x ",
             shape_str(x.shape()));
  const int64_t n = B * S;
  SIRS_CHECK(!training || n > 1, ValueError, op,
             ": training needs more than one value per channel, got x ", shape_str(x.shape()));

  const Device dev = x.device();
  Tensor xc = view::contiguous(x.detach());
  Tensor mean = empty({C}, Options(x.dtype(), dev)), invstd = empty({C}, Options(x.dtype(), dev));
  Tensor out = empty(x.shape(), Options(x.dtype(), dev));
  Tensor wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* mp = mean.data<T>();
    T* ip = invstd.data<T>();
    if (dev.is_cuda()) {
      // Statistics, running-statistics update and normalisation all queued
      // on the device's stream; the running statistics are written in place
      // through their stride (a [C] view of a larger buffer works).
      SIRS_IF_CUDA(op, {
        cudaStream_t stream = cuda_stream(dev.index);
        auto strided = [](const Tensor& t) { return t.defined() ? t.data<T>() : nullptr; };
        auto stride = [](const Tensor& t) { return t.defined() ? t.stride(0) : int64_t{0}; };
        if (training) {
          Tensor var = empty({C}, Options(x.dtype(), dev));
          batch_norm_stats_cuda<T>(xc.data<T>(), mp, var.data<T>(), B, C, S, dev.index, stream);
          batch_norm_update_cuda<T>(mp, var.data<T>(), ip, strided(running_mean),
                                    stride(running_mean), strided(running_var), stride(running_var),
                                    C, n, momentum, eps, stream);
        } else {
          batch_norm_eval_stats_cuda<T>(running_mean.data<T>(), running_mean.stride(0),
                                        running_var.data<T>(), running_var.stride(0), mp, ip, C,
                                        eps, stream);
        }
        batch_norm_forward_cuda<T>(xc.data<T>(), mp, ip, ptr_or_null<T>(wc), ptr_or_null<T>(bc),
                                   out.data<T>(), B, C, S, stream);
      });
      return;
    }
    if (training) {
      Tensor var = empty({C}, Options(x.dtype(), dev));
      T* vp = var.data<T>();
      batch_norm_stats_cpu<T>(xc.data<T>(), mp, vp, B, C, S);
      for (int64_t c = 0; c < C; ++c)
        ip[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(vp[c]) + eps));
      // Running statistics: outside the graph, in place (through a
      // contiguous copy when the caller's tensor is a strided view).
      const double unbias = static_cast<double>(n) / static_cast<double>(n - 1);
      auto update = [&](const Tensor& run, const T* batch, double factor) {
        if (!run.defined()) return;
        Tensor r = view::contiguous(run.detach());
        T* rp = r.data<T>();
        for (int64_t c = 0; c < C; ++c)
          rp[c] = static_cast<T>((1.0 - momentum) * static_cast<double>(rp[c]) +
                                 momentum * factor * static_cast<double>(batch[c]));
        if (r.storage() != run.storage()) view::copy_into(run.detach(), r);
      };
      update(running_mean, mp, 1.0);
      update(running_var, vp, unbias);
    } else {
      Tensor rm = view::contiguous(running_mean.detach());
      Tensor rv = view::contiguous(running_var.detach());
      for (int64_t c = 0; c < C; ++c) {
        mp[c] = rm.data<T>()[c];
        ip[c] = static_cast<T>(1.0 / std::sqrt(static_cast<double>(rv.data<T>()[c]) + eps));
      }
    }
    batch_norm_forward_cpu<T>(xc.data<T>(), mp, ip, ptr_or_null<T>(wc), ptr_or_null<T>(bc),
                              out.data<T>(), B, C, S);
  });

  const bool need_x = wants_grad(x), need_w = wants_grad(weight), need_b = wants_grad(bias);
  Shape x_shape = x.shape();
  return record1(op, out, {x, weight, bias}, [=](const Tensor& dout) -> std::vector<Tensor> {
    Tensor g = view::contiguous(dout);
    check_same_device("batch_norm backward", xc, g);
    const Options o(g.dtype(), dev);
    Tensor dx = need_x ? empty(x_shape, o) : Tensor();
    Tensor dw = need_w ? empty({C}, o) : Tensor();
    Tensor db = need_b ? empty({C}, o) : Tensor();
    dispatch_float(g.dtype(), "batch_norm backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* dxp = need_x ? dx.data<T>() : nullptr;
      T* dwp = need_w ? dw.data<T>() : nullptr;
      T* dbp = need_b ? db.data<T>() : nullptr;
      if (dev.is_cuda()) {
        SIRS_IF_CUDA(
            "batch_norm backward",
            batch_norm_backward_cuda<T>(g.data<T>(), xc.data<T>(), mean.data<T>(), invstd.data<T>(),
                                        ptr_or_null<T>(wc), dxp, dwp, dbp, B, C, S, training, 0.0,
                                        dev.index, cuda_stream(dev.index)));
        return;
      }
      batch_norm_backward_cpu<T>(g.data<T>(), xc.data<T>(), mean.data<T>(), invstd.data<T>(),
                                 ptr_or_null<T>(wc), dxp, dwp, dbp, B, C, S, training, 0.0);
    });
    return {dx, dw, db};
  });
}

namespace {

// Shared by group_norm and layer_norm: x viewed as [B, C, S] with G groups.
Tensor group_norm_impl(const char* op, const Tensor& x, const Tensor& weight, const Tensor& bias,
                       int64_t B, int64_t C, int64_t S, int64_t G, double eps) {
  const Device dev = x.device();
  const Options o(x.dtype(), dev);
  Tensor xc = view::contiguous(x.detach());
  Tensor wc = contiguous_or_undefined(weight), bc = contiguous_or_undefined(bias);
  Tensor out = empty(x.shape(), o);
  Tensor mean = empty({B * G}, o), invstd = empty({B * G}, o);
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda()) {
      SIRS_IF_CUDA(
          op, group_norm_forward_cuda<T>(xc.data<T>(), ptr_or_null<T>(wc), ptr_or_null<T>(bc),
                                         out.data<T>(), mean.data<T>(), invstd.data<T>(), B, C, S,
                                         G, eps, dev.index, cuda_stream(dev.index)));
      return;
    }
    group_norm_forward_cpu<T>(xc.data<T>(), ptr_or_null<T>(wc), ptr_or_null<T>(bc), out.data<T>(),
                              mean.data<T>(), invstd.data<T>(), B, C, S, G, eps);
  });
  const bool need_x = wants_grad(x), need_w = wants_grad(weight), need_b = wants_grad(bias);
  Shape x_shape = x.shape(), w_shape = weight.defined() ? weight.shape() : Shape{};
  Shape b_shape = bias.defined() ? bias.shape() : Shape{};
  std::string bw_name = str_cat(op, " backward");
  return record1(op, out, {x, weight, bias}, [=](const Tensor& dout) -> std::vector<Tensor> {
    Tensor g = view::contiguous(dout);
    check_same_device(bw_name.c_str(), xc, g);
    const Options go(g.dtype(), dev);
    Tensor dx = need_x ? empty(x_shape, go) : Tensor();
    Tensor dw = need_w ? empty(w_shape, go) : Tensor();
    Tensor db = need_b ? empty(b_shape, go) : Tensor();
    dispatch_float(g.dtype(), bw_name.c_str(), [&](auto tag) {
      using T = typename decltype(tag)::type;
      T* dxp = need_x ? dx.data<T>() : nullptr;
      T* dwp = need_w ? dw.data<T>() : nullptr;
      T* dbp = need_b ? db.data<T>() : nullptr;
      if (dev.is_cuda()) {
        SIRS_IF_CUDA(bw_name.c_str(), group_norm_backward_cuda<T>(
                                          g.data<T>(), xc.data<T>(), mean.data<T>(),
                                          invstd.data<T>(), ptr_or_null<T>(wc), dxp, dwp, dbp, B, C,
                                          S, G, 0.0, dev.index, cuda_stream(dev.index)));
        return;
      }
      group_norm_backward_cpu<T>(g.data<T>(), xc.data<T>(), mean.data<T>(), invstd.data<T>(),
                                 ptr_or_null<T>(wc), dxp, dwp, dbp, B, C, S, G, 0.0);
    });
    return {dx, dw, db};
  });
}

}  // namespace

Tensor group_norm(const Tensor& x, int64_t groups, const Tensor& weight, const Tensor& bias,
                  double eps) {
  const char* op = "group_norm";
  SIRS_CHECK(x.defined(), ValueError, op, ": x is undefined");
  SIRS_CHECK(x.dim() >= 2, ShapeError, op, ": expected x [B, C, *], got ", shape_str(x.shape()));
  const int64_t B = x.size(0), C = x.size(1);
  SIRS_CHECK(groups > 0 && C % groups == 0, ValueError, op, ": C = ", C,
             " is not divisible by groups = ", groups, " (x ", shape_str(x.shape()), ")");
  const int64_t S = B > 0 && C > 0 ? x.numel() / (B * C) : 0;
  check_param(op, "weight", weight, {C}, x);
  check_param(op, "bias", bias, {C}, x);
  return group_norm_impl(op, x, weight, bias, B, C, S, groups, eps);
}

Tensor layer_norm(const Tensor& x, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  const char* op = "layer_norm";
  SIRS_CHECK(x.defined(), ValueError, op, ": x is undefined");
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool trailing = k > 0 && x.dim() >= k;
  for (int64_t i = 0; trailing && i < k; ++i)
    trailing = x.size(x.dim() - k + i) == normalized_shape[i];
  SIRS_CHECK(trailing, ShapeError, op, ": normalized_shape ", shape_str(normalized_shape),
             " must be non-empty and equal the trailing dims of x ", shape_str(x.shape()));
  check_param(op, "weight", weight, normalized_shape, x);
  check_param(op, "bias", bias, normalized_shape, x);
  const int64_t N = shape_numel(normalized_shape);
  const int64_t M = N > 0 ? x.numel() / N : 0;
  // One group of N channels of size 1 per row: the affine is per element.
  return group_norm_impl(op, x, weight, bias, M, N, 1, 1, eps);
}

}  // namespace sirs
