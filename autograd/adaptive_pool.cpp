// Adaptive average / max pooling with autograd: checks, dispatch to the CPU
// kernels (kernels/adaptive_pool.h) or the CUDA ones
// (kernels/cuda/adaptive_pool_cuda.h), and the backward next to each
// forward. Max pooling saves the argmax indices (int64, h * W + w within the
// plane, on the input's device).
#include "autograd/adaptive_pool.h"

#include "autograd/node.h"
#include "kernels/adaptive_pool.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/adaptive_pool_cuda.h"
#include "kernels/cuda/context.h"
#endif

namespace sirs {

namespace {
void check_pool_args(const char* op, const Tensor& x, int64_t out_h, int64_t out_w) {
  SIRS_CHECK(x.defined(), ValueError, op, ": x is undefined");
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
  const Device dev = x.device();
  Tensor out = empty({B, C, out_h, out_w}, Options(x.dtype(), dev));
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda())
      SIRS_IF_CUDA(op, adaptive_avg_pool2d_forward_cuda<T>(xc.data<T>(), out.data<T>(), B * C, H, W,
                                                           out_h, out_w, cuda_stream(dev.index)));
    else
      adaptive_avg_pool2d_forward_cpu<T>(xc.data<T>(), out.data<T>(), B * C, H, W, out_h, out_w);
  });
  Shape in_shape = x.shape();
  return record1(op, out, {x}, [=](const Tensor& dout) -> std::vector<Tensor> {
    const char* bop = "adaptive_avg_pool2d backward";
    SIRS_CHECK(dout.device() == dev, DeviceError, bop, ": gradient on ", dout.device().str(),
               ", input on ", dev.str());
    Tensor g = view::contiguous(dout);
    Tensor dx = empty(in_shape, Options(g.dtype(), dev));
    dispatch_float(g.dtype(), bop, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (dev.is_cuda())
        SIRS_IF_CUDA(
            bop, adaptive_avg_pool2d_backward_cuda<T>(g.data<T>(), dx.data<T>(), B * C, H, W, out_h,
                                                      out_w, 0.0, cuda_stream(dev.index)));
      else
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
  const Device dev = x.device();
  Tensor out = empty({B, C, out_h, out_w}, Options(x.dtype(), dev));
  Tensor indices = empty({B, C, out_h, out_w}, Options(DType::I64, dev));
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda())
      SIRS_IF_CUDA(op, adaptive_max_pool2d_forward_cuda<T>(xc.data<T>(), out.data<T>(),
                                                           indices.data<int64_t>(), B * C, H, W,
                                                           out_h, out_w, cuda_stream(dev.index)));
    else
      adaptive_max_pool2d_forward_cpu<T>(xc.data<T>(), out.data<T>(), indices.data<int64_t>(),
                                         B * C, H, W, out_h, out_w);
  });
  Shape in_shape = x.shape();
  return record1(op, out, {x}, [=](const Tensor& dout) -> std::vector<Tensor> {
    const char* bop = "adaptive_max_pool2d backward";
    check_same_device(bop, dout, indices);
    Tensor g = view::contiguous(dout);
    Tensor dx = empty(in_shape, Options(g.dtype(), dev));
    dispatch_float(g.dtype(), bop, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (dev.is_cuda())
        SIRS_IF_CUDA(bop, adaptive_max_pool2d_backward_cuda<T>(g.data<T>(), indices.data<int64_t>(),
                                                               dx.data<T>(), B * C, H, W, out_h,
                                                               out_w, 0.0, cuda_stream(dev.index)));
      else
        adaptive_max_pool2d_backward_cpu<T>(g.data<T>(), indices.data<int64_t>(), dx.data<T>(),
                                            B * C, H, W, out_h, out_w, 0.0);
    });
    return {dx};
  });
}

}  // namespace sirs
