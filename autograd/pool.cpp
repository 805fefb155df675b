// max_pool2d: checks, dispatch to kernels/pool.h (CPU) or
// kernels/cuda/pool_cuda.h (CUDA), and the backward, which scatters dy
// through the argmax indices saved by the forward (on the input's device).
#include "autograd/pool.h"

#include "autograd/node.h"
#include "kernels/pool.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/pool_cuda.h"
#endif

namespace sirs {

Tensor max_pool2d(const Tensor& x, int64_t kernel, int64_t stride, int64_t padding) {
  SIRS_CHECK(x.defined(), ValueError, "max_pool2d: undefined input");
  check_float("max_pool2d", x);
  SIRS_CHECK(x.dim() == 4, ShapeError, "max_pool2d: expected input [B, C, H, W], got ",
             shape_str(x.shape()));
  if (stride == 0) stride = kernel;
  SIRS_CHECK(kernel >= 1 && stride >= 1 && padding >= 0 && padding <= kernel / 2, ValueError,
             "max_pool2d: need kernel >= 1, stride >= 1 and 0 <= padding <= kernel / 2, got kernel ",
             kernel, ", stride ", stride, ", padding ", padding);
  Pool2dGeom g{x.size(0), x.size(1), x.size(2), x.size(3), 0, 0, kernel, stride, padding};
  SIRS_CHECK(g.H + 2 * padding >= kernel && g.W + 2 * padding >= kernel, ShapeError,
             "max_pool2d: kernel ", kernel, "x", kernel, " is larger than the padded input ",
             g.H + 2 * padding, "x", g.W + 2 * padding, " (input ", shape_str(x.shape()),
             ", padding ", padding, ")");
  g.Ho = pool2d_out_size(g.H, kernel, stride, padding);
  g.Wo = pool2d_out_size(g.W, kernel, stride, padding);
  Tensor xc = view::contiguous(x);
  const Device dev = x.device();
  Tensor y = empty({g.B, g.C, g.Ho, g.Wo}, Options(x.dtype(), dev));
  Tensor idx = empty({g.B, g.C, g.Ho, g.Wo}, Options(DType::I64, dev));
  dispatch_float(x.dtype(), "max_pool2d", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda())
      SIRS_IF_CUDA("max_pool2d",
                   max_pool2d_forward_cuda<T>(g, xc.data<T>(), y.data<T>(), idx.data<int64_t>(),
                                              cuda_stream(dev.index)));
    else
      max_pool2d_forward_cpu<T>(g, xc.data<T>(), y.data<T>(), idx.data<int64_t>());
  });
  return record1("max_pool2d", y, {x}, [g, idx](const Tensor& dy_in) -> std::vector<Tensor> {
    check_same_device("max_pool2d backward", dy_in, idx);
    Tensor dy = view::contiguous(dy_in);
    const Device dev = idx.device();
    Tensor dx = empty({g.B, g.C, g.H, g.W}, Options(dy.dtype(), dev));
    dispatch_float(dy.dtype(), "max_pool2d backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (dev.is_cuda())
        SIRS_IF_CUDA("max_pool2d backward",
                     max_pool2d_backward_cuda<T>(g, dy.data<T>(), idx.data<int64_t>(), T(0),
                                                 dx.data<T>(), cuda_stream(dev.index)));
      else
        max_pool2d_backward_cpu<T>(g, dy.data<T>(), idx.data<int64_t>(), T(0), dx.data<T>());
    });
    return {dx};
  });
}

Tensor max_pool2d(const Tensor& x, int64_t kernel) { return max_pool2d(x, kernel, kernel, 0); }

}  // namespace sirs
