// cat, stack, index_select and gather with their backwards. On the CPU cat
// copies each input into its slab of the output through the strided copy
// kernel (kernels/copy.h) and its backward hands each input its slab of
// dout; on CUDA one launch copies all inputs (and one splits dout).
// index_select and gather run the kernels in kernels/index.h (CPU) or
// kernels/cuda/index_cuda.h, whose backwards add duplicate indices'
// gradients in a fixed order on both devices. Indices live on the input's
// device; out-of-range ones are the same IndexError on both (on CUDA
// reported at the next synchronisation: kernels/cuda/deferred_check.h).
#include "autograd/index_ops.h"

#include <vector>

#include "autograd/node.h"
#include "kernels/cuda/deferred_check.h"  // host part: builds without CUDA too
#include "kernels/index.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/index_cuda.h"
#endif

namespace sirs {

namespace {

// Calls fn(TypeTag<T>{}) for the dtypes the index kernels support.
template <class F>
void dispatch_index(DType t, const char* op, F&& fn) {
  switch (t) {
    case DType::F32: fn(TypeTag<float>{}); return;
    case DType::F64: fn(TypeTag<double>{}); return;
    case DType::I64: fn(TypeTag<int64_t>{}); return;
    default:
      throw DTypeError(str_cat(op, ": expected float32, float64 or int64 input, got ",
                               dtype_name(t)));
  }
}

// note: "" on the CPU; on CUDA where and when the check ran.
[[noreturn]] void throw_index_range(const char* op, int64_t value, int64_t j, int64_t size,
                                    int64_t dim, const Shape& x_shape,
                                    const std::string& note = "") {
  throw IndexError(str_cat(op, ": index ", value, " (element ", j,
                           " of the index) is out of range for dim ", dim, " of size ", size,
                           " (input ", shape_str(x_shape), ")", note));
}

// IndexError naming the first index outside [0, size); idx is contiguous,
// on either device. On CUDA the check runs there into a flag read later
// without a sync (kernels/cuda/deferred_check.h): the error comes at the
// next synchronisation, and the kernels that use idx meanwhile skip bad
// indices. op is a string literal (the closure keeps the pointer).
void check_index_range(const char* op, const Tensor& idx, int64_t size, int64_t dim,
                       const Shape& x_shape) {
  const int64_t n = idx.numel();
  if (idx.device().is_cuda()) {
    if (n == 0) return;
    DeferredIndexCheck check(
        op, idx.data<int64_t>(), n, 0, size, idx.storage(),
        [op, size, dim, x_shape](int64_t j, int64_t value, const std::string& note) {
          throw_index_range(op, value, j, size, dim, x_shape, note);
        });
    SIRS_IF_CUDA(op, cuda_checked_launch(idx.device().index, std::move(check), [&](int32_t* flag) {
                   index_check_cuda(idx.data<int64_t>(), n, size, flag,
                                    cuda_stream(idx.device().index));
                 }));
    return;
  }
  const int64_t* p = idx.data<int64_t>();
  for (int64_t j = 0; j < n; ++j)
    if (p[j] < 0 || p[j] >= size) throw_index_range(op, p[j], j, size, dim, x_shape);
}

void check_index_tensor(const char* op, const Tensor& x, const Tensor& index) {
  check_same_device(op, x, index);
  SIRS_CHECK(index.dtype() == DType::I64, DTypeError, op, ": index must be int64, got ",
             dtype_name(index.dtype()), " ", shape_str(index.shape()));
  SIRS_CHECK(x.dim() >= 1, ShapeError, op, ": input must have at least one dim, got ",
             shape_str(x.shape()));
}

// Products of the sizes before and after dim d.
void outer_inner(const Shape& s, int64_t d, int64_t* outer, int64_t* inner) {
  *outer = 1;
  *inner = 1;
  for (int64_t k = 0; k < d; ++k) *outer *= s[static_cast<size_t>(k)];
  for (size_t k = static_cast<size_t>(d) + 1; k < s.size(); ++k) *inner *= s[k];
}

// cat on CUDA: every tensor seen as [outer, size(d) * inner]; non-contiguous
// inputs are made contiguous first, then one launch copies them all.
void cat_forward_on_cuda(const Tensor& out, const std::vector<Tensor>& xs, int64_t d) {
  int64_t outer = 1, inner = 1;
  outer_inner(out.shape(), d, &outer, &inner);
  std::vector<Tensor> keep;  // alive until the launch is queued
  std::vector<const void*> ptrs;
  std::vector<int64_t> widths;
  for (const Tensor& x : xs) {
    keep.push_back(view::contiguous(x));
    ptrs.push_back(keep.back().raw_data());
    widths.push_back(x.size(d) * inner);
  }
  SIRS_IF_CUDA("cat", cat_forward_cuda(out.raw_data(), static_cast<int>(dtype_size(out.dtype())),
                                       ptrs.data(), widths.data(), static_cast<int>(xs.size()),
                                       outer, cuda_stream(out.device().index)));
}

// The backward of cat on CUDA: one launch splits dout into fresh gradients.
std::vector<Tensor> cat_backward_on_cuda(const Tensor& dout, int64_t d,
                                         const std::vector<int64_t>& lengths) {
  Tensor g = view::contiguous(dout);
  int64_t outer = 1, inner = 1;
  outer_inner(g.shape(), d, &outer, &inner);
  std::vector<Tensor> grads;
  std::vector<void*> ptrs;
  std::vector<int64_t> widths;
  for (int64_t len : lengths) {
    Shape s = g.shape();
    s[static_cast<size_t>(d)] = len;
    grads.push_back(empty(s, Options(g.dtype(), g.device())));
    ptrs.push_back(grads.back().raw_data());
    widths.push_back(len * inner);
  }
  SIRS_IF_CUDA("cat backward",
               cat_backward_cuda(g.raw_data(), static_cast<int>(dtype_size(g.dtype())),
                                 ptrs.data(), widths.data(), static_cast<int>(lengths.size()),
                                 outer, cuda_stream(g.device().index)));
  return grads;
}

}  // namespace

// ------------------------------------------------------------ cat, stack

Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  SIRS_CHECK(!xs.empty(), ValueError, "cat: expected at least one tensor");
  const Tensor& x0 = xs[0];
  SIRS_CHECK(x0.dim() >= 1, ShapeError, "cat: tensor 0 is 0-d (", shape_str(x0.shape()),
             "); 0-d tensors cannot be concatenated");
  int64_t d = wrap_dim(dim, x0.dim(), "cat");
  Shape out_shape = x0.shape();
  out_shape[d] = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    check_same_dtype("cat", x0, x);
    check_same_device("cat", x0, x);
    bool ok = x.dim() == x0.dim();
    for (int64_t k = 0; ok && k < x.dim(); ++k) ok = k == d || x.size(k) == x0.size(k);
    SIRS_CHECK(ok, ShapeError, "cat: tensor ", i, " has shape ", shape_str(x.shape()),
               " but tensor 0 has shape ", shape_str(x0.shape()),
               "; sizes must match except in dim ", d);
    out_shape[d] += x.size(d);
  }
  Tensor out = empty(out_shape, Options(x0.dtype(), x0.device()));
  std::vector<int64_t> starts, lengths;
  int64_t off = 0;
  const bool on_cuda = x0.device().is_cuda();
  for (const Tensor& x : xs) {
    if (!on_cuda && x.numel() > 0) view::copy_into(view::narrow(out, d, off, x.size(d)), x);
    starts.push_back(off);
    lengths.push_back(x.size(d));
    off += x.size(d);
  }
  if (on_cuda) cat_forward_on_cuda(out, xs, d);
  record("cat", {out}, xs, [d, starts, lengths](const std::vector<Tensor>& douts) {
    if (douts[0].device().is_cuda()) return cat_backward_on_cuda(douts[0], d, lengths);
    std::vector<Tensor> grads;
    for (size_t i = 0; i < starts.size(); ++i)
      grads.push_back(view::contiguous(view::narrow(douts[0], d, starts[i], lengths[i])));
    return grads;
  });
  return out;
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  SIRS_CHECK(!xs.empty(), ValueError, "stack: expected at least one tensor");
  for (size_t i = 0; i < xs.size(); ++i)
    SIRS_CHECK(xs[i].shape() == xs[0].shape(), ShapeError, "stack: tensor ", i, " has shape ",
               shape_str(xs[i].shape()), " but tensor 0 has shape ", shape_str(xs[0].shape()),
               "; all must be equal");
  int64_t d = wrap_dim(dim, xs[0].dim() + 1, "stack");
  std::vector<Tensor> us;
  us.reserve(xs.size());
  for (const Tensor& x : xs) us.push_back(x.unsqueeze(d));
  return cat(us, d);
}

// ------------------------------------------------------------ index_select

Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "index_select";
  check_index_tensor(op, x, index);
  SIRS_CHECK(index.dim() <= 1, ShapeError, "index_select: index must be 1-D, got ",
             shape_str(index.shape()));
  int64_t d = wrap_dim(dim, x.dim(), op);
  Tensor idx = view::contiguous(index).detach();
  int64_t L = idx.numel(), N = x.size(d);
  check_index_range(op, idx, N, d, x.shape());
  int64_t outer = 1, inner = 1;
  outer_inner(x.shape(), d, &outer, &inner);
  Shape out_shape = x.shape();
  out_shape[d] = L;
  Tensor xc = view::contiguous(x);
  Tensor out = empty(out_shape, Options(x.dtype(), x.device()));
  dispatch_index(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (x.device().is_cuda())
      SIRS_IF_CUDA(op, index_select_forward_cuda<T>(xc.data<T>(), idx.data<int64_t>(), outer, N,
                                                    inner, L, out.data<T>(),
                                                    cuda_stream(x.device().index)));
    else
      index_select_forward_cpu<T>(xc.data<T>(), idx.data<int64_t>(), outer, N, inner, L,
                                  out.data<T>());
  });
  Shape in_shape = x.shape();
  return record1(op, out, {x}, [=](const Tensor& dout) {
    Tensor g = view::contiguous(dout);
    Tensor dx = empty(in_shape, Options(g.dtype(), g.device()));
    dispatch_float(g.dtype(), "index_select backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (g.device().is_cuda())
        SIRS_IF_CUDA("index_select backward",
                     index_select_backward_cuda<T>(g.data<T>(), idx.data<int64_t>(), outer, N,
                                                   inner, L, dx.data<T>(), T(0),
                                                   cuda_stream(g.device().index)));
      else
        index_select_backward_cpu<T>(g.data<T>(), idx.data<int64_t>(), outer, N, inner, L,
                                     dx.data<T>(), T(0));
    });
    return std::vector<Tensor>{dx};
  });
}

// ------------------------------------------------------------ gather

Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  const char* op = "gather";
  check_index_tensor(op, x, index);
  int64_t d = wrap_dim(dim, x.dim(), op);
  SIRS_CHECK(index.dim() == x.dim(), ShapeError, "gather: index ", shape_str(index.shape()),
             " must have the rank of the input ", shape_str(x.shape()));
  for (int64_t k = 0; k < x.dim(); ++k)
    SIRS_CHECK(k == d || index.size(k) <= x.size(k), ShapeError, "gather: index ",
               shape_str(index.shape()), " is larger than the input ", shape_str(x.shape()),
               " in dim ", k, " (only dim ", d, " may differ freely)");
  Tensor idx = view::contiguous(index).detach();
  int64_t N = x.size(d), L = index.size(d);
  check_index_range(op, idx, N, d, x.shape());
  // Cut x down to the index's sizes outside dim so both share [outer, ., inner].
  Tensor xn = x;
  for (int64_t k = 0; k < x.dim(); ++k)
    if (k != d && index.size(k) < x.size(k)) xn = view::narrow(xn, k, 0, index.size(k));
  Shape xn_shape = xn.shape();
  int64_t outer = 1, inner = 1;
  for (int64_t k = 0; k < d; ++k) outer *= index.size(k);
  for (int64_t k = d + 1; k < x.dim(); ++k) inner *= index.size(k);
  Tensor xc = view::contiguous(xn);
  Tensor out = empty(index.shape(), Options(x.dtype(), x.device()));
  dispatch_index(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (x.device().is_cuda())
      SIRS_IF_CUDA(op, gather_forward_cuda<T>(xc.data<T>(), idx.data<int64_t>(), outer, N, inner,
                                              L, out.data<T>(), cuda_stream(x.device().index)));
    else
      gather_forward_cpu<T>(xc.data<T>(), idx.data<int64_t>(), outer, N, inner, L,
                            out.data<T>());
  });
  Shape in_shape = x.shape();
  return record1(op, out, {x}, [=](const Tensor& dout) {
    Tensor g = view::contiguous(dout);
    Tensor dxn = empty(xn_shape, Options(g.dtype(), g.device()));
    dispatch_float(g.dtype(), "gather backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (g.device().is_cuda())
        SIRS_IF_CUDA("gather backward",
                     gather_backward_cuda<T>(g.data<T>(), idx.data<int64_t>(), outer, N, inner, L,
                                             dxn.data<T>(), T(0), cuda_stream(g.device().index)));
      else
        gather_backward_cpu<T>(g.data<T>(), idx.data<int64_t>(), outer, N, inner, L,
                               dxn.data<T>(), T(0));
    });
    if (xn_shape == in_shape) return std::vector<Tensor>{dxn};
    Tensor dx = zeros(in_shape, Options(g.dtype(), g.device()));
    Tensor box = dx;
    for (size_t k = 0; k < in_shape.size(); ++k)
      if (xn_shape[k] < in_shape[k]) box = view::narrow(box, static_cast<int64_t>(k), 0, xn_shape[k]);
    view::copy_into(box, dxn);
    return std::vector<Tensor>{dx};
  });
}

}  // namespace sirs
