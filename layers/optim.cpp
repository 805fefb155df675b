// Adam, SGD, gradient clipping and StepLR (semantics in layers/optim.h; the
// arithmetic is in kernels/cpu/optim.cpp and kernels/cuda/optim.cu).
//
// Devices: parameters may live on the CPU or on CUDA. CPU parameters are
// updated one by one as before; CUDA parameters are collected during a step
// and updated together, one multi-tensor launch per (device, dtype) group.
// Optimizer state lives on its parameter's device; state_dict() exports CPU
// copies (a checkpoint does not depend on where training ran) and
// load_state_dict() copies the state back to each parameter's device.
#include "layers/optim.h"

#include <cmath>
#include <map>
#include <unordered_set>
#include <utility>

#include "autograd/node.h"
#include "kernels/optim.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/optim_cuda.h"
#endif

namespace sirs {

namespace {

// A contiguous tensor the kernel may update; write_back() copies it into
// the parameter when the parameter itself is not contiguous.
struct Contig {
  Tensor target, work;
  explicit Contig(const Tensor& t) : target(t), work(t.is_contiguous() ? t : view::clone(t)) {}
  void write_back() const {
    if (work.impl() != target.impl()) view::copy_into(target, work);
  }
};

// The gradient of p ready for a kernel, or undefined when p has none.
Tensor grad_for(const char* op, const Tensor& p, size_t i) {
  Tensor g = p.grad();
  if (!g.defined()) return g;
  check_same_device(op, p, g);
  SIRS_CHECK(g.dtype() == p.dtype(), DTypeError, op, ": parameter ", i, " is ",
             dtype_name(p.dtype()), " but its grad is ", dtype_name(g.dtype()));
  return view::contiguous(g);
}

// Parses "<index>.<field>" keys and checks hyperparameter scalars.
struct StateReader {
  const char* op;
  size_t nparams;
  std::map<std::string, Tensor> scalars;
  std::map<size_t, std::map<std::string, Tensor>> per_param;
  std::vector<std::string> problems;

  StateReader(const char* op_, size_t n, const NamedTensors& state,
              const std::vector<std::string>& scalar_keys, const std::vector<std::string>& fields)
      : op(op_), nparams(n) {
    std::unordered_set<std::string> seen;
    for (const auto& e : state) {
      const std::string& k = e.first;
      if (!seen.insert(k).second) {
        problems.push_back(str_cat(k, ": given more than once"));
        continue;
      }
      if (!e.second.defined()) {
        problems.push_back(str_cat(k, ": undefined tensor"));
        continue;
      }
      bool is_scalar = false;
      for (const auto& s : scalar_keys) is_scalar |= (s == k);
      if (is_scalar) {
        scalars[k] = e.second;
        continue;
      }
      size_t dot = k.find('.');
      std::string idx = k.substr(0, dot == std::string::npos ? 0 : dot);
      bool digits = !idx.empty() && idx.size() < 10 &&
                    idx.find_first_not_of("0123456789") == std::string::npos;
      std::string field = dot == std::string::npos ? "" : k.substr(dot + 1);
      bool known_field = false;
      for (const auto& f : fields) known_field |= (f == field);
      if (!digits || !known_field) {
        problems.push_back(str_cat(k, ": unexpected key"));
        continue;
      }
      size_t i = std::stoul(idx);
      if (i >= nparams) {
        problems.push_back(str_cat(k, ": parameter index out of range (", nparams, " parameters)"));
        continue;
      }
      per_param[i][field] = e.second;
    }
    for (const auto& s : scalar_keys)
      if (!scalars.count(s)) problems.push_back(str_cat(s, ": missing"));
  }

  double scalar(const std::string& k, int64_t index = 0) const {
    return scalars.at(k).to_vector().at(static_cast<size_t>(index));
  }
  void check_numel(const std::string& k, int64_t n) {
    auto it = scalars.find(k);
    if (it != scalars.end() && it->second.numel() != n)
      problems.push_back(str_cat(k, ": expected ", n, " value(s), got shape ",
                                 shape_str(it->second.shape())));
  }
  void check_like(size_t i, const std::string& field, const Tensor& p) {
    const Tensor& t = per_param[i][field];
    if (t.shape() != p.shape() || !is_floating(t.dtype()))
      problems.push_back(str_cat(i, ".", field, ": expected ", shape_str(p.shape()),
                                 " floating like parameter ", i, ", got ", shape_str(t.shape()),
                                 " ", dtype_name(t.dtype())));
  }
  void fail_if_problems() const {
    if (problems.empty()) return;
    std::string msg = str_cat(op, ".load_state_dict: ", problems.size(), " problem(s):\n");
    for (const auto& p : problems) msg += "  " + p + "\n";
    throw StateDictError(msg);
  }
};

Tensor scalar_f64(double v) { return scalar_tensor(v, DType::F64); }

// A fresh copy of t with p's dtype, device and contiguous layout.
Tensor copy_like(const Tensor& t, const Tensor& p) {
  Tensor out = empty(p.shape(), Options(p.dtype(), p.device()));
  view::copy_into(out, t);
  return out;
}

// A fresh contiguous CPU copy of optimizer state, for state_dict().
Tensor export_copy(const Tensor& t) {
  return t.device().is_cpu() ? view::clone(t) : view::to_device(t, Device::cpu());
}

// One CUDA parameter's update, collected during step() and run with the
// others of its device and dtype in one launch.
struct AdamCudaJob {
  Tensor param, grad, exp_avg, exp_avg_sq;
  int64_t step;
};

struct SgdCudaJob {
  Tensor param, grad, momentum_buf;  // momentum_buf undefined when momentum == 0
  bool first;
};

#ifdef SIRS_WITH_CUDA

// Positions of `ts` grouped by (device, dtype), in order within a group.
std::vector<std::vector<size_t>> device_dtype_groups(const std::vector<Tensor>& ts) {
  std::map<std::pair<int, int>, std::vector<size_t>> m;
  for (size_t k = 0; k < ts.size(); ++k)
    m[{ts[k].device().index, static_cast<int>(ts[k].dtype())}].push_back(k);
  std::vector<std::vector<size_t>> out;
  for (auto& e : m) out.push_back(std::move(e.second));
  return out;
}

void adam_step_on_cuda(const std::vector<AdamCudaJob>& jobs, double lr, const AdamOptions& o) {
  std::vector<Tensor> params;
  for (const AdamCudaJob& j : jobs) params.push_back(j.param);
  for (const std::vector<size_t>& group : device_dtype_groups(params)) {
    const Tensor& p0 = jobs[group[0]].param;
    const int dev = p0.device().index;
    dispatch_float(p0.dtype(), "Adam.step", [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::vector<Contig> works;
      works.reserve(group.size());
      std::vector<AdamTensorCuda<T>> table;
      for (size_t k : group) {
        const AdamCudaJob& j = jobs[k];
        works.emplace_back(j.param);
        table.push_back(AdamTensorCuda<T>{works.back().work.template data<T>(),
                                          j.grad.template data<T>(),
                                          j.exp_avg.template data<T>(),
                                          j.exp_avg_sq.template data<T>(), j.param.numel(),
                                          j.step});
      }
      adam_step_cuda<T>(table.data(), static_cast<int>(table.size()), lr, o.beta1, o.beta2, o.eps,
                        o.weight_decay, dev, cuda_stream(dev));
      for (const Contig& w : works) w.write_back();
    });
  }
}

void sgd_step_on_cuda(const std::vector<SgdCudaJob>& jobs, double lr, const SGDOptions& o) {
  std::vector<Tensor> params;
  for (const SgdCudaJob& j : jobs) params.push_back(j.param);
  for (const std::vector<size_t>& group : device_dtype_groups(params)) {
    const Tensor& p0 = jobs[group[0]].param;
    const int dev = p0.device().index;
    dispatch_float(p0.dtype(), "SGD.step", [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::vector<Contig> works;
      works.reserve(group.size());
      std::vector<SgdTensorCuda<T>> table;
      for (size_t k : group) {
        const SgdCudaJob& j = jobs[k];
        works.emplace_back(j.param);
        table.push_back(SgdTensorCuda<T>{
            works.back().work.template data<T>(), j.grad.template data<T>(),
            j.momentum_buf.defined() ? j.momentum_buf.template data<T>() : nullptr,
            j.param.numel(), j.first});
      }
      sgd_step_cuda<T>(table.data(), static_cast<int>(table.size()), lr, o.momentum, o.dampening,
                       o.weight_decay, o.nesterov, dev, cuda_stream(dev));
      for (const Contig& w : works) w.write_back();
    });
  }
}

// Sum of squares of CUDA gradients: per device, every dtype group adds into
// one device scalar, read back once.
double sum_squares_on_cuda(const std::vector<Tensor>& grads) {
  double sum_sq = 0.0;
  std::map<int, Tensor> totals;  // device -> its float64 scalar accumulator
  for (const std::vector<size_t>& group : device_dtype_groups(grads)) {
    const Tensor& g0 = grads[group[0]];
    const int dev = g0.device().index;
    auto it = totals.find(dev);
    const bool first = it == totals.end();
    if (first) it = totals.emplace(dev, empty({}, Options(DType::F64, g0.device()))).first;
    double* total = it->second.data<double>();
    dispatch_float(g0.dtype(), "clip_grad_norm_", [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::vector<Tensor> keep;  // contiguous copies alive until the launch is queued
      std::vector<const T*> xs;
      std::vector<int64_t> ns;
      for (size_t k : group) {
        keep.push_back(view::contiguous(grads[k]));
        xs.push_back(keep.back().template data<T>());
        ns.push_back(grads[k].numel());
      }
      sum_squares_cuda<T>(xs.data(), ns.data(), static_cast<int>(xs.size()), total,
                          first ? 0.0 : 1.0, dev, cuda_stream(dev));
    });
  }
  for (const auto& e : totals) sum_sq += e.second.item();
  return sum_sq;
}

void scale_on_cuda(const std::vector<Tensor>& grads, double alpha) {
  for (const std::vector<size_t>& group : device_dtype_groups(grads)) {
    const Tensor& g0 = grads[group[0]];
    const int dev = g0.device().index;
    dispatch_float(g0.dtype(), "clip_grad_norm_", [&](auto tag) {
      using T = typename decltype(tag)::type;
      std::vector<Contig> works;
      works.reserve(group.size());
      std::vector<T*> xs;
      std::vector<int64_t> ns;
      for (size_t k : group) {
        works.emplace_back(grads[k]);
        xs.push_back(works.back().work.template data<T>());
        ns.push_back(grads[k].numel());
      }
      scale_cuda<T>(xs.data(), ns.data(), static_cast<int>(xs.size()), alpha, dev,
                    cuda_stream(dev));
      for (const Contig& w : works) w.write_back();
    });
  }
}

#endif  // SIRS_WITH_CUDA

}  // namespace

// ------------------------------------------------------------ Optimizer

Optimizer::Optimizer(std::vector<Tensor> params, double lr) : params_(std::move(params)), lr_(lr) {
  std::unordered_set<const TensorImpl*> seen;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    SIRS_CHECK(p.defined(), ValueError, "Optimizer: parameter ", i, " is undefined");
    SIRS_CHECK(is_floating(p.dtype()), DTypeError, "Optimizer: parameter ", i, " of shape ",
               shape_str(p.shape()), " is ", dtype_name(p.dtype()), ", expected floating");
    SIRS_CHECK(p.is_leaf(), ValueError, "Optimizer: parameter ", i, " of shape ",
               shape_str(p.shape()), " is not a leaf (it was produced by ", p.grad_fn()->name(),
               ")");
    SIRS_CHECK(seen.insert(p.impl()).second, ValueError, "Optimizer: parameter ", i,
               " appears more than once");
  }
  set_lr(lr);
}

void Optimizer::zero_grad(bool set_to_none) {
  for (const Tensor& p : params_) {
    if (set_to_none) {
      p.zero_grad();
    } else {
      Tensor g = p.grad();
      if (g.defined()) view::fill(g, 0.0);
    }
  }
}

void Optimizer::set_lr(double lr) {
  SIRS_CHECK(lr >= 0 && std::isfinite(lr), ValueError, "Optimizer: invalid lr ", lr);
  lr_ = lr;
}

// ------------------------------------------------------------ Adam

Adam::Adam(std::vector<Tensor> params, AdamOptions opt)
    : Optimizer(std::move(params), opt.lr), opt_(opt), state_(params_.size()) {
  SIRS_CHECK(opt.beta1 >= 0 && opt.beta1 < 1 && opt.beta2 >= 0 && opt.beta2 < 1, ValueError,
             "Adam: betas must lie in [0, 1), got (", opt.beta1, ", ", opt.beta2, ")");
  SIRS_CHECK(opt.eps >= 0, ValueError, "Adam: invalid eps ", opt.eps);
  SIRS_CHECK(opt.weight_decay >= 0, ValueError, "Adam: invalid weight_decay ", opt.weight_decay);
}

void Adam::step() {
  std::vector<AdamCudaJob> cuda_jobs;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = grad_for("Adam.step", p, i);
    if (!g.defined()) continue;
    State& s = state_[i];
    if (s.step == 0) {
      s.exp_avg = zeros(p.shape(), Options(p.dtype(), p.device()));
      s.exp_avg_sq = zeros(p.shape(), Options(p.dtype(), p.device()));
    }
    s.step += 1;
    if (p.device().is_cuda()) {
      cuda_jobs.push_back(AdamCudaJob{p, g, s.exp_avg, s.exp_avg_sq, s.step});
      continue;
    }
    Contig w(p);
    dispatch_float(p.dtype(), "Adam.step", [&](auto tag) {
      using T = typename decltype(tag)::type;
      adam_step_cpu<T>(w.work.data<T>(), g.data<T>(), s.exp_avg.data<T>(),
                       s.exp_avg_sq.data<T>(), p.numel(), lr_, opt_.beta1, opt_.beta2, opt_.eps,
                       opt_.weight_decay, s.step);
    });
    w.write_back();
  }
  if (!cuda_jobs.empty()) SIRS_IF_CUDA("Adam.step", adam_step_on_cuda(cuda_jobs, lr_, opt_));
}

NamedTensors Adam::state_dict() const {
  NamedTensors out;
  out.emplace_back("lr", scalar_f64(lr_));
  out.emplace_back("betas", from_vector({opt_.beta1, opt_.beta2}, {2}, DType::F64));
  out.emplace_back("eps", scalar_f64(opt_.eps));
  out.emplace_back("weight_decay", scalar_f64(opt_.weight_decay));
  for (size_t i = 0; i < state_.size(); ++i) {
    const State& s = state_[i];
    if (s.step == 0) continue;
    out.emplace_back(str_cat(i, ".step"), scalar_tensor(static_cast<double>(s.step), DType::I64));
    out.emplace_back(str_cat(i, ".exp_avg"), export_copy(s.exp_avg));
    out.emplace_back(str_cat(i, ".exp_avg_sq"), export_copy(s.exp_avg_sq));
  }
  return out;
}

void Adam::load_state_dict(const NamedTensors& state) {
  StateReader r("Adam", params_.size(), state, {"lr", "betas", "eps", "weight_decay"},
                {"step", "exp_avg", "exp_avg_sq"});
  r.check_numel("lr", 1);
  r.check_numel("betas", 2);
  r.check_numel("eps", 1);
  r.check_numel("weight_decay", 1);
  for (auto& e : r.per_param) {
    size_t i = e.first;
    for (const char* f : {"step", "exp_avg", "exp_avg_sq"})
      if (!e.second.count(f)) r.problems.push_back(str_cat(i, ".", f, ": missing"));
    if (e.second.size() != 3) continue;
    if (e.second["step"].numel() != 1 || e.second["step"].item() < 1)
      r.problems.push_back(str_cat(i, ".step: expected one value >= 1"));
    r.check_like(i, "exp_avg", params_[i]);
    r.check_like(i, "exp_avg_sq", params_[i]);
  }
  r.fail_if_problems();

  AdamOptions o = opt_;
  o.lr = r.scalar("lr");
  o.beta1 = r.scalar("betas", 0);
  o.beta2 = r.scalar("betas", 1);
  o.eps = r.scalar("eps");
  o.weight_decay = r.scalar("weight_decay");
  std::vector<State> st(params_.size());
  for (auto& e : r.per_param) {
    State& s = st[e.first];
    s.step = static_cast<int64_t>(e.second["step"].item());
    s.exp_avg = copy_like(e.second["exp_avg"], params_[e.first]);
    s.exp_avg_sq = copy_like(e.second["exp_avg_sq"], params_[e.first]);
  }
  set_lr(o.lr);
  opt_ = o;
  state_ = std::move(st);
}

// ------------------------------------------------------------ SGD

SGD::SGD(std::vector<Tensor> params, SGDOptions opt)
    : Optimizer(std::move(params), opt.lr), opt_(opt), momentum_buffer_(params_.size()) {
  SIRS_CHECK(opt.momentum >= 0, ValueError, "SGD: invalid momentum ", opt.momentum);
  SIRS_CHECK(opt.weight_decay >= 0, ValueError, "SGD: invalid weight_decay ", opt.weight_decay);
  SIRS_CHECK(!opt.nesterov || (opt.momentum > 0 && opt.dampening == 0), ValueError,
             "SGD: nesterov needs momentum > 0 and zero dampening, got momentum ", opt.momentum,
             ", dampening ", opt.dampening);
}

void SGD::step() {
  std::vector<SgdCudaJob> cuda_jobs;
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    Tensor g = grad_for("SGD.step", p, i);
    if (!g.defined()) continue;
    bool first = false;
    Tensor& buf = momentum_buffer_[i];
    if (opt_.momentum != 0 && !buf.defined()) {
      buf = empty(p.shape(), Options(p.dtype(), p.device()));
      first = true;
    }
    if (p.device().is_cuda()) {
      cuda_jobs.push_back(SgdCudaJob{p, g, buf, first});
      continue;
    }
    Contig w(p);
    dispatch_float(p.dtype(), "SGD.step", [&](auto tag) {
      using T = typename decltype(tag)::type;
      sgd_step_cpu<T>(w.work.data<T>(), g.data<T>(), buf.defined() ? buf.data<T>() : nullptr,
                      p.numel(), lr_, opt_.momentum, opt_.dampening, opt_.weight_decay,
                      opt_.nesterov, first);
    });
    w.write_back();
  }
  if (!cuda_jobs.empty()) SIRS_IF_CUDA("SGD.step", sgd_step_on_cuda(cuda_jobs, lr_, opt_));
}

NamedTensors SGD::state_dict() const {
  NamedTensors out;
  out.emplace_back("lr", scalar_f64(lr_));
  out.emplace_back("momentum", scalar_f64(opt_.momentum));
  out.emplace_back("dampening", scalar_f64(opt_.dampening));
  out.emplace_back("weight_decay", scalar_f64(opt_.weight_decay));
  out.emplace_back("nesterov", scalar_f64(opt_.nesterov ? 1.0 : 0.0));
  for (size_t i = 0; i < momentum_buffer_.size(); ++i)
    if (momentum_buffer_[i].defined())
      out.emplace_back(str_cat(i, ".momentum_buffer"), export_copy(momentum_buffer_[i]));
  return out;
}

void SGD::load_state_dict(const NamedTensors& state) {
  StateReader r("SGD", params_.size(), state,
                {"lr", "momentum", "dampening", "weight_decay", "nesterov"}, {"momentum_buffer"});
  for (const char* k : {"lr", "momentum", "dampening", "weight_decay", "nesterov"})
    r.check_numel(k, 1);
  for (auto& e : r.per_param) r.check_like(e.first, "momentum_buffer", params_[e.first]);
  r.fail_if_problems();

  SGDOptions o;
  o.lr = r.scalar("lr");
  o.momentum = r.scalar("momentum");
  o.dampening = r.scalar("dampening");
  o.weight_decay = r.scalar("weight_decay");
  o.nesterov = r.scalar("nesterov") != 0;
  std::vector<Tensor> bufs(params_.size());
  for (auto& e : r.per_param)
    bufs[e.first] = copy_like(e.second["momentum_buffer"], params_[e.first]);
  set_lr(o.lr);
  opt_ = o;
  momentum_buffer_ = std::move(bufs);
}

// ------------------------------------------------------------ clipping

double clip_grad_norm_(const std::vector<Tensor>& params, double max_norm) {
  SIRS_CHECK(max_norm >= 0, ValueError, "clip_grad_norm_: invalid max_norm ", max_norm);
  std::vector<Tensor> grads, cuda_grads;
  double sum_sq = 0.0;
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].defined()) continue;
    Tensor g = params[i].grad();
    if (!g.defined()) continue;
    if (g.device().is_cuda()) {
      cuda_grads.push_back(g);
      continue;
    }
    Tensor c = view::contiguous(g);
    sum_sq += dispatch_float(g.dtype(), "clip_grad_norm_", [&](auto tag) {
      using T = typename decltype(tag)::type;
      return sum_squares_cpu<T>(c.data<T>(), c.numel());
    });
    grads.push_back(g);
  }
  if (!cuda_grads.empty()) {
    double cuda_sum_sq = 0.0;
    SIRS_IF_CUDA("clip_grad_norm_", cuda_sum_sq = sum_squares_on_cuda(cuda_grads));
    sum_sq += cuda_sum_sq;
  }
  double total = std::sqrt(sum_sq);
  double coef = max_norm / (total + 1e-6);
  if (coef < 1.0) {
    if (!cuda_grads.empty()) SIRS_IF_CUDA("clip_grad_norm_", scale_on_cuda(cuda_grads, coef));
    for (const Tensor& g : grads) {
      Contig w(g);
      dispatch_float(g.dtype(), "clip_grad_norm_", [&](auto tag) {
        using T = typename decltype(tag)::type;
        scale_cpu<T>(w.work.data<T>(), g.numel(), coef);
      });
      w.write_back();
    }
  }
  return total;
}

// ------------------------------------------------------------ StepLR

double step_lr_at(double base_lr, int64_t last_epoch, int64_t step_size, double gamma) {
  SIRS_CHECK(step_size > 0, ValueError, "StepLR: step_size must be positive, got ", step_size);
  SIRS_CHECK(last_epoch >= 0, ValueError, "StepLR: negative epoch ", last_epoch);
  return base_lr * std::pow(gamma, static_cast<double>(last_epoch / step_size));
}

StepLR::StepLR(Optimizer& opt, int64_t step_size, double gamma)
    : opt_(opt), step_size_(step_size), gamma_(gamma), base_lr_(opt.lr()) {
  SIRS_CHECK(step_size > 0, ValueError, "StepLR: step_size must be positive, got ", step_size);
  SIRS_CHECK(gamma > 0, ValueError, "StepLR: gamma must be positive, got ", gamma);
}

void StepLR::step() {
  ++last_epoch_;
  opt_.set_lr(step_lr_at(base_lr_, last_epoch_, step_size_, gamma_));
}

void StepLR::set_state(double base_lr, int64_t last_epoch) {
  double lr = step_lr_at(base_lr, last_epoch, step_size_, gamma_);
  base_lr_ = base_lr;
  last_epoch_ = last_epoch;
  opt_.set_lr(lr);
}

double sirs_epoch_lr(double base_lr, int64_t epoch, int64_t every, double gamma) {
  return step_lr_at(base_lr, epoch + 1, every, gamma);
}

}  // namespace sirs
