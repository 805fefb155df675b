// Raw optimizer arithmetic: Adam and SGD updates, the sum of squares that
// gradient clipping needs, and an in-place scale. Flat contiguous arrays of
// n elements; every update overwrites its state arrays in place.
//
// Adam (torch.optim.Adam, amsgrad=False), t = step >= 1 counted after this
// update, g = grad + weight_decay * param (L2, added to the gradient):
//   m  <- beta1 * m + (1 - beta1) * g
//   v  <- beta2 * v + (1 - beta2) * g * g
//   param <- param - (lr / (1 - beta1^t)) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
// eps is added after the square root of the bias-corrected second moment,
// exactly as PyTorch does (not to v, not before the correction).
//
// SGD (torch.optim.SGD), g = grad + weight_decay * param:
//   momentum == 0:  param <- param - lr * g
//   otherwise:      buf <- first ? g : momentum * buf + (1 - dampening) * g
//                   d = nesterov ? g + momentum * buf : buf
//                   param <- param - lr * d
#pragma once

#include <cstdint>

namespace sirs {

template <class T>
void adam_step_cpu(T* param,             // [n] updated in place
                   const T* grad,        // [n]
                   T* exp_avg,           // [n] m, updated in place
                   T* exp_avg_sq,        // [n] v, updated in place
                   int64_t n, double lr, double beta1, double beta2, double eps,
                   double weight_decay, int64_t step);

// momentum_buf may be null when momentum == 0; first: the buffer holds
// nothing yet (it is overwritten with g, as PyTorch's first step does).
template <class T>
void sgd_step_cpu(T* param,              // [n] updated in place
                  const T* grad,         // [n]
                  T* momentum_buf,       // [n] updated in place, or null
                  int64_t n, double lr, double momentum, double dampening, double weight_decay,
                  bool nesterov, bool first);

// sum_i x[i]^2, accumulated in double.
template <class T>
double sum_squares_cpu(const T* x,       // [n]
                       int64_t n);

// x[i] <- alpha * x[i]
template <class T>
void scale_cpu(T* x,                     // [n]
               int64_t n, double alpha);

}  // namespace sirs
