// The backward engine and the autograd half of Tensor.
#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/profiler.h"

namespace sirs {

namespace {
thread_local bool g_grad_enabled = true;

AutogradMeta* meta(const Tensor& t) { return t.impl()->autograd.get(); }

AutogradMeta& ensure_meta(const Tensor& t) {
  auto& m = t.impl()->autograd;
  if (!m) m = std::make_shared<AutogradMeta>();
  return *m;
}

// a + b for gradients: result is a fresh contiguous tensor.
Tensor add_grads(const Tensor& a, const Tensor& b) {
  Tensor out = view::clone(a);
  view::copy_into(out, b, 1.0);
  return out;
}
}  // namespace

bool GradMode::enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool on) { g_grad_enabled = on; }

std::vector<Tensor> FunctionNode::apply(const std::vector<Tensor>& douts) {
  SIRS_CHECK(fn_ != nullptr, AutogradError, "backward through ", name_,
             " a second time: the graph was freed by the first backward() (build it again)");
  bool any = false;
  for (const Tensor& d : douts) any = any || d.defined();
  if (!any) return {};  // nothing reached this node: its inputs get nothing either
  return fn_(douts);
}

std::vector<Tensor> AccumulateGrad::apply(const std::vector<Tensor>& douts) {
  const Tensor& g = douts[0];
  if (!g.defined()) return {};
  Tensor leaf(leaf_);
  AutogradMeta& m = ensure_meta(leaf);
  if (!m.grad.defined()) {
    // Own a contiguous copy: incoming gradients may be views shared with
    // other tensors' gradients or broadcast with stride 0.
    m.grad = view::clone(g.dtype() == leaf.dtype() ? g : view::to_dtype(g, leaf.dtype()));
  } else {
    view::copy_into(m.grad, g, 1.0);
  }
  return {};
}

Edge gradient_edge(const Tensor& t) {
  if (!t.defined()) return {};
  AutogradMeta* m = meta(t);
  if (!m || !m->requires_grad) return {};
  if (m->grad_fn) return Edge{m->grad_fn, m->output_nr};
  std::shared_ptr<Node> acc = m->grad_accumulator.lock();
  if (!acc) {
    acc = std::make_shared<AccumulateGrad>(t.impl_ptr());
    m->grad_accumulator = acc;
  }
  return Edge{acc, 0};
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const char* name, const std::vector<Tensor>& outputs,
            const std::vector<Tensor>& inputs, BackwardFn fn) {
  if (!needs_grad(inputs)) return;
  profiler::on_record(name);
  auto node = std::make_shared<FunctionNode>(name, std::move(fn));
  node->num_outputs = static_cast<int>(outputs.size());
  node->next_edges.reserve(inputs.size());
  for (const Tensor& in : inputs) node->next_edges.push_back(gradient_edge(in));
  for (size_t k = 0; k < outputs.size(); ++k) {
    if (!outputs[k].defined()) continue;
    AutogradMeta& m = ensure_meta(outputs[k]);
    m.requires_grad = true;
    m.grad_fn = node;
    m.output_nr = static_cast<int>(k);
  }
}

Tensor record1(const char* name, const Tensor& out, const std::vector<Tensor>& inputs,
               std::function<std::vector<Tensor>(const Tensor& dout)> fn) {
  record(name, {out}, inputs,
         [f = std::move(fn)](const std::vector<Tensor>& douts) { return f(douts[0]); });
  return out;
}

// ------------------------------------------------------------ Tensor side

bool Tensor::requires_grad() const {
  AutogradMeta* m = meta(*this);
  return m && m->requires_grad;
}

Tensor& Tensor::set_requires_grad(bool on) {
  AutogradMeta* m = meta(*this);
  SIRS_CHECK(!(m && m->grad_fn), AutogradError,
             "set_requires_grad: only leaf tensors can be marked; this one was produced by ",
             m->grad_fn->name(), " (use detach() first)");
  SIRS_CHECK(!on || is_floating(dtype()), DTypeError,
             "set_requires_grad: only floating tensors can require grad, got ", dtype_name(dtype()));
  ensure_meta(*this).requires_grad = on;
  return *this;
}

Tensor Tensor::grad() const {
  AutogradMeta* m = meta(*this);
  return m ? m->grad : Tensor();
}

void Tensor::set_grad(const Tensor& g) const {
  if (g.defined())
    SIRS_CHECK(g.shape() == shape(), ShapeError, "set_grad: gradient of shape ",
               shape_str(g.shape()), " for a tensor of shape ", shape_str(shape()));
  ensure_meta(*this).grad = g;
}

void Tensor::zero_grad() const {
  AutogradMeta* m = meta(*this);
  if (m) m->grad = Tensor();
}

std::shared_ptr<Node> Tensor::grad_fn() const {
  AutogradMeta* m = meta(*this);
  return m ? m->grad_fn : nullptr;
}

bool Tensor::is_leaf() const { return grad_fn() == nullptr; }

Tensor Tensor::detach() const { return view::as_strided(*this, shape(), strides(), offset()); }

void Tensor::backward(const Tensor& gradient) const {
  SIRS_CHECK(requires_grad(), AutogradError,
             "backward: tensor of shape ", shape_str(shape()),
             " does not require grad (no input of the computation had requires_grad set)");
  Tensor g = gradient;
  if (!g.defined()) {
    SIRS_CHECK(numel() == 1, AutogradError, "backward: implicit gradient only for one-element "
               "outputs; pass a gradient for shape ", shape_str(shape()));
    g = ones_like(*this);
  }
  SIRS_CHECK(g.shape() == shape(), ShapeError, "backward: gradient of shape ", shape_str(g.shape()),
             " for a tensor of shape ", shape_str(shape()));
  NoGradGuard no_grad;

  Edge root = gradient_edge(*this);
  // Dependencies: how many edges inside the graph point at each node.
  std::unordered_map<Node*, int> deps;
  std::vector<Node*> stack{root.fn.get()};
  std::unordered_set<Node*> seen{root.fn.get()};
  while (!stack.empty()) {
    Node* n = stack.back();
    stack.pop_back();
    for (const Edge& e : n->next_edges) {
      if (!e.fn) continue;
      deps[e.fn.get()]++;
      if (seen.insert(e.fn.get()).second) stack.push_back(e.fn.get());
    }
  }

  std::unordered_map<Node*, std::vector<Tensor>> buffers;
  std::unordered_map<Node*, std::shared_ptr<Node>> keep_alive;
  buffers[root.fn.get()].resize(root.fn->num_outputs);
  buffers[root.fn.get()][root.input_nr] = g;
  keep_alive[root.fn.get()] = root.fn;
  std::vector<Node*> ready{root.fn.get()};
  while (!ready.empty()) {
    Node* n = ready.back();
    ready.pop_back();
    std::vector<Tensor> douts = std::move(buffers[n]);
    buffers.erase(n);
    std::vector<Tensor> dins;
    if (profiler::enabled()) {
      profiler::ScopedTimer timer(n->name() + " backward");
      dins = n->apply(douts);
    } else {
      dins = n->apply(douts);
    }
    SIRS_CHECK(dins.empty() || dins.size() == n->next_edges.size(), AutogradError,
               n->name(), " backward returned ", dins.size(), " gradients for ",
               n->next_edges.size(), " inputs");
    for (size_t i = 0; i < n->next_edges.size(); ++i) {
      const Edge& e = n->next_edges[i];
      if (!e.fn) continue;
      Node* next = e.fn.get();
      if (i < dins.size() && dins[i].defined()) {
        std::vector<Tensor>& buf = buffers[next];
        if (buf.empty()) buf.resize(next->num_outputs);
        Tensor& slot = buf[e.input_nr];
        slot = slot.defined() ? add_grads(slot, dins[i]) : dins[i];
        keep_alive[next] = e.fn;
      }
      if (--deps[next] == 0) {
        keep_alive[next] = e.fn;
        if (buffers[next].empty()) buffers[next].resize(next->num_outputs);
        ready.push_back(next);
      }
    }
    n->release();
  }
}

}  // namespace sirs
