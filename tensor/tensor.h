// The Tensor: a view (shape, strides, offset, dtype) onto shared,
// reference-counted storage on one device. Copying a Tensor copies a
// handle; views share storage. Autograd state (requires_grad, grad,
// grad_fn) hangs off the handle and is managed by autograd/.
//
// Methods that are differentiable (reshape, permute, ...) are implemented in
// autograd/shape_ops.cpp; the raw, graph-free versions are the free
// functions in namespace sirs::view.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

#include "tensor/device.h"
#include "tensor/dtype.h"
#include "tensor/error.h"
#include "tensor/random.h"
#include "tensor/storage.h"

namespace sirs {

using Shape = std::vector<int64_t>;

std::string shape_str(const Shape& s);
int64_t shape_numel(const Shape& s);
Shape contiguous_strides(const Shape& s);
// Wraps a possibly negative dim into [0, ndim); IndexError naming op otherwise.
int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op);

struct AutogradMeta;  // autograd/node.h
class Node;

struct TensorImpl {
  std::shared_ptr<Storage> storage;
  Shape shape;
  Shape strides;  // in elements
  int64_t offset = 0;  // in elements
  DType dtype = DType::F32;
  std::shared_ptr<AutogradMeta> autograd;  // null: no autograd state
};

class Tensor {
 public:
  Tensor() = default;
  explicit Tensor(std::shared_ptr<TensorImpl> impl) : impl_(std::move(impl)) {}

  bool defined() const { return impl_ != nullptr; }
  TensorImpl* impl() const { return impl_.get(); }
  const std::shared_ptr<TensorImpl>& impl_ptr() const { return impl_; }

  // --- metadata
  const Shape& shape() const { return checked()->shape; }
  const Shape& strides() const { return checked()->strides; }
  int64_t dim() const { return static_cast<int64_t>(shape().size()); }
  int64_t size(int64_t d) const;
  int64_t stride(int64_t d) const;
  int64_t offset() const { return checked()->offset; }
  int64_t numel() const { return shape_numel(shape()); }
  DType dtype() const { return checked()->dtype; }
  Device device() const { return checked()->storage->device(); }
  bool is_contiguous() const;
  const std::shared_ptr<Storage>& storage() const { return checked()->storage; }

  // Pointer to element 0 of this view (storage base + offset).
  void* raw_data() const;
  // Typed pointer; DTypeError when T does not match dtype().
  template <class T>
  T* data() const {
    SIRS_CHECK(DTypeOf<T>::value == dtype(), DTypeError, "data<", dtype_name(DTypeOf<T>::value),
               ">() on a ", dtype_name(dtype()), " tensor of shape ", shape_str(shape()));
    return static_cast<T*>(raw_data());
  }
  // The single value of a one-element tensor, as double (any dtype, device).
  double item() const;
  // All values as doubles in row-major order (for tests and printing).
  std::vector<double> to_vector() const;

  // --- autograd (autograd/engine.cpp)
  bool requires_grad() const;
  // Only leaves (tensors no op produced) may be marked.
  Tensor& set_requires_grad(bool on = true);
  Tensor grad() const;
  void set_grad(const Tensor& g) const;
  void zero_grad() const;  // drops the gradient
  std::shared_ptr<Node> grad_fn() const;
  bool is_leaf() const;
  // From a one-element tensor (gradient 1) or with an explicit gradient of
  // this tensor's shape. Frees the graph as it goes.
  void backward(const Tensor& gradient = Tensor()) const;
  // Same storage, no autograd history.
  Tensor detach() const;

  // --- views, differentiable (autograd/shape_ops.cpp)
  Tensor reshape(const Shape& shape) const;  // view when strides allow, copy otherwise
  Tensor view(const Shape& shape) const;     // view or ShapeError
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor permute(const Shape& dims) const;
  Tensor transpose(int64_t d0, int64_t d1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor select(int64_t dim, int64_t index) const;  // removes dim
  Tensor expand(const Shape& shape) const;          // -1 keeps a size
  Tensor squeeze(int64_t dim) const;
  Tensor squeeze() const;  // all size-1 dims
  Tensor unsqueeze(int64_t dim) const;
  Tensor contiguous() const;
  Tensor clone() const;
  Tensor to(Device device) const;
  Tensor to(DType dtype) const;

  std::string str(int64_t max_per_dim = 6) const;

 private:
  TensorImpl* checked() const;
  std::shared_ptr<TensorImpl> impl_;
};

std::ostream& operator<<(std::ostream& os, const Tensor& t);

// --- creation. dtype defaults to float32, device to the CPU.
struct Options {
  DType dtype = DType::F32;
  Device device = Device::cpu();
  Options() = default;
  Options(DType d) : dtype(d) {}  // NOLINT: Options o = DType::F64
  Options(DType d, Device dev) : dtype(d), device(dev) {}
  Options(Device dev) : device(dev) {}  // NOLINT
};

Tensor empty(const Shape& shape, Options o = {});
Tensor zeros(const Shape& shape, Options o = {});
Tensor ones(const Shape& shape, Options o = {});
Tensor full(const Shape& shape, double value, Options o = {});
Tensor zeros_like(const Tensor& t);
Tensor ones_like(const Tensor& t);
Tensor empty_like(const Tensor& t);
Tensor full_like(const Tensor& t, double value);
// [start, end) in steps of step.
Tensor arange(double start, double end, double step = 1, Options o = {});
Tensor arange(int64_t n, Options o = {});
// Copies host values (converted to dtype). numel must equal values.size().
Tensor from_vector(const std::vector<double>& values, const Shape& shape, Options o = {});
template <class T>
Tensor from_data(const T* values, const Shape& shape, Device device = Device::cpu()) {
  Tensor t = empty(shape, Options(DTypeOf<T>::value, Device::cpu()));
  std::copy(values, values + t.numel(), t.data<T>());
  return device.is_cpu() ? t : t.to(device);
}
Tensor scalar_tensor(double value, Options o = {});

// Random tensors from a generator (the default one when null).
Tensor rand(const Shape& shape, Options o = {}, Generator* gen = nullptr);      // U[0,1)
Tensor randn(const Shape& shape, Options o = {}, Generator* gen = nullptr);     // N(0,1)
Tensor uniform(const Shape& shape, double lo, double hi, Options o = {}, Generator* gen = nullptr);
Tensor normal(const Shape& shape, double mean, double std, Options o = {}, Generator* gen = nullptr);
Tensor bernoulli(const Shape& shape, double p, Options o = {}, Generator* gen = nullptr);  // 1 with prob p
// Integers uniform in [low, high); int64 unless o says otherwise.
Tensor randint(int64_t low, int64_t high, const Shape& shape, Options o = DType::I64,
               Generator* gen = nullptr);

// --- raw (graph-free) views and copies. Used by autograd/ and kernels' callers.
namespace view {
Tensor as_strided(const Tensor& t, const Shape& shape, const Shape& strides, int64_t offset);
bool can_view(const Tensor& t, const Shape& shape, Shape* strides_out);
Tensor reshape(const Tensor& t, Shape shape);  // copies when needed
Tensor view_only(const Tensor& t, Shape shape);  // ShapeError when a copy would be needed
Tensor permute(const Tensor& t, const Shape& dims);
Tensor narrow(const Tensor& t, int64_t dim, int64_t start, int64_t length);
Tensor slice(const Tensor& t, int64_t dim, int64_t start, int64_t end, int64_t step);
Tensor expand(const Tensor& t, const Shape& shape);
Tensor squeeze(const Tensor& t, int64_t dim);
Tensor unsqueeze(const Tensor& t, int64_t dim);
Tensor contiguous(const Tensor& t);
Tensor clone(const Tensor& t);  // always a new contiguous copy
Tensor to_device(const Tensor& t, Device d);
Tensor to_dtype(const Tensor& t, DType d);
// dst <- src (+ beta * dst): same shape, any strides; src may broadcast.
void copy_into(const Tensor& dst, const Tensor& src, double beta = 0.0);
void fill(const Tensor& dst, double value);
}  // namespace view

// Checks shared by ops: same device, a floating dtype, equal dtypes.
void check_same_device(const char* op, const Tensor& a, const Tensor& b);
void check_same_dtype(const char* op, const Tensor& a, const Tensor& b);
void check_float(const char* op, const Tensor& t);
void check_cpu(const char* op, const Tensor& t);

}  // namespace sirs
