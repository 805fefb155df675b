// Module tree: registration, traversal in PyTorch order, state dicts,
// train/eval and in-place device/dtype moves (see layers/module.h).
#include "layers/module.h"

#include <set>
#include <unordered_set>

#include "autograd/grad_mode.h"

namespace sirs {

namespace {

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

std::string describe(const Tensor& t) {
  return str_cat(shape_str(t.shape()), " ", dtype_name(t.dtype()));
}

// Makes every existing handle on t see `moved`: same TensorImpl, new storage.
void rebind(const Tensor& t, const Tensor& moved) {
  TensorImpl* impl = t.impl();
  impl->storage = moved.storage();
  impl->strides = moved.strides();
  impl->offset = moved.offset();
  impl->dtype = moved.dtype();
}

}  // namespace

std::string StateDictReport::str() const {
  std::string s;
  for (const auto& n : missing) s += str_cat("  missing: ", n, "\n");
  for (const auto& n : unexpected) s += str_cat("  unexpected: ", n, "\n");
  for (const auto& n : mismatched) s += str_cat("  mismatched: ", n, "\n");
  return s;
}

void Module::check_new_name(const std::string& name, const char* what) const {
  SIRS_CHECK(!name.empty() && name.find('.') == std::string::npos, ValueError, "Module::register_",
             what, ": name '", name, "' must be non-empty and contain no '.'");
  auto taken = [&](const auto& list) {
    for (const auto& e : list)
      if (e.first == name) return true;
    return false;
  };
  SIRS_CHECK(!taken(params_) && !taken(buffers_) && !taken(children_), ValueError,
             "Module::register_", what, ": name '", name, "' is already registered");
}

Tensor Module::register_parameter(const std::string& name, Tensor t) {
  check_new_name(name, "parameter");
  SIRS_CHECK(t.defined(), ValueError, "Module::register_parameter: '", name, "' is undefined");
  SIRS_CHECK(is_floating(t.dtype()), DTypeError, "Module::register_parameter: '", name,
             "' must be floating, got ", dtype_name(t.dtype()));
  SIRS_CHECK(t.is_leaf(), AutogradError, "Module::register_parameter: '", name,
             "' was produced by an op; register a leaf (detach() it first)");
  t.set_requires_grad(true);
  params_.emplace_back(name, t);
  return t;
}

Tensor Module::register_buffer(const std::string& name, Tensor t) {
  check_new_name(name, "buffer");
  SIRS_CHECK(t.defined(), ValueError, "Module::register_buffer: '", name, "' is undefined");
  SIRS_CHECK(!t.requires_grad(), AutogradError, "Module::register_buffer: '", name,
             "' requires grad; buffers hold state that is not trained (detach() it)");
  buffers_.emplace_back(name, t);
  return t;
}

void Module::add_child(const std::string& name, std::shared_ptr<Module> m) {
  check_new_name(name, "module");
  SIRS_CHECK(m != nullptr, ValueError, "Module::register_module: '", name, "' is null");
  SIRS_CHECK(m.get() != this, ValueError, "Module::register_module: '", name,
             "' is the module itself");
  children_.emplace_back(name, std::move(m));
}

template <class F>
void Module::walk(const std::string& prefix, F&& visit) const {
  visit(prefix, *this);
  for (const auto& c : children_) c.second->walk(join(prefix, c.first), visit);
}

NamedTensors Module::named_parameters() const {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  walk("", [&](const std::string& prefix, const Module& m) {
    for (const auto& p : m.params_)
      if (seen.insert(p.second.impl()).second) out.emplace_back(join(prefix, p.first), p.second);
  });
  return out;
}

std::vector<Tensor> Module::parameters() const {
  std::vector<Tensor> out;
  for (auto& p : named_parameters()) out.push_back(p.second);
  return out;
}

NamedTensors Module::named_buffers() const {
  NamedTensors out;
  std::unordered_set<const TensorImpl*> seen;
  walk("", [&](const std::string& prefix, const Module& m) {
    for (const auto& b : m.buffers_)
      if (seen.insert(b.second.impl()).second) out.emplace_back(join(prefix, b.first), b.second);
  });
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::unordered_set<const Module*> seen;
  walk("", [&](const std::string& prefix, const Module& m) {
    if (seen.insert(&m).second) out.emplace_back(prefix, const_cast<Module*>(&m));
  });
  return out;
}

int64_t Module::num_parameters() const {
  int64_t n = 0;
  for (const auto& p : named_parameters()) n += p.second.numel();
  return n;
}

NamedTensors Module::state_dict() const {
  NamedTensors out;
  walk("", [&](const std::string& prefix, const Module& m) {
    for (const auto& p : m.params_) out.emplace_back(join(prefix, p.first), p.second.detach());
    for (const auto& b : m.buffers_) out.emplace_back(join(prefix, b.first), b.second.detach());
  });
  return out;
}

StateDictReport Module::load_state_dict(const NamedTensors& state, bool strict) {
  NamedTensors mine = state_dict();
  std::map<std::string, const Tensor*> given;
  StateDictReport rep;
  for (const auto& e : state) {
    if (!given.emplace(e.first, &e.second).second)
      rep.mismatched.push_back(str_cat(e.first, ": given more than once"));
  }
  std::set<std::string> known;
  for (const auto& e : mine) {
    known.insert(e.first);
    auto it = given.find(e.first);
    if (it == given.end()) {
      rep.missing.push_back(e.first);
      continue;
    }
    const Tensor& src = *it->second;
    const Tensor& dst = e.second;
    bool dtype_ok = src.defined() && (src.dtype() == dst.dtype() ||
                                      is_floating(src.dtype()) == is_floating(dst.dtype()));
    if (!src.defined() || src.shape() != dst.shape() || !dtype_ok)
      rep.mismatched.push_back(str_cat(e.first, ": expected ", describe(dst), ", got ",
                                       src.defined() ? describe(src) : "an undefined tensor"));
  }
  for (const auto& e : state)
    if (!known.count(e.first)) rep.unexpected.push_back(e.first);

  bool fail = !rep.mismatched.empty() || (strict && !rep.ok());
  if (fail)
    throw StateDictError(str_cat("load_state_dict: ", rep.missing.size(), " missing, ",
                                 rep.unexpected.size(), " unexpected, ", rep.mismatched.size(),
                                 " mismatched tensor(s):\n", rep.str()));
  NoGradGuard no_grad;
  for (const auto& e : mine) {
    auto it = given.find(e.first);
    if (it != given.end()) view::copy_into(e.second, *it->second);
  }
  return rep;
}

StateDictReport Module::load_state_dict(const std::map<std::string, Tensor>& state, bool strict) {
  return load_state_dict(NamedTensors(state.begin(), state.end()), strict);
}

void Module::train(bool on) {
  walk("", [on](const std::string&, const Module& m) {
    Module& mm = const_cast<Module&>(m);
    mm.training_ = on;
    mm.on_train(on);
  });
}

void Module::to(Device device) {
  for (const auto& p : named_parameters()) {
    const Tensor& t = p.second;
    if (t.device() != device) rebind(t, view::to_device(t, device));
    Tensor g = t.grad();
    if (g.defined() && g.device() != device) t.set_grad(view::to_device(g, device));
  }
  for (const auto& b : named_buffers())
    if (b.second.device() != device) rebind(b.second, view::to_device(b.second, device));
}

void Module::to(DType dtype) {
  SIRS_CHECK(is_floating(dtype), DTypeError, "Module::to: expected a floating dtype, got ",
             dtype_name(dtype));
  for (const auto& p : named_parameters()) {
    const Tensor& t = p.second;
    if (t.dtype() != dtype) rebind(t, view::to_dtype(t, dtype));
    Tensor g = t.grad();
    if (g.defined() && g.dtype() != dtype) t.set_grad(view::to_dtype(g, dtype));
  }
  for (const auto& b : named_buffers())
    if (is_floating(b.second.dtype()) && b.second.dtype() != dtype)
      rebind(b.second, view::to_dtype(b.second, dtype));
}

void Module::zero_grad() {
  for (const Tensor& p : parameters()) p.zero_grad();
}

}  // namespace sirs
