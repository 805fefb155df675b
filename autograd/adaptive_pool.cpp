// Adaptive average / max pooling with autograd: checks, dispatch to the CPU
// kernels, and the backward next to each forward. Max pooling saves the
// argmax indices (int64, h * W + w within the plane).
#include "autograd/adaptive_pool.h"

#include "autograd/node.h"
#include "kernels/adaptive_pool.h"

namespace sirs {

namespace {
void check_pool_args(const char* op, const Tensor& x, int64_t out_h, int64_t out_w) {
  SIRS_CHECK(x.defined(), ValueError, op, ": x is undefined");
  check_cpu(op, x);
  SIRS_CHECK(x.dim() == 4, ShapeError, op, ": expected x [B, C, H, W], got ", shape_str(x.shape()));
  SIRS_CHECK(out_h > 0 && out_w > 0, ValueError, op, ": output size must be positive, got ", out_h,
             "x", out_w, " for x ", shape_str(x.shape()));
  SIRS_CHECK(x.size(2) > 0 && x.size(3) > 0, ShapeError, op, ": empty spatial dims in x ",
             shape_str(x.shape()));
}
}  // namespace

Tensor adaptive_avg_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  const char* op = "adaptive_avg_pool2d";
  check_pool_args(op, x, out_h, out_w);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor xc = view::contiguous(x);
  Tensor out = empty({B, C, out_h, out_w}, Options(x.dtype()));
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    adaptive_avg_pool2d_forward_cpu<T>(xc.data<T>(), out.data<T>(), B * C, H, W, out_h, out_w);
  });
  Shape in_shape = x.shape();
  return record1(op, out, {x}, [=](const Tensor& dout) -> std::vector<Tensor> {
    Tensor g = view::contiguous(dout);
    Tensor dx = empty(in_shape, Options(g.dtype()));
    dispatch_float(g.dtype(), "adaptive_avg_pool2d backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      adaptive_avg_pool2d_backward_cpu<T>(g.data<T>(), dx.data<T>(), B * C, H, W, out_h, out_w,
                                          0.0);
    });
    return {dx};
  });
}

Tensor adaptive_max_pool2d(const Tensor& x, int64_t out_h, int64_t out_w) {
  const char* op = "adaptive_max_pool2d";
  check_pool_args(op, x, out_h, out_w);
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  Tensor xc = view::contiguous(x);
  Tensor out = empty({B, C, out_h, out_w}, Options(x.dtype()));
  Tensor indices = empty({B, C, out_h, out_w}, Options(DType::I64));
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    adaptive_max_pool2d_forward_cpu<T>(xc.data<T>(), out.data<T>(), indices.data<int64_t>(), B * C,
                                       H, W, out_h, out_w);
  });
  Shape in_shape = x.shape();
  return record1(op, out, {x}, [=](const Tensor& dout) -> std::vector<Tensor> {
    Tensor g = view::contiguous(dout);
    Tensor dx = empty(in_shape, Options(g.dtype()));
    dispatch_float(g.dtype(), "adaptive_max_pool2d backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      adaptive_max_pool2d_backward_cpu<T>(g.data<T>(), indices.data<int64_t>(), dx.data<T>(),
                                          B * C, H, W, out_h, out_w, 0.0);
    });
    return {dx};
  });
}

}  // namespace sirs
