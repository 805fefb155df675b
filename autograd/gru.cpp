// The GRU family with autograd: gru_cell (the fused gates of one step,
// kernels/gru.h) with its backward beside the forward and the CPU / CUDA
// choice, and gru_unbind (the steps of a time-major tensor as views, one
// node for all of them).
// Tests: ./build/sirs_tests --gtest_filter='GruCell*:CudaGru*:GRU*'
#include "autograd/gru.h"

#include "autograd/node.h"
#include "kernels/gru.h"
#include "tensor/device.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/gru_cuda.h"
#endif

namespace sirs {

namespace {

template <class T>
T* ptr_or_null(const Tensor& t) {
  return t.defined() ? t.data<T>() : nullptr;
}

}  // namespace

Tensor gru_cell(const Tensor& gi_r, const Tensor& gi_z, const Tensor& gi_n, const Tensor& gh_r,
                const Tensor& gh_z, const Tensor& gh_n, const Tensor& h) {
  const char* op = "gru_cell";
  const std::vector<Tensor> ins = {gi_r, gi_z, gi_n, gh_r, gh_z, gh_n, h};
  static const char* const kNames[] = {"gi_r", "gi_z", "gi_n", "gh_r", "gh_z", "gh_n", "h"};
  for (size_t k = 0; k < ins.size(); ++k)
    SIRS_CHECK(ins[k].defined(), ValueError, op, ": ", kNames[k], " is undefined");
  check_float(op, h);
  SIRS_CHECK(h.dim() == 2, ShapeError, op, ": expected h [B, H], got ", shape_str(h.shape()));
  for (size_t k = 0; k + 1 < ins.size(); ++k) {
    check_same_dtype(op, ins[k], h);
    check_same_device(op, ins[k], h);
    SIRS_CHECK(ins[k].shape() == h.shape(), ShapeError, op, ": ", kNames[k], " has shape ",
               shape_str(ins[k].shape()), " but h is ", shape_str(h.shape()),
               "; every operand is [B, H]");
  }
  const int64_t B = h.size(0), H = h.size(1);
  const Options o(h.dtype(), h.device());
  // Contiguous, detached operands (no copy when already contiguous).
  Tensor c_gi_r = view::contiguous(gi_r.detach()), c_gi_z = view::contiguous(gi_z.detach());
  Tensor c_gi_n = view::contiguous(gi_n.detach()), c_gh_r = view::contiguous(gh_r.detach());
  Tensor c_gh_z = view::contiguous(gh_z.detach()), c_gh_n = view::contiguous(gh_n.detach());
  Tensor c_h = view::contiguous(h.detach());

  const bool graph = needs_grad(ins);
  Tensor out = empty({B, H}, o);
  Tensor r, z, n;  // saved for the backward only
  if (graph) r = empty({B, H}, o), z = empty({B, H}, o), n = empty({B, H}, o);
  dispatch_float(h.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (h.device().is_cuda()) {
      SIRS_IF_CUDA(op, gru_cell_forward_cuda<T>(
                           c_gi_r.data<T>(), c_gi_z.data<T>(), c_gi_n.data<T>(), c_gh_r.data<T>(),
                           c_gh_z.data<T>(), c_gh_n.data<T>(), c_h.data<T>(), out.data<T>(),
                           ptr_or_null<T>(r), ptr_or_null<T>(z), ptr_or_null<T>(n), B, H,
                           cuda_stream(h.device().index)));
    } else {
      gru_cell_forward_cpu<T>(c_gi_r.data<T>(), c_gi_z.data<T>(), c_gi_n.data<T>(),
                              c_gh_r.data<T>(), c_gh_z.data<T>(), c_gh_n.data<T>(), c_h.data<T>(),
                              out.data<T>(), ptr_or_null<T>(r), ptr_or_null<T>(z),
                              ptr_or_null<T>(n), B, H);
    }
  });
  if (!graph) return out;

  bool need[7];
  for (size_t k = 0; k < ins.size(); ++k) need[k] = ins[k].requires_grad();
  // d(gi_r) = d(gh_r) and d(gi_z) = d(gh_z) (kernels/gru.h): one tensor
  // serves both inputs; the engine never writes into a gradient it is given.
  const bool need_r = need[0] || need[3], need_z = need[1] || need[4];
  const bool need_n = need[2], need_hn = need[5], need_h = need[6];
  return record1(op, out, ins, [=](const Tensor& dout) -> std::vector<Tensor> {
    Tensor g = view::contiguous(dout);
    Options go(r.dtype(), r.device());
    Tensor dr = need_r ? empty({B, H}, go) : Tensor();
    Tensor dz = need_z ? empty({B, H}, go) : Tensor();
    Tensor dn = need_n ? empty({B, H}, go) : Tensor();
    Tensor dhn = need_hn ? empty({B, H}, go) : Tensor();
    Tensor dh = need_h ? empty({B, H}, go) : Tensor();
    dispatch_float(r.dtype(), "gru_cell backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (r.device().is_cuda()) {
        SIRS_IF_CUDA("gru_cell backward",
                     gru_cell_backward_cuda<T>(
                         g.data<T>(), r.data<T>(), z.data<T>(), n.data<T>(), c_gh_n.data<T>(),
                         c_h.data<T>(), ptr_or_null<T>(dr), ptr_or_null<T>(dz),
                         ptr_or_null<T>(dn), ptr_or_null<T>(dhn), ptr_or_null<T>(dh), B, H,
                         cuda_stream(r.device().index)));
      } else {
        gru_cell_backward_cpu<T>(g.data<T>(), r.data<T>(), z.data<T>(), n.data<T>(),
                                 c_gh_n.data<T>(), c_h.data<T>(), ptr_or_null<T>(dr),
                                 ptr_or_null<T>(dz), ptr_or_null<T>(dn), ptr_or_null<T>(dhn),
                                 ptr_or_null<T>(dh), B, H);
      }
    });
    return {need[0] ? dr : Tensor(), need[1] ? dz : Tensor(), dn,
            need[3] ? dr : Tensor(), need[4] ? dz : Tensor(), dhn, dh};
  });
}

std::vector<Tensor> gru_unbind(const Tensor& x) {
  SIRS_CHECK(x.defined() && x.dim() >= 1 && x.size(0) >= 1, ShapeError,
             "gru_unbind: expected x [T, ...] with T >= 1, got ",
             x.defined() ? shape_str(x.shape()) : std::string("undefined"));
  const int64_t T = x.size(0);
  Tensor xd = x.detach();
  std::vector<Tensor> steps;
  steps.reserve(static_cast<size_t>(T));
  for (int64_t t = 0; t < T; ++t) steps.push_back(view::squeeze(view::narrow(xd, 0, t, 1), 0));
  Shape x_shape = x.shape();
  record("gru_unbind", steps, {x}, [x_shape, T](const std::vector<Tensor>& douts) {
    Tensor like;
    for (const Tensor& d : douts)
      if (d.defined()) like = d;  // FunctionNode::apply calls only when one is
    Tensor dx = empty(x_shape, Options(like.dtype(), like.device()));
    for (int64_t t = 0; t < T; ++t) {
      Tensor row = view::squeeze(view::narrow(dx, 0, t, 1), 0);
      if (douts[t].defined())
        view::copy_into(row, douts[t]);
      else
        view::fill(row, 0.0);
    }
    return std::vector<Tensor>{dx};
  });
  return steps;
}

}  // namespace sirs
