// Bilinear resampling with autograd: checks, dispatch to the CPU kernels
// (kernels/upsample.h) or the CUDA ones (kernels/cuda/upsample_cuda.h, which
// take a scratch workspace for their index / weight tables), and the
// backward (a scatter of dout with the forward's weights).
#include "autograd/upsample.h"

#include "autograd/node.h"
#include "kernels/upsample.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/upsample_cuda.h"
#endif

namespace sirs {

Tensor upsample_bilinear2d(const Tensor& x, int64_t out_h, int64_t out_w, bool align_corners) {
  const char* op = "upsample_bilinear2d";
  SIRS_CHECK(x.defined(), ValueError, op, ": x is undefined");
  SIRS_CHECK(x.dim() == 4, ShapeError, op, ": expected x [B, C, H, W], got ", shape_str(x.shape()));
  SIRS_CHECK(out_h > 0 && out_w > 0, ValueError, op, ": output size must be positive, got ", out_h,
             "x", out_w, " for x ", shape_str(x.shape()));
  const int64_t B = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  SIRS_CHECK(H > 0 && W > 0, ShapeError, op, ": empty spatial dims in x ", shape_str(x.shape()));
  Tensor xc = view::contiguous(x);
  const Device dev = x.device();
  Tensor out = empty({B, C, out_h, out_w}, Options(x.dtype(), dev));
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda()) {
      SIRS_IF_CUDA(op, {
        CudaBuffer ws(upsample_bilinear2d_workspace_bytes_cuda(H, W, out_h, out_w, sizeof(T)),
                      dev.index);
        upsample_bilinear2d_forward_cuda<T>(xc.data<T>(), out.data<T>(), B * C, H, W, out_h, out_w,
                                            align_corners, ws.get(), cuda_stream(dev.index));
      });
    } else {
      upsample_bilinear2d_forward_cpu<T>(xc.data<T>(), out.data<T>(), B * C, H, W, out_h, out_w,
                                         align_corners);
    }
  });
  Shape in_shape = x.shape();
  return record1(op, out, {x}, [=](const Tensor& dout) -> std::vector<Tensor> {
    const char* bop = "upsample_bilinear2d backward";
    SIRS_CHECK(dout.device() == dev, DeviceError, bop, ": gradient on ", dout.device().str(),
               ", input on ", dev.str());
    Tensor g = view::contiguous(dout);
    Tensor dx = empty(in_shape, Options(g.dtype(), dev));
    dispatch_float(g.dtype(), bop, [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (dev.is_cuda()) {
        SIRS_IF_CUDA(bop, {
          CudaBuffer ws(upsample_bilinear2d_workspace_bytes_cuda(H, W, out_h, out_w, sizeof(T)),
                        dev.index);
          upsample_bilinear2d_backward_cuda<T>(g.data<T>(), dx.data<T>(), B * C, H, W, out_h, out_w,
                                               align_corners, 0.0, ws.get(),
                                               cuda_stream(dev.index));
        });
      } else {
        upsample_bilinear2d_backward_cpu<T>(g.data<T>(), dx.data<T>(), B * C, H, W, out_h, out_w,
                                            align_corners, 0.0);
      }
    });
    return {dx};
  });
}

}  // namespace sirs
