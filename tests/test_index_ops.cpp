// cat, stack, index_select, gather: values (hand-computed or PyTorch 1.13,
// expression next to the literal), float64 gradient checks with repeated
// indices, and error messages.
#include <gtest/gtest.h>

#include <string>

#include "autograd/gradcheck.h"
#include "autograd/index_ops.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

}  // namespace

// ------------------------------------------------------------ cat / stack

TEST(IndexOpsCat, Values) {
  Tensor a = f64({1, 2}, {2, 1}), b = f64({3, 4, 5, 6}, {2, 2});
  Tensor c = cat({a, b}, 1);
  EXPECT_EQ(c.shape(), (Shape{2, 3}));
  EXPECT_EQ(c.to_vector(), (std::vector<double>{1, 3, 4, 2, 5, 6}));
  EXPECT_EQ(cat({a, b}, -1).to_vector(), c.to_vector());
  Tensor d = cat({b, b.transpose(0, 1)}, 0);  // a non-contiguous input
  EXPECT_EQ(d.to_vector(), (std::vector<double>{3, 4, 5, 6, 3, 5, 4, 6}));
  // Integer tensors concatenate too.
  Tensor t = cat({i64({1, 2}, {2}), i64({3}, {1})}, 0);
  EXPECT_EQ(t.dtype(), DType::I64);
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 2, 3}));
}

TEST(IndexOpsCat, GradcheckThreeTensorsMiddleDim) {
  Tensor a = leaf({2, 1, 3}, 1), b = leaf({2, 2, 3}, 2), c = leaf({2, 3, 3}, 3);
  EXPECT_EQ(cat({a, b, c}, 1).shape(), (Shape{2, 6, 3}));
  expect_gradcheck([](const std::vector<Tensor>& in) { return cat(in, 1); }, {a, b, c});
  // An input that needs no gradient among ones that do.
  Tensor k = f64({1, 2, 3, 4, 5, 6}, {2, 1, 3});
  expect_gradcheck([&](const std::vector<Tensor>& in) { return cat({in[0], k, in[1]}, -2); },
                   {a, c});
}

TEST(IndexOpsCat, Errors) {
  expect_error<ShapeError>([] { cat({zeros({2, 3}), zeros({2, 4}), zeros({3, 3})}, 0); },
                           {"cat", "tensor 1", "[2, 4]", "[2, 3]"});
  expect_error<ShapeError>([] { cat({zeros({2, 3}), zeros({2, 3}), zeros({2, 3, 1})}, 1); },
                           {"cat", "tensor 2", "[2, 3, 1]", "[2, 3]"});
  expect_error<DTypeError>([] { cat({zeros({2}), zeros({2}, DType::F64)}, 0); }, {"cat"});
  expect_error<IndexError>([] { cat({zeros({2}), zeros({2})}, 1); }, {"cat", "dim 1"});
  expect_error<ValueError>([] { cat({}, 0); }, {"cat"});
}

TEST(IndexOpsStack, ValuesGradcheckErrors) {
  Tensor a = f64({1, 2, 3}, {3}), b = f64({4, 5, 6}, {3});
  Tensor s0 = stack({a, b}, 0), s1 = stack({a, b}, 1), sm = stack({a, b}, -1);
  EXPECT_EQ(s0.shape(), (Shape{2, 3}));
  EXPECT_EQ(s0.to_vector(), (std::vector<double>{1, 2, 3, 4, 5, 6}));
  EXPECT_EQ(s1.shape(), (Shape{3, 2}));
  EXPECT_EQ(s1.to_vector(), (std::vector<double>{1, 4, 2, 5, 3, 6}));
  EXPECT_EQ(sm.to_vector(), s1.to_vector());
  Tensor x = leaf({2, 3}, 4), y = leaf({2, 3}, 5), z = leaf({2, 3}, 6);
  expect_gradcheck([](const std::vector<Tensor>& in) { return stack(in, 1); }, {x, y, z});
  expect_error<ShapeError>([] { stack({zeros({2, 3}), zeros({3, 2})}, 0); },
                           {"stack", "tensor 1", "[3, 2]", "[2, 3]"});
  expect_error<IndexError>([] { stack({zeros({2}), zeros({2})}, 3); }, {"stack"});
}

// ------------------------------------------------------------ index_select

TEST(IndexOpsIndexSelect, ValuesWithRepeats) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor r = index_select(x, 1, i64({2, 0, 2}, {3}));
  EXPECT_EQ(r.shape(), (Shape{2, 3}));
  EXPECT_EQ(r.to_vector(), (std::vector<double>{3, 1, 3, 6, 4, 6}));
  Tensor r0 = index_select(x, 0, i64({1, 1}, {2}));
  EXPECT_EQ(r0.to_vector(), (std::vector<double>{4, 5, 6, 4, 5, 6}));
  EXPECT_EQ(index_select(x, -2, i64({}, {0})).shape(), (Shape{0, 3}));
  // int64 inputs (e.g. caption lengths) are selected too.
  EXPECT_EQ(index_select(i64({7, 8, 9}, {3}), 0, i64({2, 0}, {2})).to_vector(),
            (std::vector<double>{9, 7}));
  // Backward adds the duplicates: column 2 picked twice gets 2x the gradient.
  Tensor xl = x.clone().detach().set_requires_grad();
  index_select(xl, 1, i64({2, 0, 2}, {3})).backward(f64({1, 10, 100, 2, 20, 200}, {2, 3}));
  EXPECT_EQ(xl.grad().to_vector(), (std::vector<double>{10, 0, 101, 20, 0, 202}));
}

TEST(IndexOpsIndexSelect, Gradcheck) {
  Tensor x = leaf({3, 4, 5}, 7);
  Tensor idx = i64({3, 0, 3, 3, 1}, {5});
  for (int64_t d : {0, 1, 2}) {
    Tensor id = d == 0 ? i64({2, 0, 2}, {3}) : idx;
    expect_gradcheck([&](const std::vector<Tensor>& in) { return index_select(in[0], d, id); },
                     {x});
  }
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) { return index_select(in[0].transpose(0, 2), 1, idx); },
      {x});
}

TEST(IndexOpsIndexSelect, Errors) {
  Tensor x = zeros({2, 3});
  expect_error<IndexError>([&] { index_select(x, 1, i64({0, 3}, {2})); },
                           {"index_select", "index 3", "size 3"});
  expect_error<IndexError>([&] { index_select(x, 0, i64({-1}, {1})); }, {"index -1"});
  expect_error<DTypeError>([&] { index_select(x, 0, zeros({1})); }, {"index_select", "int64"});
  expect_error<ShapeError>([&] { index_select(x, 0, i64({0, 1}, {1, 2})); },
                           {"index_select", "[1, 2]"});
  expect_error<IndexError>([&] { index_select(x, 2, i64({0}, {1})); }, {"index_select"});
}

// ------------------------------------------------------------ gather

TEST(IndexOpsGather, MatchesTorch) {
  Tensor x = f64({1, 2, 3, 4, 5, 6}, {2, 3});
  // torch.gather(x, 1, [[2, 0, 2], [1, 1, 0]]) = [3, 1, 3, 5, 5, 4]
  EXPECT_EQ(gather(x, 1, i64({2, 0, 2, 1, 1, 0}, {2, 3})).to_vector(),
            (std::vector<double>{3, 1, 3, 5, 5, 4}));
  // torch.gather(x, 0, [[1, 0, 1]]) = [4, 2, 6]
  EXPECT_EQ(gather(x, 0, i64({1, 0, 1}, {1, 3})).to_vector(), (std::vector<double>{4, 2, 6}));
  // An index smaller than x outside dim: only x[:1, :] is read.
  EXPECT_EQ(gather(x, 1, i64({2, 2, 1, 0}, {1, 4})).to_vector(),
            (std::vector<double>{3, 3, 2, 1}));
  // x.grad after torch.gather(x, 1, [[2, 2], [0, 0]]).sum().backward() = [0, 0, 2, 2, 0, 0]
  Tensor xl = x.clone().detach().set_requires_grad();
  gather(xl, 1, i64({2, 2, 0, 0}, {2, 2})).backward(ones({2, 2}, DType::F64));
  EXPECT_EQ(xl.grad().to_vector(), (std::vector<double>{0, 0, 2, 2, 0, 0}));
}

TEST(IndexOpsGather, GradcheckRepeatedIndices) {
  Tensor x = leaf({3, 4, 2}, 8);
  Tensor i1 = i64({0, 3, 3, 1, 0, 0, 2, 2, 3, 1, 1, 1}, {3, 2, 2});  // dim 1, repeats
  expect_gradcheck([&](const std::vector<Tensor>& in) { return gather(in[0], 1, i1); }, {x});
  Tensor i0 = i64({2, 2, 0, 2, 1, 1}, {1, 3, 2});  // dim 0, smaller in dim 1
  expect_gradcheck([&](const std::vector<Tensor>& in) { return gather(in[0], 0, i0); }, {x});
  Tensor i2 = i64({1, 1, 1, 0, 0, 0, 1, 0}, {2, 2, 2});  // last dim, smaller in dims 0 and 1
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) { return gather(in[0].transpose(0, 1), -1, i2); }, {x});
}

TEST(IndexOpsGather, Errors) {
  Tensor x = zeros({2, 3});
  expect_error<IndexError>([&] { gather(x, 1, i64({0, 3}, {1, 2})); },
                           {"gather", "index 3", "size 3"});
  expect_error<ShapeError>([&] { gather(x, 1, i64({0, 1}, {2})); }, {"gather", "[2]", "[2, 3]"});
  expect_error<ShapeError>([&] { gather(x, 1, i64({0, 0, 0}, {3, 1})); },
                           {"gather", "[3, 1]", "dim 0"});
  expect_error<DTypeError>([&] { gather(x, 0, zeros({1, 1})); }, {"gather", "int64"});
}
