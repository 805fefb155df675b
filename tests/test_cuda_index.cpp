// CPU vs CUDA parity of the index family (kernels/cuda/index.cu): cat,
// stack, index_select, gather, forward and backward, plus permute +
// contiguous (the runtime's strided copy) and the out-of-range error.
//
// Tolerance 0 throughout: these ops only copy, and the CUDA backwards add
// duplicate indices' gradients in the CPU's order (one thread per column,
// rows in increasing order), so every result must be bit-identical to the
// CPU. Skips visibly without a GPU.
//
// Run: make test GTEST_FILTER='CudaIndex*'
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "autograd/index_ops.h"
#include "autograd/ops.h"
#include "tensor/tensor.h"
#include "tests/cuda_util.h"
#include "tests/test_util.h"

namespace sirs {
namespace {

using test::expect_close_to;
using test::expect_parity;
using test::randn32;

Tensor rand_index(int64_t high, const Shape& shape, uint64_t seed) {
  Generator g(seed);
  return randint(0, high, shape, DType::I64, &g);
}

// The message of the IndexError fn throws ("" when it throws none).
template <class F>
std::string index_error(F&& fn) {
  try {
    fn();
  } catch (const IndexError& e) {
    return e.what();
  }
  return "";
}

// ------------------------------------------------------------ cat, stack

// Three inputs along each dim of a 3-D tensor, sizes 1, 37 and 6 along it;
// the second arrives transposed and the third as a stepped slice, so the
// kernel sees non-contiguous inputs and the backward flows through views.
TEST(CudaIndex, CatEachDimOf3dNonContiguousInputs) {
  SIRS_REQUIRE_CUDA();
  const Shape base = {3, 5, 301};  // 37 * 301 * 3 elements: many 4096-element blocks
  for (int64_t d = 0; d < 3; ++d) {
    Shape s0 = base, s1 = base, s2 = base;
    s0[d] = 1;
    s1[d] = 37;
    s2[d] = 6;
    Shape s1t = {s1[2], s1[1], s1[0]};  // given as s1 transposed (0 <-> 2)
    Shape s2w = s2;
    s2w[2] = 2 * s2[2];  // given twice as wide in the last dim; fn takes every other column
    expect_parity(
        "cat dim " + std::to_string(d),
        [d](const std::vector<Tensor>& in) {
          return cat({in[0], in[1].transpose(0, 2), in[2].slice(2, 0, in[2].size(2), 2)}, d);
        },
        {randn32(s0, 10 + d), randn32(s1t, 20 + d), randn32(s2w, 30 + d)}, 0, 0);
  }
}

// More inputs than one launch's table holds (96), empty ones among them, and
// negative dims.
TEST(CudaIndex, CatManyInputsAndEmptyOnes) {
  SIRS_REQUIRE_CUDA();
  std::vector<Tensor> ins;
  for (int k = 0; k < 203; ++k)
    ins.push_back(randn32({2, k % 4, 3}, 100 + static_cast<uint64_t>(k), k % 4 != 0));
  expect_parity("cat 203 inputs", [](const std::vector<Tensor>& in) { return cat(in, -2); }, ins,
                0, 0);
}

// Bits of every width move unchanged: int64 (8 bytes), float64, bf16 (2),
// uint8 (1).
TEST(CudaIndex, CatOtherDtypes) {
  SIRS_REQUIRE_CUDA();
  Tensor a = mul(randn32({4, 3}, 1, false), 50.0), b = mul(randn32({4, 7}, 2, false), 50.0);
  for (DType t : {DType::I64, DType::F64, DType::BF16, DType::U8}) {
    Tensor ac = a.to(t), bc = b.to(t);
    Tensor got = cat({ac.to(Device::cuda()), bc.to(Device::cuda())}, 1);
    ASSERT_TRUE(got.device().is_cuda());
    expect_close_to(got, cat({ac, bc}, 1), 0, 0, std::string("cat ") + dtype_name(t));
  }
  // float64 with a backward.
  Tensor x = a.to(DType::F64).set_requires_grad(), y = b.to(DType::F64).set_requires_grad();
  expect_parity("cat f64", [](const std::vector<Tensor>& in) { return cat(in, 1); }, {x, y}, 0, 0);
}

TEST(CudaIndex, Stack) {
  SIRS_REQUIRE_CUDA();
  for (int64_t d : {0, 1, 3, -1}) {
    expect_parity(
        "stack dim " + std::to_string(d),
        [d](const std::vector<Tensor>& in) { return stack(in, d); },
        {randn32({3, 5, 7}, 1), randn32({3, 5, 7}, 2), randn32({3, 5, 7}, 3)}, 0, 0);
  }
  // The GRU's pattern: many per-step states stacked, then rows picked.
  std::vector<Tensor> hs;
  for (int t = 0; t < 129; ++t) hs.push_back(randn32({2, 33}, 500 + static_cast<uint64_t>(t)));
  expect_parity("stack 129 states", [](const std::vector<Tensor>& in) { return stack(in, 0); }, hs,
                0, 0);
}

// ------------------------------------------------------------ index_select

TEST(CudaIndex, IndexSelectRepeatedIndicesEachDim) {
  SIRS_REQUIRE_CUDA();
  Tensor idx = from_vector({6, 0, 6, 6, 2, 0, 4}, {7}, DType::I64);
  for (int64_t d = 0; d < 3; ++d) {
    Shape s = {5, 5, 5};
    s[d] = 7;
    expect_parity(
        "index_select dim " + std::to_string(d),
        [d](const std::vector<Tensor>& in) { return index_select(in[0], d, in[1]); },
        {randn32(s, 40 + d), idx}, 0, 0);
  }
  // A non-contiguous input (transposed inside fn) and the last dim as -1.
  expect_parity(
      "index_select transposed input",
      [](const std::vector<Tensor>& in) { return index_select(in[0].transpose(0, 1), -1, in[1]); },
      {randn32({7, 3}, 50), idx}, 0, 0);
}

// Thousands of indices into a table, most of them repeated; 0-d index.
TEST(CudaIndex, IndexSelectLargeWithManyRepeats) {
  SIRS_REQUIRE_CUDA();
  expect_parity(
      "index_select 3001 of 1000 rows",
      [](const std::vector<Tensor>& in) { return index_select(in[0], 0, in[1]); },
      {randn32({1000, 37}, 60), rand_index(1000, {3001}, 61)}, 0, 0);
  expect_parity(
      "index_select 0-d index",
      [](const std::vector<Tensor>& in) { return index_select(in[0], 1, in[1]); },
      {randn32({3, 4}, 62), scalar_tensor(2, DType::I64)}, 0, 0);
}

// The same backward twice on the GPU gives the same bits.
TEST(CudaIndex, IndexSelectBackwardIsDeterministic) {
  SIRS_REQUIRE_CUDA();
  Tensor idx = rand_index(50, {4000}, 70).to(Device::cuda());
  Tensor dout = randn32({4000, 129}, 71, false).to(Device::cuda());
  std::vector<std::vector<double>> runs;
  for (int r = 0; r < 2; ++r) {
    Tensor x = zeros({50, 129}, Options(DType::F32, Device::cuda())).set_requires_grad();
    index_select(x, 0, idx).backward(dout);
    runs.push_back(x.grad().to_vector());
  }
  EXPECT_EQ(runs[0], runs[1]);
}

// ------------------------------------------------------------ gather

TEST(CudaIndex, GatherDim0AndLastWithRepeats) {
  SIRS_REQUIRE_CUDA();
  // dim 0: 9 picks from 6 rows (repeats certain); the index is smaller than
  // x in dims 1 and 2, so the backward pads the gradient with zeros.
  expect_parity(
      "gather dim 0",
      [](const std::vector<Tensor>& in) { return gather(in[0], 0, in[1]); },
      {randn32({6, 5, 4}, 80), rand_index(6, {9, 3, 2}, 81)}, 0, 0);
  // Last dim: 11 picks from 4 per row.
  expect_parity(
      "gather dim -1",
      [](const std::vector<Tensor>& in) { return gather(in[0], -1, in[1]); },
      {randn32({6, 5, 4}, 82), rand_index(4, {6, 5, 11}, 83)}, 0, 0);
  // Middle dim, a non-contiguous input.
  expect_parity(
      "gather dim 1 permuted input",
      [](const std::vector<Tensor>& in) { return gather(in[0].permute({2, 0, 1}), 1, in[1]); },
      {randn32({6, 4, 5}, 84), rand_index(6, {5, 7, 4}, 85)}, 0, 0);
  // The contrastive loss's diagonal: [B, B] scores, [B, 1] index.
  expect_parity(
      "gather diagonal",
      [](const std::vector<Tensor>& in) { return gather(in[0], 1, in[1]); },
      {randn32({37, 37}, 86), arange(37, DType::I64).view({37, 1})}, 0, 0);
  // Many repeats along a long last dim of a 1-D tensor (one column, L serial adds).
  expect_parity(
      "gather 1-D",
      [](const std::vector<Tensor>& in) { return gather(in[0], 0, in[1]); },
      {randn32({257}, 87), rand_index(257, {5000}, 88)}, 0, 0);
}

TEST(CudaIndex, Int64Inputs) {
  SIRS_REQUIRE_CUDA();
  Tensor x = rand_index(1000, {6, 5}, 90);
  Tensor i1 = rand_index(6, {4}, 91), i2 = rand_index(5, {6, 8}, 92);
  Tensor xd = x.to(Device::cuda());
  expect_close_to(index_select(xd, 0, i1.to(Device::cuda())), index_select(x, 0, i1), 0, 0,
                  "index_select int64");
  expect_close_to(gather(xd, 1, i2.to(Device::cuda())), gather(x, 1, i2), 0, 0, "gather int64");
}

// ------------------------------------------------------------ errors

// Out-of-range indices raise the CPU's IndexError word for word, naming the
// first bad element, plus where the check ran. The check runs on the device
// without a sync, so the error comes at the call (SIRS_CUDA_SYNC_CHECKS=1)
// or at the next synchronisation, here the copy of the output to the CPU
// (kernels/cuda/deferred_check.h).
TEST(CudaIndex, OutOfRangeIsTheCpuError) {
  SIRS_REQUIRE_CUDA();
  Tensor x = randn32({4, 7}, 95, false), xd = x.to(Device::cuda());
  auto expect_cpu_message = [](const std::string& got, const std::string& want) {
    EXPECT_EQ(got.rfind(want + " (checked on cuda:0", 0), 0u) << got << "\nwant: " << want;
  };
  for (const std::vector<double>& bad :
       {std::vector<double>{0, 7, 1, -1}, std::vector<double>{3, 2, -1, 9, 8}}) {
    Tensor i = from_vector(bad, {static_cast<int64_t>(bad.size())}, DType::I64);
    Tensor id = i.to(Device::cuda());
    std::string want = index_error([&] { index_select(x, 1, i); });
    ASSERT_NE(want, "");
    expect_cpu_message(index_error([&] { index_select(xd, 1, id).to(Device::cpu()); }), want);
    const int64_t n = static_cast<int64_t>(bad.size());
    Tensor gi = i.view({1, n}), gid = id.view({1, n});
    std::string want_g = index_error([&] { gather(x, 1, gi); });
    ASSERT_NE(want_g, "");
    expect_cpu_message(index_error([&] { gather(xd, 1, gid).to(Device::cpu()); }), want_g);
  }
  // An index on the other device is refused.
  EXPECT_ANY_THROW(index_select(xd, 0, from_vector({0}, {1}, DType::I64)));
}

// Forward and backward run before a bad index is reported: they must stay
// in bounds (zeros for a bad index forward, nothing added backward), the
// error comes at the synchronisation, and the valid indices' values and
// gradients are the CPU's.
TEST(CudaIndex, PendingBadIndexForwardBackwardStayInBounds) {
  SIRS_REQUIRE_CUDA();
  const bool saved = cuda_sync_checks();
  set_cuda_sync_checks(false);
  ASSERT_NO_THROW(cuda_synchronize(0));
  Tensor x = randn32({4, 3}, 96, false);
  std::vector<double> xv = x.to_vector();
  Tensor xd = x.to(Device::cuda()).set_requires_grad();
  // index_select along dim 0: rows 0, bad 9, 2, bad -1, 2.
  const std::vector<double> iv = {0, 9, 2, -1, 2};
  Tensor dout = from_vector({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15}, {5, 3},
                            DType::F32);
  Tensor y;
  std::string msg = index_error([&] {
    y = index_select(xd, 0, test::i64(iv, {5}).to(Device::cuda()));
    y.backward(dout.to(Device::cuda()));
    cuda_synchronize(0);
  });
  EXPECT_NE(msg.find("index_select: index 9 (element 1 of the index)"), std::string::npos) << msg;
  ASSERT_TRUE(y.defined());
  ASSERT_TRUE(xd.grad().defined());
  std::vector<double> yv = y.to_vector(), dv = dout.to_vector(), gv = xd.grad().to_vector();
  std::vector<double> want_y(15, 0.0), want_g(12, 0.0);
  for (size_t l = 0; l < iv.size(); ++l) {
    if (iv[l] < 0 || iv[l] >= 4) continue;
    size_t r = static_cast<size_t>(iv[l]);
    for (size_t i = 0; i < 3; ++i) {
      want_y[l * 3 + i] = xv[r * 3 + i];
      want_g[r * 3 + i] += dv[l * 3 + i];
    }
  }
  EXPECT_EQ(yv, want_y);
  EXPECT_EQ(gv, want_g);

  // gather along dim 1 of [2, 3]: bad 5 at element 1, bad -4 at element 2.
  Tensor x2 = randn32({2, 3}, 97, false);
  std::vector<double> x2v = x2.to_vector();
  Tensor x2d = x2.to(Device::cuda()).set_requires_grad();
  const std::vector<double> gvv = {2, 5, -4, 1};  // [[2, 5], [-4, 1]]
  Tensor d2 = from_vector({1, 2, 3, 4}, {2, 2}, DType::F32);
  Tensor y2;
  msg = index_error([&] {
    y2 = gather(x2d, 1, test::i64(gvv, {2, 2}).to(Device::cuda()));
    y2.backward(d2.to(Device::cuda()));
    cuda_synchronize(0);
  });
  EXPECT_NE(msg.find("gather: index 5 (element 1 of the index)"), std::string::npos) << msg;
  ASSERT_TRUE(x2d.grad().defined());
  EXPECT_EQ(y2.to_vector(), (std::vector<double>{x2v[2], 0.0, 0.0, x2v[3 + 1]}));
  EXPECT_EQ(x2d.grad().to_vector(), (std::vector<double>{0, 0, 1, 0, 4, 0}));
  EXPECT_NO_THROW(cuda_synchronize(0));
  set_cuda_sync_checks(saved);
}

// The check kernel only sets a flag; the host finds the first bad index
// itself. In 2^20 indices: the last one alone, the first alone, and both
// (the first wins), for index_select and gather, with the CPU's message.
TEST(CudaIndex, FirstBadIndexOfALargeIndex) {
  SIRS_REQUIRE_CUDA();
  const bool saved = cuda_sync_checks();
  set_cuda_sync_checks(false);
  ASSERT_NO_THROW(cuda_synchronize(0));
  const int64_t n = int64_t{1} << 20, N = 5;
  Tensor x = randn32({N, 3}, 98, false), xd = x.to(Device::cuda());
  Tensor x1 = randn32({1, N}, 100, false);
  Tensor base = rand_index(N, {n}, 99);
  struct Bad {
    int64_t pos, value;
  };
  const std::vector<std::vector<Bad>> cases = {{{n - 1, N}}, {{0, -1}}, {{0, 17}, {n - 1, -2}}};
  for (const std::vector<Bad>& c : cases) {
    Tensor i = base.clone();
    for (const Bad& b : c) i.data<int64_t>()[b.pos] = b.value;
    const std::string where = str_cat("index ", c.front().value, " (element ", c.front().pos,
                                      " of the index)");
    Tensor id = i.to(Device::cuda());
    std::string want = index_error([&] { index_select(x, 0, i); });
    ASSERT_NE(want.find("index_select: " + where), std::string::npos) << want;
    std::string got = index_error([&] {
      index_select(xd, 0, id);
      cuda_synchronize(0);
    });
    EXPECT_EQ(got.rfind(want + " (checked on cuda:0", 0), 0u) << got << "\nwant: " << want;
    // gather along dim 1 of [1, 5]: the same n indices as [1, n].
    Tensor gi = i.view({1, n}), gid = id.view({1, n});
    std::string want_g = index_error([&] { gather(x1, 1, gi); });
    ASSERT_NE(want_g.find("gather: " + where), std::string::npos) << want_g;
    std::string got_g = index_error([&] {
      gather(x1.to(Device::cuda()), 1, gid);
      cuda_synchronize(0);
    });
    EXPECT_EQ(got_g.rfind(want_g + " (checked on cuda:0", 0), 0u)
        << got_g << "\nwant: " << want_g;
  }
  EXPECT_NO_THROW(cuda_synchronize(0));
  set_cuda_sync_checks(saved);
}

// ------------------------------------------------------------ permute

// permute + contiguous is the runtime's strided copy on the device; its
// backward (the inverse permutation, again a strided copy) must agree too.
TEST(CudaIndex, PermuteContiguousBackward) {
  SIRS_REQUIRE_CUDA();
  expect_parity(
      "permute contiguous",
      [](const std::vector<Tensor>& in) { return in[0].permute({2, 0, 1}).contiguous(); },
      {randn32({3, 37, 5}, 97)}, 0, 0);
  expect_parity(
      "permute contiguous 4-d",
      [](const std::vector<Tensor>& in) { return in[0].permute({0, 3, 1, 2}).contiguous(); },
      {randn32({2, 7, 9, 11}, 98)}, 0, 0);
}

}  // namespace
}  // namespace sirs
