// CUDA launchers for kernels/optim.h, multi-tensor: one launch updates (or
// reduces, or scales) every tensor of a table, whatever their sizes. Same
// formulas, scalar rounding and in-place contract as the CPU functions
// (adam_step_cpu, sgd_step_cpu, sum_squares_cpu, scale_cpu). Tables are host
// arrays of device pointers; the launchers copy what the kernels need to the
// device themselves. Every tensor of a table lives on `device`, whose
// stream is `stream`. Kernels: kernels/cuda/optim.cu.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>

namespace sirs {

template <class T>
struct AdamTensorCuda {
  T* param;          // [n] updated in place
  const T* grad;     // [n]
  T* exp_avg;        // [n] m, updated in place
  T* exp_avg_sq;     // [n] v, updated in place
  int64_t n;
  int64_t step;      // this tensor's t after the update, >= 1 (bias corrections)
};

// adam_step_cpu on every tensor of the table in one launch.
template <class T>
void adam_step_cuda(const AdamTensorCuda<T>* tensors,  // [count] host array
                    int count, double lr, double beta1, double beta2, double eps,
                    double weight_decay, int device, cudaStream_t stream);

template <class T>
struct SgdTensorCuda {
  T* param;          // [n] updated in place
  const T* grad;     // [n]
  T* momentum_buf;   // [n] updated in place; null when momentum == 0
  int64_t n;
  bool first;        // the buffer holds nothing yet (overwritten with g)
};

// sgd_step_cpu on every tensor of the table in one launch.
template <class T>
void sgd_step_cuda(const SgdTensorCuda<T>* tensors,    // [count] host array
                   int count, double lr, double momentum, double dampening,
                   double weight_decay, bool nesterov, int device, cudaStream_t stream);

// *total = beta * *total + sum over tensors k, elements i of xs[k][i]^2,
// accumulated in double (beta = 0 overwrites without reading). Two
// launches: per-block partial sums, then one block adds them in a fixed
// order (deterministic). Nothing is read back to the host.
template <class T>
void sum_squares_cuda(const T* const* xs,    // [count] host array, xs[k]: [ns[k]]
                      const int64_t* ns,     // [count] host array
                      int count,
                      double* total,         // [1] on the device
                      double beta, int device, cudaStream_t stream);

// xs[k][i] <- alpha * xs[k][i] for every tensor, one launch.
template <class T>
void scale_cuda(T* const* xs,                // [count] host array, xs[k]: [ns[k]]
                const int64_t* ns,           // [count] host array
                int count, double alpha, int device, cudaStream_t stream);

}  // namespace sirs
