// Reductions: bring the input to the kernels' [outer, reduce, inner] form,
// run kernels/cpu/reduce.cpp or kernels/cuda/reduce.cu on the input's
// device, and record the backward beside the forward. Every tensor made
// here lives on the input's device.
#include "autograd/reduce.h"

#include <algorithm>

#include "autograd/elementwise.h"
#include "autograd/node.h"
#include "kernels/reduce.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/reduce_cuda.h"
#endif

namespace sirs {

namespace {

// Which dims of a `ndim`-d tensor the list `dims` reduces (all when empty).
std::vector<bool> reduced_mask(const Tensor& a, const Shape& dims, const char* op) {
  int64_t nd = a.dim();
  std::vector<bool> mask(static_cast<size_t>(nd), dims.empty());
  for (int64_t d : dims) {
    SIRS_CHECK(d >= -std::max<int64_t>(nd, 1) && d < std::max<int64_t>(nd, 1), IndexError, op,
               ": dim ", d, " out of range for input of shape ", shape_str(a.shape()));
    if (nd == 0) continue;  // dim 0 / -1 of a 0-d tensor: nothing to reduce
    int64_t w = d < 0 ? d + nd : d;
    SIRS_CHECK(!mask[w], IndexError, op, ": dim ", w, " repeated in ", shape_str(dims),
               " for input of shape ", shape_str(a.shape()));
    mask[w] = true;
  }
  return mask;
}

// Output shape with reduced dims kept as 1 or removed.
Shape reduced_shape(const Shape& in, const std::vector<bool>& mask, bool keepdim) {
  Shape out;
  for (size_t d = 0; d < in.size(); ++d) {
    if (!mask[d]) out.push_back(in[d]);
    else if (keepdim) out.push_back(1);
  }
  return out;
}

// The input as a contiguous [outer, reduce, inner] block.
struct Block {
  Tensor data;
  int64_t outer = 1, reduce = 1, inner = 1;
};

// Runs of adjacent reduced dims, size-1 dims ignored: [B, C, H, W] over
// {0, 2, 3} has two.
int count_runs(const Shape& sh, const std::vector<bool>& mask) {
  int runs = 0;
  bool prev = false;
  for (size_t d = 0; d < sh.size(); ++d) {
    if (sh[d] == 1) continue;
    if (mask[d] && !prev) ++runs;
    prev = mask[d];
  }
  return runs;
}

// Contiguous input whose reduced dims form one run needs no copy.
// Otherwise (several runs, or a non-contiguous input that must be copied
// anyway) copy it permuted to kept dims first, reduced last.
Block to_block(const Tensor& a, const std::vector<bool>& mask) {
  Block b;
  const Shape& sh = a.shape();
  int runs = count_runs(sh, mask);
  if (a.is_contiguous() && runs <= 1) {
    b.data = view::contiguous(a);
    int stage = 0;  // 0: before the run, 1: in it, 2: after it
    for (size_t d = 0; d < sh.size(); ++d) {
      if (sh[d] == 1) continue;
      if (mask[d]) stage = 1;
      else if (stage == 1) stage = 2;
      (stage == 0 ? b.outer : stage == 1 ? b.reduce : b.inner) *= sh[d];
    }
    return b;
  }
  Shape perm;
  for (size_t d = 0; d < sh.size(); ++d)
    if (!mask[d]) perm.push_back(static_cast<int64_t>(d));
  for (size_t d = 0; d < sh.size(); ++d)
    if (mask[d]) perm.push_back(static_cast<int64_t>(d));
  b.data = view::contiguous(view::permute(a, perm));
  for (size_t d = 0; d < sh.size(); ++d) (mask[d] ? b.reduce : b.outer) *= sh[d];
  return b;
}

// The contiguous input as [prod of dims before d, size of d, prod after]:
// the layout max_backward_cpu writes the input gradient in.
Block dim_block(const Tensor& a, int64_t d) {
  Block b;
  b.data = view::contiguous(a);
  for (int64_t k = 0; k < a.dim(); ++k)
    (k < d ? b.outer : k == d ? b.reduce : b.inner) *= a.shape()[k];
  return b;
}

void check_input(const char* op, const Tensor& a) { check_float(op, a); }

// out [outer, inner] = kind-reduction of in [outer, reduce, inner], both
// contiguous, on in's device.
void run_sum(SumKind kind, const char* op, const Tensor& out, const Tensor& in, int64_t outer,
             int64_t reduce, int64_t inner) {
  dispatch_float(in.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (in.device().is_cuda()) {
      SIRS_IF_CUDA(op, sum_forward_cuda<T>(kind, out.data<T>(), in.data<T>(), outer, reduce, inner,
                                           in.device().index, cuda_stream(in.device().index)));
    } else {
      sum_forward_cpu<T>(kind, out.data<T>(), in.data<T>(), outer, reduce, inner);
    }
  });
}

// values (may be undefined: argmax) and indices of the max / min of in
// [outer, reduce, inner] along reduce, on in's device.
void run_max(bool is_min, const char* op, const Tensor& values, const Tensor& indices,
             const Tensor& in, int64_t outer, int64_t reduce, int64_t inner) {
  dispatch_float(in.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* v = values.defined() ? values.data<T>() : nullptr;
    if (in.device().is_cuda()) {
      SIRS_IF_CUDA(op, max_forward_cuda<T>(is_min, v, indices.data<int64_t>(), in.data<T>(), outer,
                                           reduce, inner, in.device().index,
                                           cuda_stream(in.device().index)));
    } else {
      max_forward_cpu<T>(is_min, v, indices.data<int64_t>(), in.data<T>(), outer, reduce, inner);
    }
  });
}

int64_t reduced_count(const Shape& in, const std::vector<bool>& mask) {
  int64_t n = 1;
  for (size_t d = 0; d < in.size(); ++d)
    if (mask[d]) n *= in[d];
  return n;
}

// Sum-like reduction (sum, mean, norm) without recording.
Tensor sum_like_raw(SumKind kind, const char* op, const Tensor& a, const std::vector<bool>& mask,
                    bool keepdim) {
  Shape out_shape = reduced_shape(a.shape(), mask, keepdim);
  if (kind != SumKind::Norm && a.is_contiguous() && count_runs(a.shape(), mask) > 1) {
    // Several runs of reduced dims (a bias gradient sums [B, C, H, W] over
    // B, H and W): reduce one run per pass, innermost first. Each pass
    // reads a smaller tensor and nothing is copied; each rounds to T once.
    // A mean takes the mean of each run: the runs' counts multiply to the
    // total count, and no separate scaling pass is needed.
    SumKind pass_kind = kind == SumKind::Mean ? SumKind::Mean : SumKind::Sum;
    Tensor cur = view::contiguous(a);
    Shape sh = a.shape();
    for (;;) {
      int64_t e = static_cast<int64_t>(sh.size());
      while (e > 0 && !(mask[e - 1] && sh[e - 1] != 1)) --e;
      if (e == 0) break;
      int64_t s = e - 1;
      while (s > 0 && (mask[s - 1] || sh[s - 1] == 1)) --s;
      int64_t outer = 1, reduce = 1, inner = 1;
      for (int64_t d = 0; d < static_cast<int64_t>(sh.size()); ++d)
        (d < s ? outer : d < e ? reduce : inner) *= sh[d];
      Shape next_sh = sh;
      for (int64_t d = s; d < e; ++d) next_sh[d] = 1;
      Tensor next = empty(next_sh, Options(a.dtype(), a.device()));
      run_sum(pass_kind, op, next, cur, outer, reduce, inner);
      cur = next;
      sh = next_sh;
    }
    return view::reshape(cur, out_shape);
  }
  Block b = to_block(a, mask);
  Tensor out = empty(out_shape, Options(a.dtype(), a.device()));
  run_sum(kind, op, out, b.data, b.outer, b.reduce, b.inner);
  return out;
}

ValuesIndices max_min(bool is_min, const Tensor& a, int64_t dim, bool keepdim) {
  const char* op = is_min ? "min" : "max";
  check_input(op, a);
  int64_t d = wrap_dim(dim, a.dim(), op);
  std::vector<bool> mask(static_cast<size_t>(a.dim()), false);
  if (a.dim() > 0) mask[d] = true;
  SIRS_CHECK(a.dim() == 0 || a.shape()[d] > 0, IndexError, op, ": dim ", d,
             " has size 0 in input of shape ", shape_str(a.shape()));
  Block b = dim_block(a, d);
  Shape out_shape = reduced_shape(a.shape(), mask, keepdim);
  Tensor values = empty(out_shape, Options(a.dtype(), a.device()));
  Tensor indices = empty(out_shape, Options(DType::I64, a.device()));
  run_max(is_min, op, values, indices, b.data, b.outer, b.reduce, b.inner);
  Shape in_shape = a.shape();
  Block geom = b;
  geom.data = Tensor();
  Tensor idx = indices.detach();
  record1(op, values, {a}, [=](const Tensor& dout) -> std::vector<Tensor> {
    Tensor g = view::contiguous(dout);
    Tensor dinp = empty(in_shape, Options(dout.dtype(), dout.device()));
    dispatch_float(dout.dtype(), "max_backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (dout.device().is_cuda()) {
        SIRS_IF_CUDA("max_backward",
                     max_backward_cuda<T>(dinp.data<T>(), g.data<T>(), idx.data<int64_t>(),
                                          geom.outer, geom.reduce, geom.inner,
                                          cuda_stream(dout.device().index)));
      } else {
        max_backward_cpu<T>(dinp.data<T>(), g.data<T>(), idx.data<int64_t>(), geom.outer,
                            geom.reduce, geom.inner);
      }
    });
    return {dinp};
  });
  return {values, indices};
}

Tensor max_min_all(bool is_min, const Tensor& a) {
  const char* op = is_min ? "min" : "max";
  check_input(op, a);
  SIRS_CHECK(a.numel() > 0, ValueError, op, ": empty input of shape ", shape_str(a.shape()),
             " has no ", op, "imum; pass a dim");
  Tensor x = view::contiguous(a);
  Tensor out = empty({}, Options(a.dtype(), a.device()));
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (a.device().is_cuda()) {
      // The result stays on the device (no host round trip, no sync).
      SIRS_IF_CUDA(op, max_all_cuda<T>(is_min, out.data<T>(), x.data<T>(), x.numel(),
                                       a.device().index, cuda_stream(a.device().index)));
    } else {
      *out.data<T>() = max_all_cpu<T>(is_min, x.data<T>(), x.numel());
    }
  });
  Tensor xd = x.detach(), od = out.detach();
  return record1(op, out, {a}, [=](const Tensor& dout) -> std::vector<Tensor> {
    // Ties share the gradient equally: mask / count * dout.
    Tensor hit = view::to_dtype(eq(xd, od), dout.dtype());
    Tensor count = sum(hit);
    return {mul(hit, div(dout, count))};
  });
}

}  // namespace

Tensor sum(const Tensor& a, const Shape& dims, bool keepdim) {
  check_input("sum", a);
  std::vector<bool> mask = reduced_mask(a, dims, "sum");
  Tensor out = sum_like_raw(SumKind::Sum, "sum", a, mask, keepdim);
  Shape in_shape = a.shape(), keep = reduced_shape(in_shape, mask, true);
  return record1("sum", out, {a}, [=](const Tensor& dout) -> std::vector<Tensor> {
    // Materialised: a stride-0 gradient would surprise kernels downstream.
    return {view::contiguous(view::expand(view::reshape(dout, keep), in_shape))};
  });
}

Tensor mean(const Tensor& a, const Shape& dims, bool keepdim) {
  check_input("mean", a);
  std::vector<bool> mask = reduced_mask(a, dims, "mean");
  Tensor out = sum_like_raw(SumKind::Mean, "mean", a, mask, keepdim);
  Shape in_shape = a.shape(), keep = reduced_shape(in_shape, mask, true);
  double inv = 1.0 / static_cast<double>(reduced_count(in_shape, mask));
  return record1("mean", out, {a}, [=](const Tensor& dout) -> std::vector<Tensor> {
    return {mul(dout.reshape(keep).expand(in_shape), inv)};
  });
}

Tensor norm(const Tensor& a, const Shape& dims, bool keepdim) {
  check_input("norm", a);
  std::vector<bool> mask = reduced_mask(a, dims, "norm");
  Tensor out = sum_like_raw(SumKind::Norm, "norm", a, mask, keepdim);
  Shape keep = reduced_shape(a.shape(), mask, true);
  Tensor ad = a.detach(), nd = out.detach();
  return record1("norm", out, {a}, [=](const Tensor& dout) -> std::vector<Tensor> {
    // d||a||/da = a / ||a||; where the norm is 0 the division gives inf or
    // NaN, and where() replaces it by 0.
    Tensor n = nd.reshape(keep);
    Tensor scale = div(dout.reshape(keep), n);
    scale = where(eq(n, 0.0), scalar_tensor(0.0, Options(scale.dtype(), scale.device())), scale);
    return {mul(ad, scale)};
  });
}

ValuesIndices max(const Tensor& a, int64_t dim, bool keepdim) { return max_min(false, a, dim, keepdim); }
ValuesIndices min(const Tensor& a, int64_t dim, bool keepdim) { return max_min(true, a, dim, keepdim); }
Tensor max(const Tensor& a) { return max_min_all(false, a); }
Tensor min(const Tensor& a) { return max_min_all(true, a); }

Tensor argmax(const Tensor& a, int64_t dim, bool keepdim) {
  check_input("argmax", a);
  int64_t d = wrap_dim(dim, a.dim(), "argmax");
  std::vector<bool> mask(static_cast<size_t>(a.dim()), false);
  if (a.dim() > 0) mask[d] = true;
  SIRS_CHECK(a.dim() == 0 || a.shape()[d] > 0, IndexError, "argmax: dim ", d,
             " has size 0 in input of shape ", shape_str(a.shape()));
  Block b = dim_block(a, d);
  Tensor indices = empty(reduced_shape(a.shape(), mask, keepdim), Options(DType::I64, a.device()));
  run_max(false, "argmax", Tensor(), indices, b.data, b.outer, b.reduce, b.inner);
  return indices;
}

}  // namespace sirs
