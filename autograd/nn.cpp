// Neural-network ops with their backwards: embedding, dropout, softmax,
// log_softmax, cross_entropy, cosine_similarity. Shape, dtype and index
// checks happen here (typed errors naming the op); the arithmetic is in
// kernels/{embedding,dropout,softmax,loss}.h.
#include "autograd/nn.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "autograd/node.h"
#include "autograd/shape_ops.h"
#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/dropout_cuda.h"
#include "kernels/cuda/embedding_cuda.h"
#include "kernels/cuda/loss_cuda.h"
#include "kernels/cuda/softmax_cuda.h"
#endif
#include "kernels/cuda/deferred_check.h"  // host part: builds without CUDA too
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#include "kernels/loss.h"
#include "kernels/softmax.h"

namespace sirs {

namespace {

// A contiguous tensor of the given dtype with t's values (gradients may
// arrive as broadcast or permuted views).
Tensor dense(const Tensor& t, DType dtype) {
  Tensor c = t.dtype() == dtype ? t : view::to_dtype(t, dtype);
  return view::contiguous(c);
}

// Sizes of [outer, D, inner] for a reduction over dim d of shape s.
struct Split3 {
  int64_t outer = 1, D = 1, inner = 1;
};
Split3 split_at(const Shape& s, int64_t d) {
  Split3 r;
  if (s.empty()) return r;
  for (int64_t i = 0; i < d; ++i) r.outer *= s[i];
  r.D = s[d];
  for (size_t i = d + 1; i < s.size(); ++i) r.inner *= s[i];
  return r;
}

// Sum of n values in double with a fixed chunking, so the result does not
// depend on the number of threads.
template <class T>
double deterministic_sum(const T* v, int64_t n) {
  constexpr int64_t kChunk = 4096;
  int64_t chunks = (n + kChunk - 1) / kChunk;
  std::vector<double> part(static_cast<size_t>(chunks), 0.0);
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t c = 0; c < chunks; ++c) {
    double s = 0;
    for (int64_t i = c * kChunk; i < std::min(n, (c + 1) * kChunk); ++i) s += v[i];
    part[c] = s;
  }
  return std::accumulate(part.begin(), part.end(), 0.0);
}

}  // namespace

// ------------------------------------------------------------ embedding

namespace {

// note: "" on the CPU; on CUDA where and when the check ran.
[[noreturn]] void throw_bad_embedding_index(int64_t value, int64_t n, const Shape& indices,
                                            const Shape& weight, const std::string& note = "") {
  throw IndexError(str_cat("embedding: index ", value, " (element ", n, " of indices ",
                           shape_str(indices), ") is out of range for V = ", weight[0],
                           " rows of weight ", shape_str(weight), note));
}

}  // namespace

Tensor embedding(const Tensor& weight, const Tensor& indices, int64_t padding_idx) {
  const char* op = "embedding";
  check_same_device(op, weight, indices);
  check_float(op, weight);
  SIRS_CHECK(weight.dim() == 2, ShapeError, "embedding: weight must be [V, E], got ",
             shape_str(weight.shape()));
  SIRS_CHECK(indices.dtype() == DType::I64, DTypeError, "embedding: indices must be int64, got ",
             dtype_name(indices.dtype()), " ", shape_str(indices.shape()));
  int64_t V = weight.size(0), E = weight.size(1);
  SIRS_CHECK(padding_idx < V, ValueError, "embedding: padding_idx ", padding_idx,
             " is outside the vocabulary of V = ", V, " rows");
  const Device dev = weight.device();
  Tensor idx = view::contiguous(indices);
  int64_t N = idx.numel();
  Shape out_shape = indices.shape();
  out_shape.push_back(E);
  Tensor w = view::contiguous(weight);
  Tensor out = empty(out_shape, Options(weight.dtype(), dev));
  // CPU: the indices are checked before the gather. CUDA: during it, on the
  // device, into a flag read later without a sync; only when it is set are
  // the indices read back for the CPU's message
  // (kernels/cuda/deferred_check.h). Bad rows are zeros until the error is
  // reported.
  DeferredIndexCheck check;
  if (dev.is_cuda()) {
    check = DeferredIndexCheck(op, idx.data<int64_t>(), N, 0, V, idx.storage(),
                               [ishape = indices.shape(), wshape = weight.shape()](
                                   int64_t n, int64_t value, const std::string& note) {
                                 throw_bad_embedding_index(value, n, ishape, wshape, note);
                               });
  } else {
    const int64_t* ip = idx.data<int64_t>();
    for (int64_t n = 0; n < N; ++n)
      if (ip[n] < 0 || ip[n] >= V)
        throw_bad_embedding_index(ip[n], n, indices.shape(), weight.shape());
  }
  dispatch_float(weight.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda())
      SIRS_IF_CUDA(op, cuda_checked_launch(dev.index, std::move(check), [&](int32_t* flag) {
                     embedding_forward_cuda<T>(w.data<T>(), idx.data<int64_t>(), N, E, V,
                                               out.data<T>(), flag, cuda_stream(dev.index));
                   }));
    else
      embedding_forward_cpu<T>(w.data<T>(), idx.data<int64_t>(), N, E, out.data<T>());
  });
  Tensor saved_idx = idx.detach();
  return record1(op, out, {weight}, [saved_idx, V, E, padding_idx](const Tensor& dout) {
    Tensor g = dense(dout, dout.dtype());
    const Device gdev = g.device();
    Tensor dw = empty({V, E}, Options(g.dtype(), gdev));
    dispatch_float(g.dtype(), "embedding backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (gdev.is_cuda())
        SIRS_IF_CUDA("embedding backward",
                     embedding_backward_cuda<T>(g.data<T>(), saved_idx.data<int64_t>(),
                                                saved_idx.numel(), E, V, padding_idx, dw.data<T>(),
                                                T(0), gdev.index, cuda_stream(gdev.index)));
      else
        embedding_backward_cpu<T>(g.data<T>(), saved_idx.data<int64_t>(), saved_idx.numel(), E, V,
                                  padding_idx, dw.data<T>(), T(0));
    });
    return std::vector<Tensor>{dw};
  });
}

// ------------------------------------------------------------ dropout

namespace {

// out = src * mask elementwise on their (common) device; src any layout.
Tensor apply_dropout_mask(const Tensor& src, const Tensor& mask, const char* op) {
  Tensor s = dense(src, mask.dtype());
  const Device dev = mask.device();
  Tensor out = empty(mask.shape(), Options(mask.dtype(), dev));
  dispatch_float(mask.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda())
      SIRS_IF_CUDA(op, dropout_apply_cuda<T>(s.data<T>(), mask.data<T>(), out.data<T>(),
                                             out.numel(), cuda_stream(dev.index)));
    else
      dropout_apply_cpu<T>(s.data<T>(), mask.data<T>(), out.data<T>(), out.numel());
  });
  return out;
}

}  // namespace

Tensor dropout_mask(const Shape& shape, double p, Options o, Generator* gen) {
  SIRS_CHECK(p >= 0 && p <= 1, ValueError, "dropout_mask: p = ", p, " is outside [0, 1]");
  Generator& g = gen ? *gen : default_generator();
  int64_t n = shape_numel(shape);
  uint64_t first = g.take(static_cast<uint64_t>((n + 3) / 4));
  Tensor mask = empty(shape, o);  // made where it is used: no host round trip on CUDA
  uint32_t threshold = dropout_threshold(p);
  double scale = p < 1 ? 1.0 / (1.0 - p) : 0.0;
  dispatch_float(o.dtype, "dropout_mask", [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (o.device.is_cuda())
      SIRS_IF_CUDA("dropout_mask",
                   dropout_mask_cuda<T>(mask.data<T>(), n, g.seed(), first, threshold,
                                        static_cast<T>(scale), cuda_stream(o.device.index)));
    else
      dropout_mask_cpu<T>(mask.data<T>(), n, g.seed(), first, threshold, static_cast<T>(scale));
  });
  return mask;
}

Tensor dropout(const Tensor& x, double p, bool training, Generator* gen) {
  const char* op = "dropout";
  SIRS_CHECK(p >= 0 && p <= 1, ValueError, "dropout: p = ", p, " is outside [0, 1]");
  if (!training || p == 0) return x;
  check_float(op, x);
  if (p == 1) {
    Tensor out = zeros(x.shape(), Options(x.dtype(), x.device()));
    return record1(op, out, {x}, [](const Tensor& dout) {
      return std::vector<Tensor>{zeros(dout.shape(), Options(dout.dtype(), dout.device()))};
    });
  }
  Tensor mask = dropout_mask(x.shape(), p, Options(x.dtype(), x.device()), gen);
  Tensor out = apply_dropout_mask(x, mask, op);
  return record1(op, out, {x}, [mask](const Tensor& dout) {
    return std::vector<Tensor>{apply_dropout_mask(dout, mask, "dropout backward")};
  });
}

// ------------------------------------------------------------ softmax

namespace {

// Runs on x's device (CUDA: kernels/cuda/softmax.cu); y and dx are made
// there too.
Tensor softmax_impl(const Tensor& x, int64_t dim, bool log, const char* op) {
  check_float(op, x);
  int64_t d = wrap_dim(dim, x.dim(), op);
  Split3 s = split_at(x.shape(), d);
  Tensor xc = view::contiguous(x);
  Tensor y = empty(x.shape(), Options(x.dtype(), x.device()));
  dispatch_float(x.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (x.device().is_cuda()) {
      SIRS_IF_CUDA(op, softmax_forward_cuda<T>(xc.data<T>(), y.data<T>(), s.outer, s.D, s.inner,
                                               log, cuda_stream(x.device().index)));
    } else {
      softmax_forward_cpu<T>(xc.data<T>(), y.data<T>(), s.outer, s.D, s.inner, log);
    }
  });
  Tensor ys = y.detach();
  return record1(op, y, {x}, [ys, s, log](const Tensor& dout) {
    check_same_device("softmax backward", dout, ys);
    Tensor g = dense(dout, ys.dtype());
    Tensor dx = empty(ys.shape(), Options(ys.dtype(), ys.device()));
    dispatch_float(ys.dtype(), "softmax backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (ys.device().is_cuda()) {
        SIRS_IF_CUDA("softmax backward",
                     softmax_backward_cuda<T>(ys.data<T>(), g.data<T>(), dx.data<T>(), s.outer,
                                              s.D, s.inner, log, cuda_stream(ys.device().index)));
      } else {
        softmax_backward_cpu<T>(ys.data<T>(), g.data<T>(), dx.data<T>(), s.outer, s.D, s.inner,
                                log);
      }
    });
    return std::vector<Tensor>{dx};
  });
}

}  // namespace

Tensor softmax(const Tensor& x, int64_t dim) { return softmax_impl(x, dim, false, "softmax"); }
Tensor log_softmax(const Tensor& x, int64_t dim) {
  return softmax_impl(x, dim, true, "log_softmax");
}

// ------------------------------------------------------------ cross_entropy

namespace {

// note: "" on the CPU; on CUDA where and when the check ran.
[[noreturn]] void throw_bad_target(int64_t value, int64_t e, const Shape& target, int64_t K,
                                   int64_t ignore_index, const std::string& note = "") {
  throw IndexError(str_cat("cross_entropy: target value ", value, " (element ", e, " of target ",
                           shape_str(target), ") is outside [0, K) for K = ", K,
                           " classes and is not ignore_index (", ignore_index, ")", note));
}

}  // namespace

Tensor cross_entropy(const Tensor& logits, const Tensor& target, const Tensor& weight,
                     int64_t ignore_index, Reduction reduction) {
  const char* op = "cross_entropy";
  check_same_device(op, logits, target);
  check_float(op, logits);
  SIRS_CHECK(logits.dim() == 2 || logits.dim() == 4, ShapeError,
             "cross_entropy: logits must be [B, K] or [B, K, H, W], got ",
             shape_str(logits.shape()));
  SIRS_CHECK(target.dtype() == DType::I64, DTypeError,
             "cross_entropy: target must hold int64 class indices, got ",
             dtype_name(target.dtype()), " ", shape_str(target.shape()));
  Shape tshape = logits.shape();
  tshape.erase(tshape.begin() + 1);
  SIRS_CHECK(target.shape() == tshape, ShapeError, "cross_entropy: target ",
             shape_str(target.shape()), " does not match logits ", shape_str(logits.shape()),
             " (expected target ", shape_str(tshape), ")");
  int64_t B = logits.size(0), K = logits.size(1);
  SIRS_CHECK(K > 0, ShapeError, "cross_entropy: logits ", shape_str(logits.shape()),
             " have no classes");
  int64_t S = logits.dim() == 4 ? logits.size(2) * logits.size(3) : 1;
  Tensor w;
  if (weight.defined()) {
    check_same_device(op, logits, weight);
    check_same_dtype(op, logits, weight);
    SIRS_CHECK(weight.shape() == Shape{K}, ShapeError, "cross_entropy: weight ",
               shape_str(weight.shape()), " must be [K] = [", K, "] for logits ",
               shape_str(logits.shape()));
    w = view::contiguous(weight).detach();
  }
  Tensor tc = view::contiguous(target).detach();
  Tensor x = view::contiguous(logits).detach();
  DType dt = logits.dtype();
  const Device dev = logits.device();
  Tensor loss = empty(tshape, Options(dt, dev));
  Tensor lse = empty(tshape, Options(dt, dev));
  Tensor out;
  double wsum = 0;  // the mean's denominator (CPU)
  Tensor wsum_dev;  // the same on the device, for the backward (CUDA, mean)

  // CPU: the targets are checked first. CUDA: by the forward kernel, on the
  // device, into a flag read later without a sync; only when it is set are
  // the targets read back for the CPU's message
  // (kernels/cuda/deferred_check.h). A bad target contributes nothing to
  // the loss and its gradient until the error is reported.
  DeferredIndexCheck check;
  if (dev.is_cuda()) {
    check = DeferredIndexCheck(op, tc.data<int64_t>(), B * S, 0, K, tc.storage(),
                               [tshape = target.shape(), K, ignore_index](int64_t e, int64_t value,
                                                                          const std::string& note) {
                                 throw_bad_target(value, e, tshape, K, ignore_index, note);
                               });
    check.has_ignore = true;
    check.ignore = ignore_index;
    if (reduction == Reduction::Mean) wsum_dev = empty({}, Options(DType::F64, dev));
  } else {
    const int64_t* tp = tc.data<int64_t>();
    for (int64_t e = 0; e < B * S; ++e)
      if (tp[e] != ignore_index && (tp[e] < 0 || tp[e] >= K))
        throw_bad_target(tp[e], e, target.shape(), K, ignore_index);
  }
  if (reduction != Reduction::None) out = empty({}, Options(dt, dev));
  dispatch_float(dt, op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* wp = w.defined() ? w.data<T>() : nullptr;
    const int64_t* tp = tc.data<int64_t>();
    if (dev.is_cuda()) {
      SIRS_IF_CUDA(op, cuda_checked_launch(dev.index, std::move(check), [&](int32_t* flag) {
                     cross_entropy_forward_cuda<T>(x.data<T>(), tp, wp, ignore_index, B, K, S,
                                                   loss.data<T>(), lse.data<T>(), flag,
                                                   cuda_stream(dev.index));
                   }));
      if (reduction != Reduction::None)
        SIRS_IF_CUDA(
            op, cross_entropy_reduce_cuda<T>(loss.data<T>(), tp, wp, ignore_index, B * S, K,
                                             reduction == Reduction::Mean, out.data<T>(),
                                             wsum_dev.defined() ? wsum_dev.data<double>() : nullptr,
                                             dev.index, cuda_stream(dev.index)));
      return;
    }
    cross_entropy_forward_cpu<T>(x.data<T>(), tp, wp, ignore_index, B, K, S, loss.data<T>(),
                                 lse.data<T>());
    if (reduction == Reduction::None) return;
    double total = deterministic_sum(loss.data<T>(), B * S);
    if (reduction == Reduction::Mean)
      for (int64_t e = 0; e < B * S; ++e)
        if (tp[e] != ignore_index) wsum += wp ? static_cast<double>(wp[tp[e]]) : 1.0;
    // Mean: 0 / 0 = NaN when every element is ignored, as in PyTorch.
    out.data<T>()[0] = static_cast<T>(reduction == Reduction::Mean ? total / wsum : total);
  });
  if (reduction == Reduction::None) out = loss;

  return record1(op, out, {logits}, [=](const Tensor& dout) {
    const Device gdev = x.device();
    // g: the upstream gradient per element (none) or one shared value with
    // the reduction folded in (sum: dout; mean: dout / wsum).
    Tensor g;
    int64_t g_stride = 0;
    if (reduction == Reduction::None) {
      g = dense(dout, dt);
      g_stride = 1;
    } else if (gdev.is_cuda()) {
      g = dense(dout, dt);  // stays on the device; the mean scales it there
    } else {
      double scale = reduction == Reduction::Mean ? 1.0 / wsum : 1.0;
      g = scalar_tensor(dout.item() * scale, Options(dt));
    }
    Tensor dx = empty(x.shape(), Options(dt, gdev));
    dispatch_float(dt, "cross_entropy backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* wp = w.defined() ? w.data<T>() : nullptr;
      if (gdev.is_cuda()) {
        Tensor gs = g;
        if (reduction == Reduction::Mean) {
          gs = empty({}, Options(dt, gdev));
          SIRS_IF_CUDA("cross_entropy backward",
                       cross_entropy_mean_grad_cuda<T>(g.data<T>(), wsum_dev.data<double>(),
                                                       gs.data<T>(), cuda_stream(gdev.index)));
        }
        SIRS_IF_CUDA("cross_entropy backward",
                     cross_entropy_backward_cuda<T>(
                         x.data<T>(), tc.data<int64_t>(), wp, ignore_index, lse.data<T>(),
                         gs.data<T>(), g_stride, B, K, S, dx.data<T>(), cuda_stream(gdev.index)));
      } else {
        cross_entropy_backward_cpu<T>(x.data<T>(), tc.data<int64_t>(), wp, ignore_index,
                                      lse.data<T>(), g.data<T>(), g_stride, B, K, S, dx.data<T>());
      }
    });
    return std::vector<Tensor>{dx};
  });
}

// ------------------------------------------------------------ cosine_similarity

namespace {

// t expanded to `shape`, with dim d moved last, as a contiguous [M, D] block.
Tensor rows_along(const Tensor& t, const Shape& shape, const Shape& perm) {
  return view::contiguous(view::permute(view::expand(t, shape), perm));
}

}  // namespace

Tensor cosine_similarity(const Tensor& a, const Tensor& b, int64_t dim, double eps) {
  const char* op = "cosine_similarity";
  check_same_device(op, a, b);
  check_float(op, a);
  check_same_dtype(op, a, b);
  SIRS_CHECK(eps >= 0, ValueError, "cosine_similarity: eps = ", eps, " must be >= 0");
  Shape full_shape = broadcast_shapes(a.shape(), b.shape(), op);
  int64_t nd = static_cast<int64_t>(full_shape.size());
  SIRS_CHECK(nd >= 1, ShapeError, "cosine_similarity: inputs ", shape_str(a.shape()), " and ",
             shape_str(b.shape()), " are 0-d; there is no dim to reduce");
  int64_t d = wrap_dim(dim, nd, op);
  Shape perm, out_shape;
  for (int64_t i = 0; i < nd; ++i)
    if (i != d) {
      perm.push_back(i);
      out_shape.push_back(full_shape[i]);
    }
  perm.push_back(d);
  int64_t D = full_shape[d], M = shape_numel(out_shape);
  Tensor ar = rows_along(a, full_shape, perm), br = rows_along(b, full_shape, perm);
  const Device dev = a.device();
  Tensor out = empty(out_shape, Options(a.dtype(), dev));
  dispatch_float(a.dtype(), op, [&](auto tag) {
    using T = typename decltype(tag)::type;
    if (dev.is_cuda())
      SIRS_IF_CUDA(op, cosine_similarity_forward_cuda<T>(ar.data<T>(), br.data<T>(), M, D, eps,
                                                         out.data<T>(), cuda_stream(dev.index)));
    else
      cosine_similarity_forward_cpu<T>(ar.data<T>(), br.data<T>(), M, D, eps, out.data<T>());
  });
  Tensor sa = a.detach(), sb = b.detach();
  return record1(op, out, {a, b}, [=](const Tensor& dout) {
    DType dt = sa.dtype();
    const Device gdev = sa.device();
    Tensor ar2 = rows_along(sa, full_shape, perm), br2 = rows_along(sb, full_shape, perm);
    Tensor g = dense(dout, dt);
    Shape rows_shape = out_shape;
    rows_shape.push_back(D);
    Tensor da = empty(rows_shape, Options(dt, gdev)), db = empty(rows_shape, Options(dt, gdev));
    dispatch_float(dt, "cosine_similarity backward", [&](auto tag) {
      using T = typename decltype(tag)::type;
      if (gdev.is_cuda())
        SIRS_IF_CUDA("cosine_similarity backward",
                     cosine_similarity_backward_cuda<T>(ar2.data<T>(), br2.data<T>(), g.data<T>(),
                                                        M, D, eps, da.data<T>(), db.data<T>(),
                                                        cuda_stream(gdev.index)));
      else
        cosine_similarity_backward_cpu<T>(ar2.data<T>(), br2.data<T>(), g.data<T>(), M, D, eps,
                                          da.data<T>(), db.data<T>());
    });
    // Undo the permutation, then sum over the dims each input was broadcast in.
    Shape inv(perm.size());
    for (size_t i = 0; i < perm.size(); ++i) inv[perm[i]] = static_cast<int64_t>(i);
    Tensor ga = view::contiguous(sum_to(view::permute(da, inv), sa.shape()));
    Tensor gb = view::contiguous(sum_to(view::permute(db, inv), sb.shape()));
    return std::vector<Tensor>{ga, gb};
  });
}

}  // namespace sirs
