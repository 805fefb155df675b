// Module: the owner of parameters, buffers and child modules, in
// registration order, with PyTorch's naming so that checkpoints move between
// the two engines ("layer1.0.conv1.weight").
//
//   class Linear : public Module {
//    public:
//     Linear(int64_t in, int64_t out) {
//       weight = register_parameter("weight", empty({out, in}));
//       bias = register_parameter("bias", empty({out}));
//       linear_default_init_(weight, bias);
//     }
//     Tensor weight, bias;
//   };
//
// Order (matches torch.nn.Module): a module's own parameters, then its own
// buffers, then each child recursively, in registration order. Parameters
// are leaf tensors that require grad; buffers (BatchNorm running stats,
// num_batches_tracked) do not. The tensors a module hands out are handles on
// the tensors it owns, so load_state_dict and to(Device) change them in place
// and every handle a layer keeps stays valid.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "tensor/tensor.h"

namespace sirs {

using NamedTensors = std::vector<std::pair<std::string, Tensor>>;

// load_state_dict found names that do not fit. The message lists every one.
struct StateDictError : Error { using Error::Error; };

struct StateDictReport {
  std::vector<std::string> missing;     // in the module, not in the input
  std::vector<std::string> unexpected;  // in the input, not in the module
  // "name: expected [64, 3, 7, 7] float32, got [64, 3, 3, 3] float32"
  std::vector<std::string> mismatched;
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  std::string str() const;  // one line per problem, by name
};

class Module {
 public:
  Module() = default;
  virtual ~Module() = default;
  Module(const Module&) = delete;
  Module& operator=(const Module&) = delete;

  // --- registration. Names are non-empty, contain no '.', and are unique
  // among this module's parameters, buffers and children (ValueError).
  // A parameter must be a defined floating leaf tensor; it is marked
  // requires_grad. Returns the registered handle.
  Tensor register_parameter(const std::string& name, Tensor t);
  Tensor register_buffer(const std::string& name, Tensor t);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> m) {
    add_child(name, m);
    return m;
  }

  // --- traversal, recursive, dotted names, registration order. A tensor or
  // module reachable under two names is listed once (first name), as in
  // PyTorch's named_parameters(); state_dict() lists every name.
  NamedTensors named_parameters() const;
  std::vector<Tensor> parameters() const;
  NamedTensors named_buffers() const;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const {
    return children_;
  }
  // This module first (name ""), then every descendant, pre-order.
  std::vector<std::pair<std::string, Module*>> named_modules();
  int64_t num_parameters() const;  // elements over parameters()

  // --- state. state_dict() returns handles sharing storage with the
  // module's tensors (detached: no gradient state).
  NamedTensors state_dict() const;
  // Copies every value into the existing tensor of the same name, in place,
  // converting between floating dtypes (or between integer dtypes). Nothing
  // is copied unless everything fits. Shape or dtype mismatches are always
  // an error; strict also makes missing and unexpected names errors. Errors
  // are a StateDictError listing every offending name; the returned report
  // lists the missing and unexpected names that strict=false tolerated.
  StateDictReport load_state_dict(const NamedTensors& state, bool strict = true);
  StateDictReport load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  // --- mode, device, gradients (all recursive).
  void train(bool on = true);
  void eval() { train(false); }
  bool is_training() const { return training_; }
  // Moves parameters, their gradients and buffers to `device` in place: each
  // TensorImpl gets the new storage, so existing handles follow.
  void to(Device device);
  // Converts floating parameters and buffers (integer buffers stay).
  void to(DType dtype);
  // Drops every parameter's gradient (the next backward writes a fresh one).
  void zero_grad();

 protected:
  // Hook for subclasses that need to react to train()/eval().
  virtual void on_train(bool /*on*/) {}

 private:
  void check_new_name(const std::string& name, const char* what) const;
  void add_child(const std::string& name, std::shared_ptr<Module> m);
  // visit(prefix, module) pre-order over the tree.
  template <class F>
  void walk(const std::string& prefix, F&& visit) const;

  NamedTensors params_;
  NamedTensors buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
};

}  // namespace sirs
