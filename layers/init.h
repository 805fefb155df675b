// Parameter initialisers, in place and graph-free, with PyTorch's formulas
// (torch.nn.init). Each draws from `gen`, or the default generator when it
// is null, and writes into any floating tensor (any strides, any device).
//
//   fan_in = shape[1] * receptive field, fan_out = shape[0] * receptive field
//   (receptive field = product of shape[2:], 1 for a matrix)
//   gain(linear) = 1, gain(relu) = sqrt(2), gain(leaky_relu, a) = sqrt(2 / (1 + a^2)),
//   gain(tanh) = 5/3, gain(sigmoid) = 1
//   kaiming_normal_:  N(0, std^2), std = gain / sqrt(fan)
//   kaiming_uniform_: U(-b, b),    b = gain * sqrt(3 / fan)
//
// torchvision ResNet convolutions: kaiming_normal_(w, FanMode::FanOut, Nonlinearity::ReLU)
// (std = sqrt(2 / (out_channels * kH * kW))). nn.Linear / nn.Conv2d default:
// linear_default_init_(weight, bias).
#pragma once

#include "tensor/tensor.h"

namespace sirs {

enum class FanMode { FanIn, FanOut };
enum class Nonlinearity { Linear, ReLU, LeakyReLU, Tanh, Sigmoid };

double calculate_gain(Nonlinearity nl, double negative_slope = 0.01);
// {fan_in, fan_out}; ValueError for fewer than 2 dims.
std::pair<int64_t, int64_t> fan_in_and_fan_out(const Shape& shape);

void uniform_(const Tensor& w, double lo, double hi, Generator* gen = nullptr);
void normal_(const Tensor& w, double mean, double std, Generator* gen = nullptr);
void constant_(const Tensor& w, double value);
void zeros_(const Tensor& w);
void ones_(const Tensor& w);

// a: negative slope of the leaky ReLU (used only with LeakyReLU). Both take
// the arguments in the same order (PyTorch's a comes first there).
void kaiming_normal_(const Tensor& w, FanMode mode = FanMode::FanIn,
                     Nonlinearity nl = Nonlinearity::LeakyReLU, double a = 0,
                     Generator* gen = nullptr);
void kaiming_uniform_(const Tensor& w, FanMode mode = FanMode::FanIn,
                      Nonlinearity nl = Nonlinearity::LeakyReLU, double a = 0,
                      Generator* gen = nullptr);

// PyTorch's nn.Linear / nn.Conv2d reset_parameters(): weight
// kaiming_uniform_(a = sqrt(5)), i.e. U(-1/sqrt(fan_in), 1/sqrt(fan_in)), then
// bias U(-1/sqrt(fan_in), 1/sqrt(fan_in)). bias may be undefined (no bias).
void linear_default_init_(const Tensor& weight, const Tensor& bias, Generator* gen = nullptr);

}  // namespace sirs
