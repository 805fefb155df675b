// Elementwise ops: checks, dispatch to kernels/cpu/elementwise.cpp or
// kernels/cuda/elementwise.cu by the inputs' device, and each backward
// beside its forward. Every tensor an op makes lives on its inputs' device.
// Backward closures compute only the gradients of inputs that need one,
// reusing these same ops (the engine runs backward with grad mode off, so
// nothing is recorded there), so they follow the device too.
#include "autograd/elementwise.h"

#include <cmath>
#include <limits>
#include <type_traits>

#include "autograd/node.h"
#include "autograd/shape_ops.h"
#include "kernels/elementwise.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/elementwise_cuda.h"
#endif

namespace sirs {

namespace {

// Strides of t seen through the broadcast shape `out` (0 on broadcast dims).
Shape broadcast_strides(const Tensor& t, const Shape& out) {
  return view::expand(t, out).strides();
}

// A 0-d tensor holding s in t's dtype and device.
Tensor scalar_like(const Tensor& t, double s) {
  return scalar_tensor(s, Options(t.dtype(), t.device()));
}

void check_binary(const char* op, const Tensor& a, const Tensor& b) {
  check_float(op, a);
  check_same_dtype(op, a, b);
  check_same_device(op, a, b);
}

// In-place writes need one memory location per element.
void check_writable(const char* op, const Tensor& dst) {
  for (int64_t d = 0; d < dst.dim(); ++d)
    SIRS_CHECK(dst.strides()[d] != 0 || dst.shape()[d] == 1, ValueError, op, ": dst ",
               shape_str(dst.shape()), " is a broadcast view (stride 0 at dim ", d,
               "); several elements share memory, write into a real tensor");
}

// Calls fn(TypeTag<T>{}) for the dtypes compare/where kernels hold.
template <class F>
auto dispatch_compare(DType t, const char* op, F&& fn) {
  switch (t) {
    case DType::F32: return fn(TypeTag<float>{});
    case DType::F64: return fn(TypeTag<double>{});
    case DType::I64: return fn(TypeTag<int64_t>{});
    case DType::I32: return fn(TypeTag<int32_t>{});
    case DType::U8: return fn(TypeTag<uint8_t>{});
    default:
      throw DTypeError(str_cat(op, ": expected float32, float64, int64, int32 or uint8, got ",
                               dtype_name(t)));
  }
}

const char* binary_name(BinaryOp op) {
  switch (op) {
    case BinaryOp::Add: return "add";
    case BinaryOp::Sub: return "sub";
    case BinaryOp::Mul: return "mul";
    case BinaryOp::Div: return "div";
  }
  return "?";
}

// out = a op b, graph-free.
Tensor binary_raw(BinaryOp op, const Tensor& a, const Tensor& b) {
  const char* name = binary_name(op);
  check_binary(name, a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, Options(a.dtype(), a.device()));
  Shape as = broadcast_strides(a, shape), bs = broadcast_strides(b, shape);
  dispatch_float(a.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (a.device().is_cuda())
      SIRS_IF_CUDA(name, binary_forward_cuda<T>(op, out.data<T>(), a.data<T>(), as.data(),
                                                b.data<T>(), bs.data(), shape.data(),
                                                static_cast<int>(shape.size()),
                                                cuda_stream(a.device().index)));
    else
      binary_forward_cpu<T>(op, out.data<T>(), a.data<T>(), as.data(), b.data<T>(), bs.data(),
                            shape.data(), static_cast<int>(shape.size()));
  });
  return out;
}

Tensor binary(BinaryOp op, const Tensor& a, const Tensor& b) {
  Tensor out = binary_raw(op, a, b);
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  Shape sa = a.shape(), sb = b.shape();
  switch (op) {
    case BinaryOp::Add:
      return record1("add", out, {a, b}, [=](const Tensor& d) -> std::vector<Tensor> {
        return {need_a ? sum_to(d, sa) : Tensor(), need_b ? sum_to(d, sb) : Tensor()};
      });
    case BinaryOp::Sub:
      return record1("sub", out, {a, b}, [=](const Tensor& d) -> std::vector<Tensor> {
        return {need_a ? sum_to(d, sa) : Tensor(), need_b ? neg(sum_to(d, sb)) : Tensor()};
      });
    case BinaryOp::Mul: {
      // d(ab)/da = b, d(ab)/db = a.
      Tensor ad = need_b ? a.detach() : Tensor(), bd = need_a ? b.detach() : Tensor();
      return record1("mul", out, {a, b}, [=](const Tensor& d) -> std::vector<Tensor> {
        return {need_a ? sum_to(mul(d, bd), sa) : Tensor(),
                need_b ? sum_to(mul(d, ad), sb) : Tensor()};
      });
    }
    case BinaryOp::Div: {
      // d(a/b)/da = 1/b, d(a/b)/db = -a/b^2 = -out/b.
      Tensor bd = b.detach(), od = need_b ? out.detach() : Tensor();
      return record1("div", out, {a, b}, [=](const Tensor& d) -> std::vector<Tensor> {
        return {need_a ? sum_to(div(d, bd), sa) : Tensor(),
                need_b ? neg(sum_to(div(mul(d, od), bd), sb)) : Tensor()};
      });
    }
  }
  return out;
}

Tensor unary(const char* name, UnaryOp op, const Tensor& a, double p0 = 0, double p1 = 0) {
  check_float(name, a);
  Tensor x = view::contiguous(a);
  Tensor y = empty(a.shape(), Options(a.dtype(), a.device()));
  dispatch_float(a.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (a.device().is_cuda())
      SIRS_IF_CUDA(name, unary_forward_cuda<T>(op, y.data<T>(), x.data<T>(), x.numel(),
                                               static_cast<T>(p0), static_cast<T>(p1),
                                               cuda_stream(a.device().index)));
    else
      unary_forward_cpu<T>(op, y.data<T>(), x.data<T>(), x.numel(), static_cast<T>(p0),
                           static_cast<T>(p1));
  });
  bool uses_y = op == UnaryOp::Exp || op == UnaryOp::Sqrt || op == UnaryOp::Sigmoid ||
                op == UnaryOp::Tanh;
  bool uses_x = !uses_y && op != UnaryOp::Neg;
  Tensor xd = uses_x ? x.detach() : Tensor(), yd = uses_y ? y.detach() : Tensor();
  return record1(name, y, {a}, [=](const Tensor& dout) -> std::vector<Tensor> {
    Tensor dy = view::contiguous(dout);
    const Tensor& saved = uses_x ? xd : yd;
    if (saved.defined()) check_same_device(name, dy, saved);
    Tensor dx = empty(dy.shape(), Options(dy.dtype(), dy.device()));
    dispatch_float(dy.dtype(), name, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = uses_x ? xd.data<T>() : nullptr;
      const T* yp = uses_y ? yd.data<T>() : nullptr;
      if (dy.device().is_cuda())
        SIRS_IF_CUDA(name, unary_backward_cuda<T>(op, dx.data<T>(), dy.data<T>(), xp, yp,
                                                  dy.numel(), static_cast<T>(p0),
                                                  static_cast<T>(p1),
                                                  cuda_stream(dy.device().index)));
      else
        unary_backward_cpu<T>(op, dx.data<T>(), dy.data<T>(), xp, yp, dy.numel(),
                              static_cast<T>(p0), static_cast<T>(p1));
    });
    return {dx};
  });
}

const char* compare_name(CompareOp op) {
  switch (op) {
    case CompareOp::Gt: return "gt";
    case CompareOp::Lt: return "lt";
    case CompareOp::Ge: return "ge";
    case CompareOp::Le: return "le";
    case CompareOp::Eq: return "eq";
  }
  return "?";
}

Tensor compare(CompareOp op, const Tensor& a, const Tensor& b) {
  const char* name = compare_name(op);
  check_same_dtype(name, a, b);
  check_same_device(name, a, b);
  Shape shape = broadcast_shapes(a.shape(), b.shape(), name);
  Tensor out = empty(shape, Options(DType::U8, a.device()));
  Shape as = broadcast_strides(a, shape), bs = broadcast_strides(b, shape);
  dispatch_compare(a.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (a.device().is_cuda())
      SIRS_IF_CUDA(name, compare_forward_cuda<T>(op, out.data<uint8_t>(), a.data<T>(), as.data(),
                                                 b.data<T>(), bs.data(), shape.data(),
                                                 static_cast<int>(shape.size()),
                                                 cuda_stream(a.device().index)));
    else
      compare_forward_cpu<T>(op, out.data<uint8_t>(), a.data<T>(), as.data(), b.data<T>(),
                             bs.data(), shape.data(), static_cast<int>(shape.size()));
  });
  return out;
}

Tensor compare(CompareOp op, const Tensor& a, double s) {
  const char* name = compare_name(op);
  bool exact = dispatch_compare(a.dtype(), name, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (std::is_floating_point<T>::value) return true;
    // max() + 1.0 rounds to the power of two just above max(), so the
    // range test is exact even for int64.
    return std::isfinite(s) && s >= static_cast<double>(std::numeric_limits<T>::lowest()) &&
           s < static_cast<double>(std::numeric_limits<T>::max()) + 1.0 &&
           static_cast<double>(static_cast<T>(s)) == s;
  });
  if (!exact) {
    Tensor a64 = view::to_dtype(a, DType::F64);
    return compare(op, a64, scalar_like(a64, s));
  }
  return compare(op, a, scalar_like(a, s));
}

}  // namespace

// ------------------------------------------------------------ arithmetic

Tensor add(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Add, a, b); }
Tensor sub(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Sub, a, b); }
Tensor mul(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Mul, a, b); }
Tensor div(const Tensor& a, const Tensor& b) { return binary(BinaryOp::Div, a, b); }

// The scalar forms broadcast a 0-d tensor that needs no gradient, so only
// the tensor operand's backward runs.
Tensor add(const Tensor& a, double s) { return binary(BinaryOp::Add, a, scalar_like(a, s)); }
Tensor sub(const Tensor& a, double s) { return binary(BinaryOp::Sub, a, scalar_like(a, s)); }
Tensor mul(const Tensor& a, double s) { return binary(BinaryOp::Mul, a, scalar_like(a, s)); }
Tensor div(const Tensor& a, double s) { return binary(BinaryOp::Div, a, scalar_like(a, s)); }
Tensor rsub(double s, const Tensor& a) { return binary(BinaryOp::Sub, scalar_like(a, s), a); }
Tensor rdiv(double s, const Tensor& a) { return binary(BinaryOp::Div, scalar_like(a, s), a); }

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator+(const Tensor& a, double s) { return add(a, s); }
Tensor operator-(const Tensor& a, double s) { return sub(a, s); }
Tensor operator*(const Tensor& a, double s) { return mul(a, s); }
Tensor operator/(const Tensor& a, double s) { return div(a, s); }
Tensor operator+(double s, const Tensor& a) { return add(a, s); }
Tensor operator-(double s, const Tensor& a) { return rsub(s, a); }
Tensor operator*(double s, const Tensor& a) { return mul(a, s); }
Tensor operator/(double s, const Tensor& a) { return rdiv(s, a); }
Tensor operator-(const Tensor& a) { return neg(a); }

// ------------------------------------------------------------ unary

Tensor neg(const Tensor& a) { return unary("neg", UnaryOp::Neg, a); }
Tensor exp(const Tensor& a) { return unary("exp", UnaryOp::Exp, a); }
Tensor log(const Tensor& a) { return unary("log", UnaryOp::Log, a); }
Tensor sqrt(const Tensor& a) { return unary("sqrt", UnaryOp::Sqrt, a); }
Tensor abs(const Tensor& a) { return unary("abs", UnaryOp::Abs, a); }
Tensor relu(const Tensor& a) { return unary("relu", UnaryOp::Relu, a); }
Tensor sigmoid(const Tensor& a) { return unary("sigmoid", UnaryOp::Sigmoid, a); }
Tensor tanh(const Tensor& a) { return unary("tanh", UnaryOp::Tanh, a); }
Tensor pow(const Tensor& a, double exponent) { return unary("pow", UnaryOp::Pow, a, exponent); }

Tensor clamp(const Tensor& a, double lo, double hi) {
  SIRS_CHECK(!(lo > hi), ValueError, "clamp: lo ", lo, " is above hi ", hi, " (input ",
             shape_str(a.shape()), ")");
  return unary("clamp", UnaryOp::Clamp, a, lo, hi);
}

// ------------------------------------------------------------ where

Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  SIRS_CHECK(cond.dtype() == DType::U8, DTypeError, "where: cond must be uint8, got ",
             dtype_name(cond.dtype()), " ", shape_str(cond.shape()));
  check_same_dtype("where", a, b);
  check_same_device("where", a, b);
  check_same_device("where", cond, a);
  Shape shape = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(),
                                 "where");
  Tensor out = empty(shape, Options(a.dtype(), a.device()));
  Shape cs = broadcast_strides(cond, shape), as = broadcast_strides(a, shape),
        bs = broadcast_strides(b, shape);
  dispatch_compare(a.dtype(), "where", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (a.device().is_cuda())
      SIRS_IF_CUDA("where", where_forward_cuda<T>(out.data<T>(), cond.data<uint8_t>(), cs.data(),
                                                  a.data<T>(), as.data(), b.data<T>(), bs.data(),
                                                  shape.data(), static_cast<int>(shape.size()),
                                                  cuda_stream(a.device().index)));
    else
      where_forward_cpu<T>(out.data<T>(), cond.data<uint8_t>(), cs.data(), a.data<T>(),
                           as.data(), b.data<T>(), bs.data(), shape.data(),
                           static_cast<int>(shape.size()));
  });
  bool need_a = a.requires_grad(), need_b = b.requires_grad();
  Shape sa = a.shape(), sb = b.shape();
  Tensor cd = cond.detach();
  return record1("where", out, {a, b}, [=](const Tensor& d) -> std::vector<Tensor> {
    Tensor zero = scalar_like(d, 0.0);
    return {need_a ? sum_to(where(cd, d, zero), sa) : Tensor(),
            need_b ? sum_to(where(cd, zero, d), sb) : Tensor()};
  });
}

// ------------------------------------------------------------ comparisons

Tensor gt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Gt, a, b); }
Tensor lt(const Tensor& a, const Tensor& b) { return compare(CompareOp::Lt, a, b); }
Tensor ge(const Tensor& a, const Tensor& b) { return compare(CompareOp::Ge, a, b); }
Tensor le(const Tensor& a, const Tensor& b) { return compare(CompareOp::Le, a, b); }
Tensor eq(const Tensor& a, const Tensor& b) { return compare(CompareOp::Eq, a, b); }
Tensor gt(const Tensor& a, double s) { return compare(CompareOp::Gt, a, s); }
Tensor lt(const Tensor& a, double s) { return compare(CompareOp::Lt, a, s); }
Tensor ge(const Tensor& a, double s) { return compare(CompareOp::Ge, a, s); }
Tensor le(const Tensor& a, double s) { return compare(CompareOp::Le, a, s); }
Tensor eq(const Tensor& a, double s) { return compare(CompareOp::Eq, a, s); }

// ------------------------------------------------------------ in place

void add_(const Tensor& dst, const Tensor& src, double alpha) {
  check_binary("add_", dst, src);
  Shape shape = broadcast_shapes(dst.shape(), src.shape(), "add_");
  SIRS_CHECK(shape == dst.shape(), ShapeError, "add_: src ", shape_str(src.shape()),
             " does not broadcast to dst ", shape_str(dst.shape()));
  check_writable("add_", dst);
  Shape ss = broadcast_strides(src, shape);
  dispatch_float(dst.dtype(), "add_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dst.device().is_cuda())
      SIRS_IF_CUDA("add_", add_inplace_cuda<T>(dst.data<T>(), dst.strides().data(), src.data<T>(),
                                               ss.data(), shape.data(),
                                               static_cast<int>(shape.size()),
                                               static_cast<T>(alpha),
                                               cuda_stream(dst.device().index)));
    else
      add_inplace_cpu<T>(dst.data<T>(), dst.strides().data(), src.data<T>(), ss.data(),
                         shape.data(), static_cast<int>(shape.size()), static_cast<T>(alpha));
  });
}

void mul_(const Tensor& dst, double s) {
  check_float("mul_", dst);
  check_writable("mul_", dst);
  dispatch_float(dst.dtype(), "mul_", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dst.device().is_cuda())
      SIRS_IF_CUDA("mul_", scale_inplace_cuda<T>(dst.data<T>(), dst.strides().data(),
                                                 dst.shape().data(), static_cast<int>(dst.dim()),
                                                 static_cast<T>(s),
                                                 cuda_stream(dst.device().index)));
    else
      scale_inplace_cpu<T>(dst.data<T>(), dst.strides().data(), dst.shape().data(),
                           static_cast<int>(dst.dim()), static_cast<T>(s));
  });
}

}  // namespace sirs
