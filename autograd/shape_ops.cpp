// Views with autograd: each backward maps the output gradient back onto the
// input's shape (reshape back, inverse permutation, scatter into zeros,
// sum over broadcast dims).
#include "autograd/shape_ops.h"

#include <algorithm>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/reduce.h"

namespace sirs {

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    SIRS_CHECK(da == db || da == 1 || db == 1, ShapeError, op, ": shapes ", shape_str(a), " and ",
               shape_str(b), " do not broadcast (dim ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

Tensor sum_to(const Tensor& t, const Shape& shape) {
  if (t.shape() == shape) return t;
  SIRS_CHECK(shape.size() <= t.shape().size(), ShapeError, "sum_to: cannot reduce ",
             shape_str(t.shape()), " to the larger rank ", shape_str(shape));
  Shape padded(t.dim() - shape.size(), 1);
  padded.insert(padded.end(), shape.begin(), shape.end());
  for (int64_t d = 0; d < t.dim(); ++d)
    SIRS_CHECK(padded[d] == 1 || padded[d] == t.shape()[d], ShapeError, "sum_to: ",
               shape_str(t.shape()), " does not broadcast from ", shape_str(shape));
  // The dims to sum: the leading ones shape lacks and those where it has 1.
  Shape dims;
  for (int64_t d = 0; d < t.dim(); ++d)
    if (padded[d] == 1 && t.shape()[d] != 1) dims.push_back(d);
  // sum() reduces on t's device, so the result stays there.
  Tensor out;
  if (dims.empty()) {
    out = view::reshape(view::clone(t), shape);  // only size-1 dims dropped
  } else {
    NoGradGuard no_grad;  // sum_to records its own node below
    out = view::reshape(sum(t, dims, true), shape);
  }
  Shape in_shape = t.shape();
  return record1("sum_to", out, {t}, [in_shape](const Tensor& dout) -> std::vector<Tensor> {
    return {dout.expand(in_shape)};
  });
}

// ------------------------------------------------------------ Tensor methods

Tensor Tensor::reshape(const Shape& shape) const {
  Tensor out = view::reshape(*this, shape);
  Shape in = this->shape();
  return record1("reshape", out, {*this}, [in](const Tensor& d) -> std::vector<Tensor> {
    return {d.reshape(in)};
  });
}

Tensor Tensor::view(const Shape& shape) const {
  Tensor out = view::view_only(*this, shape);
  Shape in = this->shape();
  return record1("view", out, {*this}, [in](const Tensor& d) -> std::vector<Tensor> {
    return {d.reshape(in)};
  });
}

Tensor Tensor::flatten(int64_t start_dim, int64_t end_dim) const {
  if (dim() == 0) return reshape({1});
  int64_t s = wrap_dim(start_dim, dim(), "flatten"), e = wrap_dim(end_dim, dim(), "flatten");
  SIRS_CHECK(s <= e, IndexError, "flatten: start_dim ", s, " after end_dim ", e);
  Shape sh(shape().begin(), shape().begin() + s);
  int64_t m = 1;
  for (int64_t d = s; d <= e; ++d) m *= shape()[d];
  sh.push_back(m);
  sh.insert(sh.end(), shape().begin() + e + 1, shape().end());
  return reshape(sh);
}

Tensor Tensor::permute(const Shape& dims) const {
  Tensor out = view::permute(*this, dims);
  Shape inv(dims.size());
  for (size_t i = 0; i < dims.size(); ++i) inv[wrap_dim(dims[i], dim(), "permute")] = static_cast<int64_t>(i);
  return record1("permute", out, {*this}, [inv](const Tensor& d) -> std::vector<Tensor> {
    return {d.permute(inv)};
  });
}

Tensor Tensor::transpose(int64_t d0, int64_t d1) const {
  d0 = wrap_dim(d0, dim(), "transpose");
  d1 = wrap_dim(d1, dim(), "transpose");
  Shape p(dim());
  for (int64_t i = 0; i < dim(); ++i) p[i] = i;
  std::swap(p[d0], p[d1]);
  return permute(p);
}

namespace {
// Backward of any view that picks a sub-box of the input: scatter the
// gradient into zeros through the same view.
Tensor scatter_back(const Tensor& dout, const Shape& in_shape,
                    const std::function<Tensor(const Tensor&)>& same_view) {
  Tensor g = zeros(in_shape, Options(dout.dtype(), dout.device()));
  view::copy_into(same_view(g), dout);
  return g;
}
}  // namespace

Tensor Tensor::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  Tensor out = view::slice(*this, d, start, end, step);
  Shape in = shape();
  return record1("slice", out, {*this}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {scatter_back(g, in, [&](const Tensor& z) { return view::slice(z, d, start, end, step); })};
  });
}

Tensor Tensor::narrow(int64_t d, int64_t start, int64_t length) const {
  Tensor out = view::narrow(*this, d, start, length);
  Shape in = shape();
  return record1("narrow", out, {*this}, [=](const Tensor& g) -> std::vector<Tensor> {
    return {scatter_back(g, in, [&](const Tensor& z) { return view::narrow(z, d, start, length); })};
  });
}

Tensor Tensor::select(int64_t d, int64_t index) const {
  d = wrap_dim(d, dim(), "select");
  int64_t n = shape()[d];
  SIRS_CHECK(index >= -n && index < n, IndexError, "select: index ", index, " out of range for dim ",
             d, " of size ", n, " in ", shape_str(shape()));
  if (index < 0) index += n;
  return narrow(d, index, 1).squeeze(d);
}

Tensor Tensor::expand(const Shape& shape) const {
  Tensor out = view::expand(*this, shape);
  Shape in = this->shape();
  return record1("expand", out, {*this}, [in](const Tensor& d) -> std::vector<Tensor> {
    return {sum_to(d, in)};
  });
}

Tensor Tensor::squeeze(int64_t d) const {
  Tensor out = view::squeeze(*this, d);
  Shape in = shape();
  return record1("squeeze", out, {*this}, [in](const Tensor& g) -> std::vector<Tensor> {
    return {g.reshape(in)};
  });
}

Tensor Tensor::squeeze() const {
  Shape sh;
  for (int64_t s : shape())
    if (s != 1) sh.push_back(s);
  return reshape(sh);
}

Tensor Tensor::unsqueeze(int64_t d) const {
  Tensor out = view::unsqueeze(*this, d);
  Shape in = shape();
  return record1("unsqueeze", out, {*this}, [in](const Tensor& g) -> std::vector<Tensor> {
    return {g.reshape(in)};
  });
}

Tensor Tensor::contiguous() const {
  if (is_contiguous()) return *this;
  return clone();
}

Tensor Tensor::clone() const {
  Tensor out = view::clone(*this);
  return record1("clone", out, {*this}, [](const Tensor& d) -> std::vector<Tensor> { return {d}; });
}

Tensor Tensor::to(Device device) const {
  if (device == this->device()) return *this;
  Tensor out = view::to_device(*this, device);
  Device src = this->device();
  return record1("to_device", out, {*this}, [src](const Tensor& d) -> std::vector<Tensor> {
    return {d.to(src)};
  });
}

Tensor Tensor::to(DType dtype) const {
  if (dtype == this->dtype()) return *this;
  Tensor out = view::to_dtype(*this, dtype);
  DType src = this->dtype();
  if (!is_floating(dtype) || !is_floating(src)) return out;  // no gradient through integers
  return record1("to_dtype", out, {*this}, [src](const Tensor& d) -> std::vector<Tensor> {
    return {d.to(src)};
  });
}

}  // namespace sirs
