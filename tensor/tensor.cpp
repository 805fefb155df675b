#include "tensor/tensor.h"

#include <algorithm>
#include <cstring>
#include <cmath>
#include <iomanip>
#include <sstream>

#include "kernels/copy.h"
#include "tensor/philox.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/copy_cuda.h"
#endif

namespace sirs {

// ---------------------------------------------------------------- helpers

std::string shape_str(const Shape& s) {
  std::string r = "[";
  for (size_t i = 0; i < s.size(); ++i) r += (i ? ", " : "") + std::to_string(s[i]);
  return r + "]";
}

int64_t shape_numel(const Shape& s) {
  int64_t n = 1;
  for (int64_t v : s) n *= v;
  return n;
}

Shape contiguous_strides(const Shape& s) {
  Shape st(s.size());
  int64_t acc = 1;
  for (int64_t i = static_cast<int64_t>(s.size()) - 1; i >= 0; --i) {
    st[i] = acc;
    acc *= std::max<int64_t>(s[i], 1);
  }
  return st;
}

int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  int64_t n = std::max<int64_t>(ndim, 1);
  SIRS_CHECK(dim >= -n && dim < n, IndexError, op, ": dim ", dim, " out of range for a ", ndim,
             "-d tensor");
  return dim < 0 ? dim + n : dim;
}

void check_same_device(const char* op, const Tensor& a, const Tensor& b) {
  SIRS_CHECK(a.device() == b.device(), DeviceError, op, ": tensors on different devices (",
             a.device().str(), " and ", b.device().str(), ")");
}

void check_same_dtype(const char* op, const Tensor& a, const Tensor& b) {
  SIRS_CHECK(a.dtype() == b.dtype(), DTypeError, op, ": dtype mismatch (", dtype_name(a.dtype()),
             " ", shape_str(a.shape()), " vs ", dtype_name(b.dtype()), " ", shape_str(b.shape()), ")");
}

void check_float(const char* op, const Tensor& t) {
  SIRS_CHECK(t.dtype() == DType::F32 || t.dtype() == DType::F64, DTypeError, op,
             ": expected a float32 or float64 tensor, got ", dtype_name(t.dtype()), " ",
             shape_str(t.shape()));
}

void check_cpu(const char* op, const Tensor& t) {
  SIRS_CHECK(t.device().is_cpu(), DeviceError, op, ": not implemented for ", t.device().str(),
             " tensors yet (the CUDA backend is issue #3); move the tensor to the CPU");
}

// ---------------------------------------------------------------- Tensor

TensorImpl* Tensor::checked() const {
  SIRS_CHECK(impl_ != nullptr, ValueError, "use of an undefined Tensor");
  return impl_.get();
}

int64_t Tensor::size(int64_t d) const { return shape()[wrap_dim(d, dim(), "size")]; }
int64_t Tensor::stride(int64_t d) const { return strides()[wrap_dim(d, dim(), "stride")]; }

bool Tensor::is_contiguous() const {
  const Shape& sh = shape();
  const Shape& st = strides();
  int64_t expect = 1;
  for (int64_t i = dim() - 1; i >= 0; --i) {
    if (sh[i] == 1) continue;
    if (st[i] != expect) return false;
    expect *= sh[i];
  }
  return true;
}

void* Tensor::raw_data() const {
  TensorImpl* t = checked();
  return static_cast<char*>(t->storage->data()) + t->offset * static_cast<int64_t>(dtype_size(t->dtype));
}

std::vector<double> Tensor::to_vector() const {
  Tensor c = device().is_cpu() ? *this : view::to_device(*this, Device::cpu());
  Tensor d = view::to_dtype(c, DType::F64);  // contiguous copy
  const double* p = d.data<double>();
  return std::vector<double>(p, p + d.numel());
}

double Tensor::item() const {
  SIRS_CHECK(numel() == 1, ShapeError, "item: tensor of shape ", shape_str(shape()),
             " has ", numel(), " elements, not 1");
  return to_vector()[0];
}

namespace {

std::string fmt_value(double v, DType dt) {
  std::ostringstream os;
  if (!is_floating(dt)) {
    os << static_cast<int64_t>(v);
  } else if (std::isnan(v) || std::isinf(v)) {
    os << v;
  } else {
    os << std::setprecision(5) << v;
  }
  return os.str();
}

void print_rec(std::ostringstream& os, const std::vector<double>& v, const Shape& sh,
               const Shape& st, int64_t dim, int64_t off, DType dt, int64_t maxn, int indent) {
  if (dim == static_cast<int64_t>(sh.size())) {
    os << fmt_value(v[off], dt);
    return;
  }
  os << "[";
  int64_t n = sh[dim];
  for (int64_t i = 0; i < n; ++i) {
    if (n > maxn && i == maxn / 2) {
      os << "...";
      i = n - maxn / 2 - 1;
      if (dim + 1 < static_cast<int64_t>(sh.size())) os << ",\n" << std::string(indent + 1, ' ');
      else os << ", ";
      continue;
    }
    print_rec(os, v, sh, st, dim + 1, off + i * st[dim], dt, maxn, indent + 1);
    if (i + 1 < n) {
      if (dim + 1 < static_cast<int64_t>(sh.size())) os << ",\n" << std::string(indent + 1, ' ');
      else os << ", ";
    }
  }
  os << "]";
}

}  // namespace

std::string Tensor::str(int64_t max_per_dim) const {
  if (!defined()) return "Tensor(undefined)";
  std::ostringstream os;
  os << "tensor(";
  std::vector<double> v = to_vector();
  print_rec(os, v, shape(), contiguous_strides(shape()), 0, 0, dtype(), std::max<int64_t>(max_per_dim, 2), 7);
  os << ", shape=" << shape_str(shape()) << ", dtype=" << dtype_name(dtype())
     << ", device=" << device().str();
  if (requires_grad()) os << ", requires_grad";
  os << ")";
  return os.str();
}

std::ostream& operator<<(std::ostream& os, const Tensor& t) { return os << t.str(); }

// ---------------------------------------------------------------- creation

Tensor empty(const Shape& shape, Options o) {
  for (int64_t s : shape)
    SIRS_CHECK(s >= 0, ShapeError, "empty: negative size in shape ", shape_str(shape));
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = std::make_shared<Storage>(shape_numel(shape) * dtype_size(o.dtype), o.device);
  impl->shape = shape;
  impl->strides = contiguous_strides(shape);
  impl->dtype = o.dtype;
  return Tensor(impl);
}

Tensor full(const Shape& shape, double value, Options o) {
  Tensor t = empty(shape, o);
  view::fill(t, value);
  return t;
}
Tensor zeros(const Shape& shape, Options o) { return full(shape, 0.0, o); }
Tensor ones(const Shape& shape, Options o) { return full(shape, 1.0, o); }
Tensor empty_like(const Tensor& t) { return empty(t.shape(), Options(t.dtype(), t.device())); }
Tensor zeros_like(const Tensor& t) { return zeros(t.shape(), Options(t.dtype(), t.device())); }
Tensor ones_like(const Tensor& t) { return ones(t.shape(), Options(t.dtype(), t.device())); }
Tensor full_like(const Tensor& t, double v) { return full(t.shape(), v, Options(t.dtype(), t.device())); }
Tensor scalar_tensor(double value, Options o) { return full({}, value, o); }

Tensor from_vector(const std::vector<double>& values, const Shape& shape, Options o) {
  SIRS_CHECK(static_cast<int64_t>(values.size()) == shape_numel(shape), ShapeError,
             "from_vector: ", values.size(), " values for shape ", shape_str(shape), " (",
             shape_numel(shape), " elements)");
  Tensor host = empty(shape, Options(DType::F64));
  std::copy(values.begin(), values.end(), host.data<double>());
  Tensor t = view::to_dtype(host, o.dtype);
  return o.device.is_cpu() ? t : view::to_device(t, o.device);
}

Tensor arange(double start, double end, double step, Options o) {
  SIRS_CHECK(step != 0, ValueError, "arange: step must be non-zero");
  int64_t n = static_cast<int64_t>(std::ceil((end - start) / step));
  if (n < 0) n = 0;
  std::vector<double> v(n);
  for (int64_t i = 0; i < n; ++i) v[i] = start + static_cast<double>(i) * step;
  return from_vector(v, {n}, o);
}
Tensor arange(int64_t n, Options o) { return arange(0.0, static_cast<double>(n), 1.0, o); }

Generator& default_generator() {
  static Generator g;
  return g;
}
void manual_seed(uint64_t seed) { default_generator().manual_seed(seed); }

namespace {

// Draws n values into a float64 host buffer; `per_block` values per Philox
// block. Element i depends only on (seed, first block, i).
template <class F>
Tensor draw(const Shape& shape, Options o, Generator* gen, int per_block, F&& make) {
  Generator& g = gen ? *gen : default_generator();
  int64_t n = shape_numel(shape);
  uint64_t first = g.take(static_cast<uint64_t>((n + per_block - 1) / per_block));
  Tensor host = empty(shape, Options(DType::F64));
  double* p = host.data<double>();
  uint64_t seed = g.seed();
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    Philox4 r = philox4x32_10(first + static_cast<uint64_t>(i / per_block), seed);
    p[i] = make(r, static_cast<int>(i % per_block));
  }
  Tensor t = view::to_dtype(host, o.dtype);
  return o.device.is_cpu() ? t : view::to_device(t, o.device);
}

}  // namespace

Tensor rand(const Shape& shape, Options o, Generator* gen) {
  return draw(shape, o, gen, 4, [](const Philox4& r, int lane) {
    return static_cast<double>(philox_uniform(r.v[lane]));
  });
}

Tensor uniform(const Shape& shape, double lo, double hi, Options o, Generator* gen) {
  return draw(shape, o, gen, 4, [lo, hi](const Philox4& r, int lane) {
    return lo + (hi - lo) * static_cast<double>(philox_uniform(r.v[lane]));
  });
}

Tensor normal(const Shape& shape, double mean, double std, Options o, Generator* gen) {
  // Box-Muller: lanes (0,1) give element 2k, lanes (2,3) element 2k+1.
  return draw(shape, o, gen, 2, [mean, std](const Philox4& r, int lane) {
    double u1 = philox_uniform_open0(r.v[2 * lane]);
    double u2 = philox_uniform(r.v[2 * lane + 1]);
    return mean + std * std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  });
}

Tensor randn(const Shape& shape, Options o, Generator* gen) { return normal(shape, 0, 1, o, gen); }

Tensor bernoulli(const Shape& shape, double p, Options o, Generator* gen) {
  SIRS_CHECK(p >= 0 && p <= 1, ValueError, "bernoulli: p = ", p, " is outside [0, 1]");
  return draw(shape, o, gen, 4, [p](const Philox4& r, int lane) {
    return static_cast<double>(philox_uniform(r.v[lane])) < p ? 1.0 : 0.0;
  });
}

Tensor randint(int64_t low, int64_t high, const Shape& shape, Options o, Generator* gen) {
  SIRS_CHECK(high > low, ValueError, "randint: empty range [", low, ", ", high, ")");
  uint64_t range = static_cast<uint64_t>(high - low);
  return draw(shape, o, gen, 2, [low, range](const Philox4& r, int lane) {
    uint64_t u = (static_cast<uint64_t>(r.v[2 * lane]) << 32) | r.v[2 * lane + 1];
    return static_cast<double>(low + static_cast<int64_t>(u % range));
  });
}

// ---------------------------------------------------------------- raw views

namespace view {

Tensor as_strided(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->shape = shape;
  impl->strides = strides;
  impl->offset = offset;
  impl->dtype = t.dtype();
  return Tensor(impl);
}

// Whether `shape` can be viewed over t's memory without a copy; PyTorch's
// rule: group t's dims into runs that are contiguous among themselves and
// map each run onto a run of the new shape.
bool can_view(const Tensor& t, const Shape& shape, Shape* strides_out) {
  const Shape& os = t.shape();
  const Shape& ost = t.strides();
  Shape ns(shape.size());
  if (t.numel() == 0 || os.empty()) {
    *strides_out = contiguous_strides(shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1;
  int64_t chunk_base_stride = ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t td = static_cast<int64_t>(os.size()) - 1; td >= 0; --td) {
    tensor_numel *= os[td];
    if (td == 0 || (os[td - 1] != 1 && ost[td - 1] != tensor_numel * chunk_base_stride)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        ns[view_d] = view_numel * chunk_base_stride;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (td > 0) {
        chunk_base_stride = ost[td - 1];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  if (view_d != -1) return false;
  *strides_out = ns;
  return true;
}

static Shape infer_shape(const Tensor& t, Shape shape, const char* op) {
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      SIRS_CHECK(infer < 0, ShapeError, op, ": more than one -1 in ", shape_str(shape));
      infer = static_cast<int64_t>(i);
    } else {
      SIRS_CHECK(shape[i] >= 0, ShapeError, op, ": bad size in ", shape_str(shape));
      known *= shape[i];
    }
  }
  if (infer >= 0) {
    SIRS_CHECK(known != 0 && t.numel() % known == 0, ShapeError, op, ": cannot infer -1 in ",
               shape_str(shape), " for ", t.numel(), " elements (input ", shape_str(t.shape()), ")");
    shape[infer] = t.numel() / known;
  }
  SIRS_CHECK(shape_numel(shape) == t.numel(), ShapeError, op, ": shape ", shape_str(shape),
             " does not fit input of shape ", shape_str(t.shape()), " (", t.numel(), " elements)");
  return shape;
}

Tensor reshape(const Tensor& t, Shape shape) {
  shape = infer_shape(t, shape, "reshape");
  Shape st;
  if (can_view(t, shape, &st)) return as_strided(t, shape, st, t.offset());
  Tensor c = contiguous(t);
  return as_strided(c, shape, contiguous_strides(shape), c.offset());
}

Tensor view_only(const Tensor& t, Shape shape) {
  shape = infer_shape(t, shape, "view");
  Shape st;
  SIRS_CHECK(can_view(t, shape, &st), ShapeError, "view: shape ", shape_str(shape),
             " is not compatible with the strides ", shape_str(t.strides()), " of input ",
             shape_str(t.shape()), "; use reshape (copies)");
  return as_strided(t, shape, st, t.offset());
}

Tensor permute(const Tensor& t, const Shape& dims) {
  int64_t n = t.dim();
  SIRS_CHECK(static_cast<int64_t>(dims.size()) == n, ShapeError, "permute: ", dims.size(),
             " dims given for a ", n, "-d tensor ", shape_str(t.shape()));
  Shape sh(n), st(n);
  std::vector<bool> seen(n, false);
  for (int64_t i = 0; i < n; ++i) {
    int64_t d = wrap_dim(dims[i], n, "permute");
    SIRS_CHECK(!seen[d], ShapeError, "permute: dim ", d, " repeated in ", shape_str(dims));
    seen[d] = true;
    sh[i] = t.shape()[d];
    st[i] = t.strides()[d];
  }
  return as_strided(t, sh, st, t.offset());
}

Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step) {
  dim = wrap_dim(dim, t.dim(), "slice");
  SIRS_CHECK(step > 0, ValueError, "slice: step must be positive, got ", step);
  int64_t n = t.shape()[dim];
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape sh = t.shape(), st = t.strides();
  sh[dim] = (end - start + step - 1) / step;
  st[dim] *= step;
  return as_strided(t, sh, st, t.offset() + start * t.strides()[dim]);
}

Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length) {
  dim = wrap_dim(dim, t.dim(), "narrow");
  int64_t n = t.shape()[dim];
  if (start < 0) start += n;
  SIRS_CHECK(start >= 0 && length >= 0 && start + length <= n, IndexError, "narrow: [", start,
             ", ", start + length, ") out of range for dim ", dim, " of size ", n, " in ",
             shape_str(t.shape()));
  return slice(t, dim, start, start + length, 1);
}

Tensor expand(const Tensor& t, const Shape& shape) {
  int64_t n = static_cast<int64_t>(shape.size()), m = t.dim();
  SIRS_CHECK(n >= m, ShapeError, "expand: cannot expand ", shape_str(t.shape()), " to fewer dims ",
             shape_str(shape));
  Shape sh(n), st(n);
  for (int64_t i = n - 1; i >= 0; --i) {
    int64_t j = i - (n - m);
    int64_t want = shape[i];
    if (j >= 0) {
      int64_t have = t.shape()[j];
      if (want == -1) want = have;
      SIRS_CHECK(have == want || have == 1, ShapeError, "expand: size ", have, " at dim ", j,
                 " of ", shape_str(t.shape()), " cannot become ", want, " (target ",
                 shape_str(shape), ")");
      sh[i] = want;
      st[i] = have == want ? t.strides()[j] : 0;
    } else {
      SIRS_CHECK(want >= 0, ShapeError, "expand: -1 in a new leading dim of ", shape_str(shape));
      sh[i] = want;
      st[i] = 0;
    }
  }
  return as_strided(t, sh, st, t.offset());
}

Tensor squeeze(const Tensor& t, int64_t dim) {
  dim = wrap_dim(dim, t.dim(), "squeeze");
  if (t.dim() == 0 || t.shape()[dim] != 1) return as_strided(t, t.shape(), t.strides(), t.offset());
  Shape sh = t.shape(), st = t.strides();
  sh.erase(sh.begin() + dim);
  st.erase(st.begin() + dim);
  return as_strided(t, sh, st, t.offset());
}

Tensor unsqueeze(const Tensor& t, int64_t dim) {
  dim = wrap_dim(dim, t.dim() + 1, "unsqueeze");
  Shape sh = t.shape(), st = t.strides();
  int64_t s = dim < t.dim() ? st[dim] * sh[dim] : 1;
  sh.insert(sh.begin() + dim, 1);
  st.insert(st.begin() + dim, s);
  return as_strided(t, sh, st, t.offset());
}

void copy_into(const Tensor& dst, const Tensor& src, double beta) {
  Tensor s = src.shape() == dst.shape() ? src : expand(src, dst.shape());
  if (dst.device().is_cpu() && s.device().is_cpu()) {
    strided_copy_cpu(dst.raw_data(), dst.dtype(), dst.strides().data(), s.raw_data(), s.dtype(),
                     s.strides().data(), dst.shape().data(), static_cast<int>(dst.dim()), beta);
    return;
  }
  // A plain same-dtype overwrite of contiguous memory: one memcpy.
  if (beta == 0.0 && dst.is_contiguous() && s.is_contiguous() && dst.dtype() == s.dtype()) {
    copy_bytes(dst.raw_data(), dst.device(), s.raw_data(), s.device(),
               static_cast<size_t>(dst.numel()) * dtype_size(dst.dtype()));
    return;
  }
  if (dst.device() != s.device()) {
    // Bring the source over as a contiguous block of its own dtype, then
    // convert/scatter/accumulate on dst's device.
    copy_into(dst, to_device(s, dst.device()), beta);
    return;
  }
#ifdef SIRS_WITH_CUDA
  strided_copy_cuda(dst.raw_data(), dst.dtype(), dst.strides().data(), s.raw_data(), s.dtype(),
                    s.strides().data(), dst.shape().data(), static_cast<int>(dst.dim()), beta,
                    cuda_stream(dst.device().index));
#else
  throw_no_cuda("copy_into");
#endif
}

void fill(const Tensor& dst, double value) {
  if (dst.device().is_cpu()) {
    fill_cpu(dst.raw_data(), dst.dtype(), dst.strides().data(), dst.shape().data(),
             static_cast<int>(dst.dim()), value);
    return;
  }
#ifdef SIRS_WITH_CUDA
  // The value's bit pattern in dst's dtype, from a one-element host fill.
  Tensor one = empty({}, Options(dst.dtype()));
  fill(one, value);
  uint64_t bits = 0;
  std::memcpy(&bits, one.raw_data(), dtype_size(dst.dtype()));
  fill_cuda(dst.raw_data(), static_cast<int>(dtype_size(dst.dtype())), dst.strides().data(),
            dst.shape().data(), static_cast<int>(dst.dim()), bits, cuda_stream(dst.device().index));
#else
  throw DeviceError(str_cat("fill: ", dst.device().str(), " tensor in a build without CUDA"));
#endif
}

Tensor clone(const Tensor& t) {
  Tensor out = empty(t.shape(), Options(t.dtype(), t.device()));
  copy_into(out, t);
  return out;
}

Tensor contiguous(const Tensor& t) {
  if (t.is_contiguous()) return as_strided(t, t.shape(), contiguous_strides(t.shape()), t.offset());
  return clone(t);
}

Tensor to_device(const Tensor& t, Device d) {
  if (t.device() == d) return as_strided(t, t.shape(), t.strides(), t.offset());
  Tensor c = t.device().is_cpu() ? contiguous(t) : t;
  if (!c.is_contiguous()) c = clone(c);
  Tensor out = empty(t.shape(), Options(t.dtype(), d));
  copy_bytes(out.raw_data(), d, c.raw_data(), c.device(),
             static_cast<size_t>(t.numel()) * dtype_size(t.dtype()));
  return out;
}

Tensor to_dtype(const Tensor& t, DType d) {
  if (t.dtype() == d) return contiguous(t);
  Tensor out = empty(t.shape(), Options(d, t.device()));
  copy_into(out, t);
  return out;
}

}  // namespace view

}  // namespace sirs
