// Optimizers (PyTorch semantics), gradient clipping and step learning-rate
// decay. One parameter group; state is per parameter index and exports to
// named tensors so a checkpoint resumes bit-for-bit:
//
//   Adam state_dict(): "lr", "betas" [2], "eps", "weight_decay" (float64
//   scalars), and for each parameter i that has taken a step:
//   "i.step" (int64 scalar), "i.exp_avg", "i.exp_avg_sq" (param's shape).
//   SGD state_dict(): "lr", "momentum", "dampening", "weight_decay",
//   "nesterov", and "i.momentum_buffer" once it exists.
//
// step() skips parameters whose grad is undefined (their state is left as
// it is, like PyTorch). Updates are graph-free. CPU or CUDA tensors: state
// lives on its parameter's device (one fused launch per step on CUDA) and
// state_dict() exports CPU copies.
#pragma once

#include <cstdint>
#include <vector>

#include "layers/module.h"

namespace sirs {

class Optimizer {
 public:
  // params: distinct floating leaf tensors (ValueError otherwise).
  Optimizer(std::vector<Tensor> params, double lr);
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  virtual void step() = 0;
  // The one place gradients are reset between steps: drops them (the next
  // backward writes fresh ones), or with set_to_none=false fills them with 0.
  void zero_grad(bool set_to_none = true);

  double lr() const { return lr_; }
  void set_lr(double lr);
  const std::vector<Tensor>& params() const { return params_; }

  virtual NamedTensors state_dict() const = 0;
  // Restores hyperparameters and per-parameter state (copies, converted to
  // each parameter's dtype and device). A StateDictError names every missing
  // or unknown key, bad index and mis-shaped tensor; nothing changes unless
  // all of it fits.
  virtual void load_state_dict(const NamedTensors& state) = 0;

 protected:
  std::vector<Tensor> params_;
  double lr_;
};

struct AdamOptions {
  double lr = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 0;  // L2: added to the gradient, as torch.optim.Adam
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, AdamOptions opt = {});
  void step() override;
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;
  const AdamOptions& options() const { return opt_; }
  // Steps taken by parameter i (0 before its first gradient).
  int64_t step_count(size_t i) const { return state_[i].step; }

 private:
  struct State {
    int64_t step = 0;
    Tensor exp_avg, exp_avg_sq;
  };
  AdamOptions opt_;
  std::vector<State> state_;
};

struct SGDOptions {
  double lr = 1e-2;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;  // needs momentum > 0 and dampening == 0
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, SGDOptions opt = {});
  void step() override;
  NamedTensors state_dict() const override;
  void load_state_dict(const NamedTensors& state) override;
  const SGDOptions& options() const { return opt_; }

 private:
  SGDOptions opt_;
  std::vector<Tensor> momentum_buffer_;  // undefined until the first step
};

// torch.nn.utils.clip_grad_norm_ (L2): total = sqrt(sum over all grads of
// g^2); when max_norm / (total + 1e-6) < 1 every grad is scaled by it.
// Parameters without a grad are skipped. Returns total; a NaN total scales
// nothing, an infinite one scales every grad by 0 (as PyTorch without
// error_if_nonfinite).
double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm);

// The lr for `last_epoch` completed scheduler steps: base_lr * gamma^(last_epoch / step_size).
double step_lr_at(double base_lr, int64_t last_epoch, int64_t step_size, double gamma);

// torch.optim.lr_scheduler.StepLR in closed form: base_lr is the optimizer's
// lr at construction; each step() advances last_epoch and sets
// lr = step_lr_at(base_lr, last_epoch, step_size, gamma). The closed form
// makes resuming exact: store base_lr and last_epoch, restore with set_state.
//
// SIRS rule (DESIGN §4: at the start of epoch e the lr is multiplied by 0.7
// when e % 20 == 19): StepLR(opt, 20, 0.7) and call step() at the START of
// every epoch, epoch 0 included; epoch e then trains with
// base_lr * 0.7^((e + 1) / 20), which is sirs_epoch_lr(base_lr, e).
class StepLR {
 public:
  StepLR(Optimizer& opt, int64_t step_size, double gamma);
  void step();
  int64_t last_epoch() const { return last_epoch_; }
  double base_lr() const { return base_lr_; }
  // Restores a scheduler position and applies its lr to the optimizer.
  void set_state(double base_lr, int64_t last_epoch);

 private:
  Optimizer& opt_;
  int64_t step_size_;
  double gamma_;
  double base_lr_;
  int64_t last_epoch_ = 0;
};

// lr used during epoch e (0-based) under the SIRS rule.
double sirs_epoch_lr(double base_lr, int64_t epoch, int64_t every = 20, double gamma = 0.7);

}  // namespace sirs
