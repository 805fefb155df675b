// matmul and linear: shape checks, broadcasting of batch dims, dispatch to
// gemm_cpu / gemm_batched_cpu (kernels/matmul.h) or, for CUDA tensors, to
// gemm_cuda / gemm_batched_cuda (kernels/cuda/matmul_cuda.h, cuBLAS), and
// the backward next to each forward. The backward passes use the same
// graph-free products, so they run on the device of their inputs.
#include "autograd/linalg.h"

#include <algorithm>

#include "autograd/node.h"
#include "autograd/shape_ops.h"
#include "kernels/matmul.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/matmul_cuda.h"
#endif

namespace sirs {

namespace {

// How the last two dims [rows, cols] of a view reach BLAS: as stored
// (row stride ld) or as the transpose of a stored [cols, rows] (row stride
// ld). Size-1 dims put no constraint on their stride.
struct MatLayout {
  bool ok = false;
  bool trans = false;
  int64_t ld = 0;
};

MatLayout mat_layout(const Tensor& t) {
  int64_t n = t.dim();
  int64_t rows = t.shape()[n - 2], cols = t.shape()[n - 1];
  int64_t s0 = t.strides()[n - 2], s1 = t.strides()[n - 1];
  if ((cols == 1 || s1 == 1) && (rows == 1 || s0 >= std::max<int64_t>(cols, 1)))
    return {true, false, rows == 1 ? cols : s0};
  if ((rows == 1 || s0 == 1) && (cols == 1 || s1 >= std::max<int64_t>(rows, 1)))
    return {true, true, cols == 1 ? rows : s1};
  return {};
}

// A view whose last two dims BLAS can read: t itself or a contiguous copy.
Tensor blas_ready(const Tensor& t, MatLayout* lay) {
  *lay = mat_layout(t);
  if (lay->ok) return t;
  Tensor c = view::contiguous(t);
  *lay = mat_layout(c);
  return c;
}

Shape batch_of(const Tensor& t) { return Shape(t.shape().begin(), t.shape().end() - 2); }

// Element offsets of every batch entry of t expanded to `batch` (row-major
// order over batch); broadcast dims contribute stride 0.
std::vector<int64_t> batch_offsets(const Tensor& t, const Shape& batch) {
  Shape full = batch;
  full.push_back(t.shape()[t.dim() - 2]);
  full.push_back(t.shape()[t.dim() - 1]);
  Tensor e = view::expand(t, full);
  int64_t nb = shape_numel(batch), nd = static_cast<int64_t>(batch.size());
  std::vector<int64_t> off(nb);
  for (int64_t i = 0; i < nb; ++i) {
    int64_t rem = i, o = 0;
    for (int64_t d = nd - 1; d >= 0; --d) {
      o += (rem % batch[d]) * e.strides()[d];
      rem /= batch[d];
    }
    off[i] = o;
  }
  return off;
}

// Graph-free batched product: a [..., M, K], b [..., K, N] (batch dims
// broadcast) -> a new contiguous [batch..., M, N] on their device.
Tensor bmm_raw(const Tensor& a_in, const Tensor& b_in) {
  MatLayout la, lb;
  Tensor a = blas_ready(a_in, &la), b = blas_ready(b_in, &lb);
  int64_t M = a.shape()[a.dim() - 2], K = a.shape()[a.dim() - 1], N = b.shape()[b.dim() - 1];
  Shape batch = broadcast_shapes(batch_of(a), batch_of(b), "matmul");
  Shape out_shape = batch;
  out_shape.push_back(M);
  out_shape.push_back(N);
  Tensor out = empty(out_shape, Options(a.dtype(), a.device()));
  int64_t nb = shape_numel(batch);
  std::vector<int64_t> ao = batch_offsets(a, batch), bo = batch_offsets(b, batch), co(nb);
  for (int64_t i = 0; i < nb; ++i) co[i] = i * M * N;
  dispatch_float(a.dtype(), "matmul", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (a.device().is_cuda()) {
      SIRS_IF_CUDA("matmul", gemm_batched_cuda<T>(cublas_handle(a.device().index),
                                                  math_precision() == MathPrecision::TF32, nb,
                                                  la.trans, lb.trans, M, N, K, T(1), a.data<T>(),
                                                  ao.data(), la.ld, b.data<T>(), bo.data(), lb.ld,
                                                  T(0), out.data<T>(), co.data(), N));
    } else {
      gemm_batched_cpu<T>(nb, la.trans, lb.trans, M, N, K, T(1), a.data<T>(), ao.data(), la.ld,
                          b.data<T>(), bo.data(), lb.ld, T(0), out.data<T>(), co.data(), N);
    }
  });
  return out;
}

Tensor transpose_last(const Tensor& t) {
  Shape p(t.dim());
  for (int64_t i = 0; i < t.dim(); ++i) p[i] = i;
  std::swap(p[t.dim() - 1], p[t.dim() - 2]);
  return view::permute(t, p);
}

void check_operands(const char* op, const Tensor& a, const Tensor& b) {
  SIRS_CHECK(a.defined() && b.defined(), ValueError, op, ": undefined operand");
  check_same_device(op, a, b);
  check_float(op, a);
  check_same_dtype(op, a, b);
}

// Both operands at least 2-D with matching inner dims.
Tensor matmul_nd(const Tensor& a, const Tensor& b) {
  Tensor out = bmm_raw(a, b);
  bool ga = a.requires_grad(), gb = b.requires_grad();
  Tensor sa = a.detach(), sb = b.detach();
  return record1("matmul", out, {a, b}, [=](const Tensor& dc) -> std::vector<Tensor> {
    Tensor da, db;
    if (ga) da = sum_to(bmm_raw(dc, transpose_last(sb)), sa.shape());
    if (gb) db = sum_to(bmm_raw(transpose_last(sa), dc), sb.shape());
    return {da, db};
  });
}

}  // namespace

Tensor matmul(const Tensor& a, const Tensor& b) {
  check_operands("matmul", a, b);
  SIRS_CHECK(a.dim() >= 1 && b.dim() >= 1, ShapeError,
             "matmul: operands must be at least 1-D, got ", shape_str(a.shape()), " and ",
             shape_str(b.shape()));
  int64_t ka = a.shape().back(), kb = b.dim() == 1 ? b.shape()[0] : b.shape()[b.dim() - 2];
  SIRS_CHECK(ka == kb, ShapeError, "matmul: inner dimensions differ: ", shape_str(a.shape()),
             " x ", shape_str(b.shape()), " (", ka, " vs ", kb, ")");
  if (a.dim() == 1 && b.dim() == 1) return matmul(a.unsqueeze(0), b.unsqueeze(1)).reshape({});
  if (a.dim() == 1) return matmul(a.unsqueeze(0), b).squeeze(-2);
  if (b.dim() == 1) return matmul(a, b.unsqueeze(1)).squeeze(-1);
  if (b.dim() == 2 && a.dim() > 2) {
    // [..., M, K] x [K, N]: one GEMM over the flattened rows, so dB is one
    // GEMM as well instead of a batch of products summed afterwards.
    Shape lead(a.shape().begin(), a.shape().end() - 1);
    Tensor flat = matmul_nd(a.reshape({shape_numel(lead), ka}), b);
    lead.push_back(b.shape()[1]);
    return flat.reshape(lead);
  }
  broadcast_shapes(batch_of(a), batch_of(b), "matmul");
  return matmul_nd(a, b);
}

Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias) {
  check_operands("linear", x, weight);
  SIRS_CHECK(weight.dim() == 2, ShapeError, "linear: weight must be [out, in], got ",
             shape_str(weight.shape()));
  SIRS_CHECK(x.dim() >= 1 && x.shape().back() == weight.shape()[1], ShapeError,
             "linear: input ", shape_str(x.shape()), " does not end in weight's in_features (weight ",
             shape_str(weight.shape()), ")");
  int64_t in = weight.shape()[1], out = weight.shape()[0];
  if (bias.defined()) {
    check_same_device("linear", x, bias);
    check_same_dtype("linear", x, bias);
    SIRS_CHECK(bias.dim() == 1 && bias.shape()[0] == out, ShapeError, "linear: bias ",
               shape_str(bias.shape()), " does not match weight ", shape_str(weight.shape()));
  }
  Shape lead(x.shape().begin(), x.shape().end() - 1);
  int64_t rows = shape_numel(lead);
  MatLayout lx, lw;
  Tensor xf = blas_ready(view::reshape(x, {rows, in}), &lx);
  Tensor wt = blas_ready(view::permute(weight, {1, 0}), &lw);  // [in, out]
  Tensor y = empty({rows, out}, Options(x.dtype(), x.device()));
  Tensor bc = bias.defined() ? view::contiguous(bias) : Tensor();
  dispatch_float(x.dtype(), "linear", [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* yp = y.data<T>();
    if (x.device().is_cuda()) {
      // y = bias broadcast over the rows, then the GEMM accumulates onto it.
      if (bc.defined()) view::copy_into(y, view::expand(bc, {rows, out}));
      SIRS_IF_CUDA("linear", gemm_cuda<T>(cublas_handle(x.device().index),
                                          math_precision() == MathPrecision::TF32, lx.trans,
                                          lw.trans, rows, out, in, T(1), xf.data<T>(), lx.ld,
                                          wt.data<T>(), lw.ld, T(bc.defined() ? 1 : 0), yp, out));
      return;
    }
    if (bc.defined()) {
      const T* bp = bc.data<T>();
      for (int64_t r = 0; r < rows; ++r) std::copy(bp, bp + out, yp + r * out);
    }
    gemm_cpu<T>(lx.trans, lw.trans, rows, out, in, T(1), xf.data<T>(), lx.ld, wt.data<T>(), lw.ld,
                T(bc.defined() ? 1 : 0), yp, out);
  });
  Shape y_shape = lead;
  y_shape.push_back(out);
  y = view::view_only(y, y_shape);
  bool gx = x.requires_grad(), gw = weight.requires_grad(),
       gb = bias.defined() && bias.requires_grad();
  Tensor sx = xf.detach(), sw = weight.detach();
  Shape x_shape = x.shape();
  bool has_bias = bias.defined();
  std::vector<Tensor> inputs = {x, weight};
  if (has_bias) inputs.push_back(bias);
  return record1("linear", y, inputs, [=](const Tensor& dy_in) -> std::vector<Tensor> {
    Tensor dy = view::reshape(dy_in, {rows, out});
    Tensor dx, dw, db;
    if (gx) dx = view::view_only(bmm_raw(dy, sw), x_shape);  // [rows, out] x [out, in]
    if (gw) dw = bmm_raw(transpose_last(dy), sx);            // [out, rows] x [rows, in]
    if (gb)
      db = view::reshape(bmm_raw(ones({1, rows}, Options(dy.dtype(), dy.device())), dy), {out});
    std::vector<Tensor> g = {dx, dw};
    if (has_bias) g.push_back(db);
    return g;
  });
}

}  // namespace sirs
