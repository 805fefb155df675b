// The backward graph. Each differentiable op that sees an input requiring
// grad makes one Node: it holds what backward needs (saved tensors, always
// detached so the graph has no cycles) and one Edge per input pointing at
// the Node that produced that input (or at the input's AccumulateGrad when
// it is a leaf). backward() walks the nodes in reverse topological order.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "tensor/tensor.h"

namespace sirs {

class Node;

struct Edge {
  std::shared_ptr<Node> fn;  // null: that input needs no gradient
  int input_nr = 0;          // which output of fn the input was
};

class Node {
 public:
  virtual ~Node() = default;
  // douts[k]: gradient of output k (undefined when no gradient reached it).
  // Returns one gradient per next_edges entry (undefined = none).
  virtual std::vector<Tensor> apply(const std::vector<Tensor>& douts) = 0;
  // Drops saved tensors once backward has run through this node.
  virtual void release() {}
  virtual std::string name() const = 0;

  std::vector<Edge> next_edges;
  int num_outputs = 1;
};

using BackwardFn = std::function<std::vector<Tensor>(const std::vector<Tensor>& douts)>;

// The node behind every op: a name and a backward closure.
class FunctionNode : public Node {
 public:
  FunctionNode(std::string name, BackwardFn fn) : name_(std::move(name)), fn_(std::move(fn)) {}
  std::vector<Tensor> apply(const std::vector<Tensor>& douts) override;
  void release() override { fn_ = nullptr; }
  std::string name() const override { return name_; }

 private:
  std::string name_;
  BackwardFn fn_;
};

// Sink for a leaf's gradient: adds into tensor.grad.
class AccumulateGrad : public Node {
 public:
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf) : leaf_(std::move(leaf)) {}
  std::vector<Tensor> apply(const std::vector<Tensor>& douts) override;
  std::string name() const override { return "AccumulateGrad"; }

 private:
  std::shared_ptr<TensorImpl> leaf_;
};

struct AutogradMeta {
  bool requires_grad = false;
  Tensor grad;
  std::shared_ptr<Node> grad_fn;  // null for leaves
  int output_nr = 0;
  std::weak_ptr<Node> grad_accumulator;
};

// The edge a gradient for `t` should flow along (null fn when t needs none).
Edge gradient_edge(const Tensor& t);

// True when grad mode is on and any defined input requires grad.
bool needs_grad(const std::vector<Tensor>& inputs);

// Records `outputs` as produced by an op on `inputs` whose backward is fn:
// fn gets one gradient per output and returns one per input (undefined for
// inputs that get none). Does nothing when no input needs a gradient.
// Saved tensors captured by fn must be detached (Tensor::detach()).
void record(const char* name, const std::vector<Tensor>& outputs,
            const std::vector<Tensor>& inputs, BackwardFn fn);

// The common single-output case; fn maps dout to the input gradients.
Tensor record1(const char* name, const Tensor& out, const std::vector<Tensor>& inputs,
               std::function<std::vector<Tensor>(const Tensor& dout)> fn);

}  // namespace sirs
