// CUDA parity of the nn ops (autograd/nn.cpp, kernels/cuda/{loss,embedding,
// dropout}.cu) against the CPU reference: cross_entropy, embedding, dropout,
// cosine_similarity, forward and backward. Every test skips visibly without
// a GPU. Tolerances: 1e-5 for per-element values, 1e-4 for loss
// reductions; exact where the CUDA path promises the CPU's bits (dropout
// masks, embedding gathers and their backward).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "autograd/nn.h"
#include "tensor/tensor.h"
#include "tests/cuda_util.h"
#include "tests/test_util.h"

#ifdef SIRS_WITH_CUDA
#include "kernels/cuda/context.h"
#include "kernels/cuda/deferred_check.h"
#include "kernels/cuda/dropout_cuda.h"
#include "kernels/cuda/embedding_cuda.h"
#include "kernels/dropout.h"
#include "kernels/embedding.h"
#endif

namespace sirs {
namespace {

using test::expect_error;
using test::expect_parity;
using test::randn32;

constexpr double kElem = 1e-5;    // per-element values
constexpr double kReduce = 1e-4;  // sums and means over many elements

// got and want hold the same values, element for element (NaN matches
// NaN); on failure says how many differ and where the first one is,
// without printing millions of elements.
void expect_same_values(const std::vector<double>& got, const std::vector<double>& want,
                        const std::string& what) {
  ASSERT_EQ(got.size(), want.size()) << what;
  size_t bad = 0, first = 0;
  for (size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i]))))
      if (bad++ == 0) first = i;
  if (bad == 0) return;
  char b[160];
  std::snprintf(b, sizeof b, "%zu of %zu elements differ, the first at %zu (got %.9g, want %.9g)",
                bad, got.size(), first, got[first], want[first]);
  ADD_FAILURE() << what << ": " << b;
}

const char* reduction_name(Reduction r) {
  return r == Reduction::None ? "none" : r == Reduction::Sum ? "sum" : "mean";
}

// int64 targets in [0, K) of shape s; every `every`-th element (from
// element 1, when every > 0) set to `ignore`.
Tensor targets(const Shape& s, int64_t K, uint64_t seed, int64_t ignore = -100, int every = 0) {
  Generator g(seed);
  std::vector<double> v = randint(0, K, s, DType::I64, &g).to_vector();
  if (every > 0)
    for (size_t i = 1; i < v.size(); i += static_cast<size_t>(every))
      v[i] = static_cast<double>(ignore);
  return from_vector(v, s, DType::I64);
}

// K positive class weights, not all equal.
Tensor class_weights(int64_t K, DType dt = DType::F32) {
  std::vector<double> v(static_cast<size_t>(K));
  for (int64_t k = 0; k < K; ++k) v[k] = 0.25 + std::fmod(0.37 * static_cast<double>(k), 2.0);
  return from_vector(v, {K}, dt);
}

// cross_entropy parity for logits of shape ls, in all three reductions,
// with and without weights.
void ce_parity(const std::string& what, const Shape& ls, int64_t ignore, int every, uint64_t seed) {
  int64_t K = ls[1];
  Shape ts = ls;
  ts.erase(ts.begin() + 1);
  Tensor logits = randn32(ls, seed);
  Tensor tgt = targets(ts, K, seed + 1, ignore, every);
  Tensor w = class_weights(K);
  for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean}) {
    double tol = r == Reduction::None ? kElem : kReduce;
    std::string name = what + " " + shape_str(ls) + " " + reduction_name(r);
    expect_parity(
        name + " unweighted",
        [&](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], in[1], Tensor(), ignore, r);
        },
        {logits, tgt}, tol);
    expect_parity(
        name + " weighted",
        [&](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], in[1], in[2], ignore, r);
        },
        {logits, tgt, w}, tol);
  }
}

// ------------------------------------------------------------ cross_entropy

TEST(CudaCrossEntropy, ParityRows) {
  SIRS_REQUIRE_CUDA();
  // [B, K]: the warp-per-row kernels. K = 1, 3, 17 (fewer classes than
  // lanes), 1000 (several per lane, not a multiple of 32); batch 1 included.
  for (int64_t K : {1, 3, 17, 1000})
    for (int64_t B : {1, 5, 37}) ce_parity("rows", {B, K}, -100, 4, 100 + K + B);
}

TEST(CudaCrossEntropy, ParityPixels) {
  SIRS_REQUIRE_CUDA();
  // [B, K, H, W]: the per-pixel kernels, odd H and W, batch 1, ignore_index
  // 255; [B, K, 1, 1] (S = 1) takes the warp-per-row kernels as [B, K] does.
  for (int64_t K : {1, 3, 17}) {
    ce_parity("pixels", {1, K, 5, 7}, 255, 3, 200 + K);
    ce_parity("pixels", {2, K, 13, 3}, 255, 5, 210 + K);
    ce_parity("pixels", {3, K, 1, 1}, 255, 2, 220 + K);
  }
}

TEST(CudaCrossEntropy, ParityLargeReduction) {
  SIRS_REQUIRE_CUDA();
  // 2 * 129 * 257 = 66306 pixels: many reduction blocks and a partial last one.
  ce_parity("large", {2, 5, 129, 257}, 255, 7, 300);
  ce_parity("large rows", {20001, 7}, -100, 9, 301);
}

TEST(CudaCrossEntropy, NonContiguousLogitsAndTargets) {
  SIRS_REQUIRE_CUDA();
  // Logits made [B, K, H, W] from a channels-last tensor; targets transposed.
  Tensor nhwc = randn32({2, 9, 11, 4}, 310);
  Tensor tgt = targets({2, 11, 9}, 4, 311, 255, 6);
  Tensor w = class_weights(4);
  expect_parity(
      "cross_entropy permuted logits, transposed targets",
      [](const std::vector<Tensor>& in) {
        return cross_entropy(in[0].permute({0, 3, 1, 2}), in[1].transpose(1, 2), in[2], 255,
                             Reduction::Mean);
      },
      {nhwc, tgt, w}, kReduce);
  Tensor kb = randn32({6, 5}, 312);  // [K, B] viewed as [B, K]
  Tensor t2 = targets({5}, 6, 313);
  expect_parity(
      "cross_entropy transposed [B, K]",
      [](const std::vector<Tensor>& in) {
        return cross_entropy(in[0].transpose(0, 1), in[1], Tensor(), -100, Reduction::None);
      },
      {kb, t2}, kElem);
}

TEST(CudaCrossEntropy, AllIgnoredMeanIsNaNSumIsZeroGradientZero) {
  SIRS_REQUIRE_CUDA();
  for (const Shape& ls : {Shape{4, 3}, Shape{2, 3, 5, 3}}) {
    Shape ts = ls;
    ts.erase(ts.begin() + 1);
    Tensor logits = randn32(ls, 320);
    Tensor tgt = full(ts, 255, DType::I64);
    Tensor lg = logits.detach().to(Device::cuda()).set_requires_grad();
    Tensor m = cross_entropy(lg, tgt.to(Device::cuda()), class_weights(3).to(Device::cuda()), 255);
    EXPECT_TRUE(m.device().is_cuda());
    EXPECT_TRUE(std::isnan(m.item())) << shape_str(ls);
    m.backward();
    std::vector<double> g = lg.grad().to_vector();
    for (double v : g) ASSERT_EQ(v, 0.0) << shape_str(ls);
    EXPECT_EQ(cross_entropy(lg, tgt.to(Device::cuda()), Tensor(), 255, Reduction::Sum).item(), 0.0);
    // And the parity helper agrees (NaN matches NaN).
    expect_parity(
        "cross_entropy all ignored " + shape_str(ls),
        [](const std::vector<Tensor>& in) {
          return cross_entropy(in[0], in[1], Tensor(), 255, Reduction::Mean);
        },
        {logits, tgt}, kReduce);
  }
}

TEST(CudaCrossEntropy, Float64) {
  SIRS_REQUIRE_CUDA();
  Generator g(330);
  Tensor logits = randn({2, 6, 7, 5}, DType::F64, &g).set_requires_grad();
  Tensor tgt = targets({2, 7, 5}, 6, 331, 255, 4);
  Tensor w = class_weights(6, DType::F64);
  for (Reduction r : {Reduction::None, Reduction::Mean})
    expect_parity(
        std::string("cross_entropy f64 ") + reduction_name(r),
        [r](const std::vector<Tensor>& in) { return cross_entropy(in[0], in[1], in[2], 255, r); },
        {logits, tgt, w}, 1e-12);
}

TEST(CudaCrossEntropy, MeanIsDeterministic) {
  SIRS_REQUIRE_CUDA();
  Tensor logits = randn32({3, 7, 65, 67}, 340, false).to(Device::cuda());
  Tensor tgt = targets({3, 65, 67}, 7, 341, 255, 11).to(Device::cuda());
  Tensor w = class_weights(7).to(Device::cuda());
  double first = cross_entropy(logits, tgt, w, 255).item();
  for (int i = 0; i < 3; ++i) EXPECT_EQ(cross_entropy(logits, tgt, w, 255).item(), first);
}

// The targets are checked on the device without a sync: the error comes
// at the call (SIRS_CUDA_SYNC_CHECKS=1) or at the next synchronisation,
// here the read of the loss (kernels/cuda/deferred_check.h).
TEST(CudaCrossEntropy, BadTargetIsAnIndexErrorOnCuda) {
  SIRS_REQUIRE_CUDA();
  Tensor lg = zeros({4, 3}, Options(DType::F32, Device::cuda()));
  expect_error<IndexError>(
      [&] {
        cross_entropy(lg, test::i64({0, 1, 3, 7}, {4}).to(Device::cuda())).item();
      },
      {"cross_entropy", "target value 3", "element 2", "K = 3", "cuda:0"});
  expect_error<IndexError>(
      [&] {
        cross_entropy(lg, test::i64({0, -1, 2, 0}, {4}).to(Device::cuda())).item();
      },
      {"target value -1", "element 1", "K = 3", "cuda:0"});
  Tensor l4 = zeros({1, 3, 3, 5}, Options(DType::F32, Device::cuda()));
  std::vector<double> t(15, 1.0);
  t[13] = 9;
  t[14] = -4;
  expect_error<IndexError>(
      [&] {
        cross_entropy(l4, from_vector(t, {1, 3, 5}, Options(DType::I64, Device::cuda())), Tensor(),
                      255, Reduction::None)
            .to(Device::cpu());
      },
      {"target value 9", "element 13", "K = 3", "cuda:0"});
  // Mixed devices are refused.
  expect_error<DeviceError>(
      [&] {
        cross_entropy(lg, test::i64({0, 1, 2, 0}, {4}));
      },
      {"cross_entropy"});
  // The device is still usable after the error.
  t[13] = 2;
  t[14] = 0;
  Tensor ok = cross_entropy(l4, from_vector(t, {1, 3, 5}, Options(DType::I64, Device::cuda())));
  EXPECT_NEAR(ok.item(), std::log(3.0), 1e-6);
}

// ------------------------------------------------------------ embedding

TEST(CudaEmbedding, ParityWithPaddingAndRepeatedIndices) {
  SIRS_REQUIRE_CUDA();
  struct Case {
    int64_t V, E;
    Shape idx;
    int64_t padding;
  };
  for (const Case& c :
       {Case{50, 37, {3, 41}, 3}, Case{7, 1, {1}, -1}, Case{7, 1, {1}, 0},
        Case{11, 257, {2, 5, 7}, -1}, Case{1, 3, {9}, -1}, Case{300, 64, {50, 8}, 0}}) {
    Tensor w = randn32({c.V, c.E}, 400 + c.V);
    // Indices from a small range so they repeat (the gradient accumulates)
    // and the padding row, when there is one, is usually among them.
    Tensor idx = targets(c.idx, std::min<int64_t>(c.V, 6), 401 + c.E);
    std::string what = "embedding V=" + std::to_string(c.V) + " E=" + std::to_string(c.E) +
                       " idx " + shape_str(c.idx) + " padding " + std::to_string(c.padding);
    expect_parity(
        what, [&](const std::vector<Tensor>& in) { return embedding(in[0], in[1], c.padding); },
        {w, idx}, kElem);
  }
}

TEST(CudaEmbedding, BitIdenticalToCpuAndDeterministic) {
  SIRS_REQUIRE_CUDA();
  // Zipf-like indices over a big vocabulary: row 0 very frequent, most rows unused.
  const int64_t V = 5000, E = 300, N = 4096;
  Generator g(410);
  std::vector<double> iv = randint(0, V, {N}, DType::I64, &g).to_vector();
  for (int64_t n = 0; n < N; n += 3) iv[n] = static_cast<double>(n % 7 == 0 ? 0 : n % 13);
  Tensor idx = from_vector(iv, {64, 64}, DType::I64);
  Tensor w = randn32({V, E}, 411, false);
  Tensor dout = randn32({64, 64, E}, 412, false);

  Tensor wc = w.clone().set_requires_grad();
  Tensor yc = embedding(wc, idx, 5);
  yc.backward(dout);

  std::vector<double> first;
  for (int run = 0; run < 2; ++run) {
    Tensor wg = w.to(Device::cuda()).set_requires_grad();
    Tensor yg = embedding(wg, idx.to(Device::cuda()), 5);
    ASSERT_TRUE(yg.device().is_cuda());
    expect_same_values(yg.to_vector(), yc.to_vector(), "the gather is a copy: exact");
    yg.backward(dout.to(Device::cuda()));
    std::vector<double> gv = wg.grad().to_vector();
    // Same summation order as the CPU (increasing n per row): same bits.
    expect_same_values(gv, wc.grad().to_vector(), "dweight vs CPU, run " + std::to_string(run));
    if (run == 0)
      first = gv;
    else
      expect_same_values(gv, first, "dweight, second run vs first");
    for (int64_t e = 0; e < E; ++e) ASSERT_EQ(gv[5 * E + e], 0.0) << "padding row 5 got gradient";
  }
}

#ifdef SIRS_WITH_CUDA
TEST(CudaEmbedding, BackwardAccumulatesWithBeta) {
  SIRS_REQUIRE_CUDA();
  // The launcher's beta contract (autograd uses beta = 0): 1 accumulates,
  // 0.5 scales first; both exact against the CPU kernel.
  const int64_t V = 40, E = 33;
  Tensor idx = targets({77}, 12, 420);
  Tensor dout = randn32({77, E}, 421, false);
  Tensor base = randn32({V, E}, 422, false);
  for (float beta : {1.0f, 0.5f}) {
    Tensor want = base.clone();
    embedding_backward_cpu<float>(dout.data<float>(), idx.data<int64_t>(), 77, E, V, 2,
                                  want.data<float>(), beta);
    Tensor got = base.to(Device::cuda());
    Tensor dg = dout.to(Device::cuda()), ig = idx.to(Device::cuda());
    embedding_backward_cuda<float>(dg.data<float>(), ig.data<int64_t>(), 77, E, V, 2,
                                   got.data<float>(), beta, 0, cuda_stream(0));
    expect_same_values(got.to_vector(), want.to_vector(), "beta " + std::to_string(beta));
  }
}

// Every forward version through its launcher: version 2 copies rows in the
// widest word (16, 8 or 4 bytes) that divides the row's bytes and both
// addresses, so the cases cover each word size, a misaligned weight
// pointer, more rows than one grid holds, bad indices (zero rows, flag
// set) and E = 0.
TEST(CudaEmbedding, EveryForwardVersionEveryWordSize) {
  SIRS_REQUIRE_CUDA();
  struct Case {
    DType dt;
    int64_t V, E, N;
    int64_t weight_offset;  // elements: 1 makes the weight pointer misaligned
    bool bad;               // put out-of-range indices at a few positions
  };
  const std::vector<Case> cases = {
      {DType::F32, 1000, 300, 4096, 0, false},   // 16-byte words (the bench's rows)
      {DType::F32, 97, 302, 777, 0, true},       // 1208 bytes: 8-byte words
      {DType::F32, 97, 301, 513, 0, false},      // 4-byte words
      {DType::F32, 64, 300, 300, 1, true},       // misaligned weight: 4-byte words
      {DType::F64, 50, 9, 1000, 0, false},       // 72 bytes: 8-byte words
      {DType::F64, 50, 10, 1000, 0, true},       // 80 bytes: 16-byte words
      {DType::F32, 10, 4, 4'200'000, 0, false},  // more rows than the grid: the stride loop
      {DType::F32, 10, 0, 33, 0, true},          // nothing to copy, indices still checked
  };
  const Device gpu = Device::cuda();
  uint64_t seed = 440;
  for (const Case& c : cases) {
    Generator g(seed++);
    Tensor flat = randn({c.V * c.E + c.weight_offset}, c.dt, &g);
    std::vector<double> idx = randint(0, c.V, {c.N}, DType::I64, &g).to_vector();
    std::vector<int64_t> bad_at;
    if (c.bad) bad_at = {0, c.N / 2, c.N - 1};
    for (int64_t i = 0; i < static_cast<int64_t>(bad_at.size()); ++i)
      idx[bad_at[i]] = i % 2 ? -1.0 : static_cast<double>(c.V + i);
    std::vector<double> wv = flat.to_vector(), want(c.N * c.E, 0.0);
    for (int64_t n = 0; n < c.N; ++n) {
      const int64_t v = static_cast<int64_t>(idx[n]);
      if (v < 0 || v >= c.V) continue;
      for (int64_t e = 0; e < c.E; ++e) want[n * c.E + e] = wv[c.weight_offset + v * c.E + e];
    }
    Tensor fg = flat.to(gpu), ig = from_vector(idx, {c.N}, DType::I64).to(gpu);
    for (int ver = 1; ver <= kEmbeddingForwardCudaVersions; ++ver) {
      const std::string what = "version " + std::to_string(ver) + " " + dtype_name(c.dt) +
                               " V=" + std::to_string(c.V) + " E=" + std::to_string(c.E) +
                               " N=" + std::to_string(c.N) + " offset " +
                               std::to_string(c.weight_offset);
      Tensor out = full({c.N, c.E}, 7.0, Options(c.dt, gpu));  // stale values to overwrite
      Tensor flag = zeros({1}, Options(DType::I32, gpu));
      if (c.dt == DType::F32)
        embedding_forward_cuda<float>(fg.data<float>() + c.weight_offset, ig.data<int64_t>(), c.N,
                                      c.E, c.V, out.data<float>(), flag.data<int32_t>(),
                                      cuda_stream(0), ver);
      else
        embedding_forward_cuda<double>(fg.data<double>() + c.weight_offset, ig.data<int64_t>(), c.N,
                                       c.E, c.V, out.data<double>(), flag.data<int32_t>(),
                                       cuda_stream(0), ver);
      expect_same_values(out.to_vector(), want, what);
      EXPECT_EQ(flag.to_vector()[0], c.bad ? 1.0 : 0.0) << what << ": the check's flag";
    }
  }
  Tensor w = zeros({4, 4}, Options(DType::F32, gpu)), out = empty({1, 4}, Options(DType::F32, gpu));
  Tensor idx = zeros({1}, Options(DType::I64, gpu)), flag = zeros({1}, Options(DType::I32, gpu));
  expect_error<ValueError>(
      [&] {
        embedding_forward_cuda<float>(w.data<float>(), idx.data<int64_t>(), 1, 4, 4,
                                      out.data<float>(), flag.data<int32_t>(), cuda_stream(0),
                                      kEmbeddingForwardCudaVersions + 1);
      },
      {"embedding_forward_cuda", "version 3"});
}
#endif

TEST(CudaEmbedding, NonContiguousIndicesAndFloat64) {
  SIRS_REQUIRE_CUDA();
  Generator g(430);
  Tensor w = randn({23, 9}, DType::F64, &g).set_requires_grad();
  Tensor idx = targets({5, 6}, 23, 431);
  expect_parity(
      "embedding f64, transposed indices",
      [](const std::vector<Tensor>& in) { return embedding(in[0], in[1].transpose(0, 1), 4); },
      {w, idx}, 0);
}

// The indices are checked on the device without a sync: the error comes at
// the call (SIRS_CUDA_SYNC_CHECKS=1) or at the next synchronisation, here
// the copy of the output to the CPU (kernels/cuda/deferred_check.h).
TEST(CudaEmbedding, OutOfRangeIndexIsAnIndexErrorOnCuda) {
  SIRS_REQUIRE_CUDA();
  Tensor w = zeros({4, 2}, Options(DType::F32, Device::cuda()));
  expect_error<IndexError>(
      [&] {
        embedding(w, test::i64({0, 5, 1, 6}, {4}).to(Device::cuda())).to(Device::cpu());
      },
      {"embedding", "index 5", "element 1", "of indices [4]", "V = 4", "cuda:0"});
  expect_error<IndexError>(
      [&] {
        embedding(w, test::i64({2, -1}, {2}).to(Device::cuda())).to(Device::cpu());
      },
      {"index -1", "element 1", "V = 4", "cuda:0"});
  // E = 0: nothing to gather (and nothing to copy back), the indices are
  // still checked.
  Tensor w0 = zeros({4, 0}, Options(DType::F32, Device::cuda()));
  expect_error<IndexError>(
      [&] {
        embedding(w0, test::i64({4}, {1}).to(Device::cuda()));
        cuda_synchronize(0);
      },
      {"index 4", "V = 4"});
  expect_error<DeviceError>([&] { embedding(w, test::i64({0}, {1})); }, {"embedding"});
  // The device is still usable after the error.
  Tensor ok = embedding(w, test::i64({3, 0}, {2}).to(Device::cuda()));
  EXPECT_EQ(ok.to_vector(), std::vector<double>(4, 0.0));
}

// ------------------------------------------------------------ dropout

TEST(CudaDropout, MaskIsBitIdenticalToTheCpu) {
  SIRS_REQUIRE_CUDA();
  struct Case {
    int64_t n;
    double p;
    DType dt;
  };
  std::vector<Case> cases = {{1000003, 0.5, DType::F32}};  // ~2^20: many grid-stride steps
  for (int64_t n : {1, 3, 37, 1000, 100003})
    for (double p : {0.1, 0.5, 0.9})
      for (DType dt : {DType::F32, DType::F64}) cases.push_back({n, p, dt});
  for (const Case& c : cases) {
    Generator gc(77), gg(77);
    gc.take(5);  // a non-zero first block
    gg.take(5);
    Tensor mc = dropout_mask({c.n}, c.p, Options(c.dt), &gc);
    Tensor mg = dropout_mask({c.n}, c.p, Options(c.dt, Device::cuda()), &gg);
    ASSERT_TRUE(mg.device().is_cuda()) << "the mask is made on the device";
    EXPECT_EQ(mg.dtype(), c.dt);
    expect_same_values(
        mg.to_vector(), mc.to_vector(),
        "mask n " + std::to_string(c.n) + " p " + std::to_string(c.p) + " " + dtype_name(c.dt));
    EXPECT_EQ(gg.offset(), gc.offset());
  }
}

TEST(CudaDropout, ZeroAndOneProbabilities) {
  SIRS_REQUIRE_CUDA();
  Generator g(78);
  Tensor ones_mask = dropout_mask({3, 37}, 0.0, Options(DType::F32, Device::cuda()), &g);
  EXPECT_EQ(ones_mask.to_vector(), std::vector<double>(111, 1.0));
  Tensor zero_mask = dropout_mask({3, 37}, 1.0, Options(DType::F32, Device::cuda()), &g);
  EXPECT_EQ(zero_mask.to_vector(), std::vector<double>(111, 0.0));
  EXPECT_EQ(g.offset(), 2u * 28u);  // ceil(111 / 4) blocks each, also for p = 0 and 1
  // dropout itself: p = 0 and eval return x; p = 1 gives zeros and zero gradient.
  Tensor x = randn32({5, 7}, 79, false).to(Device::cuda()).set_requires_grad();
  EXPECT_EQ(dropout(x, 0.0, true, &g).raw_data(), x.raw_data());
  EXPECT_EQ(dropout(x, 0.5, false, &g).raw_data(), x.raw_data());
  Tensor z = dropout(x, 1.0, true, &g);
  EXPECT_TRUE(z.device().is_cuda());
  EXPECT_EQ(z.to_vector(), std::vector<double>(35, 0.0));
  z.backward(ones({5, 7}, Options(DType::F32, Device::cuda())));
  EXPECT_TRUE(x.grad().device().is_cuda());
  EXPECT_EQ(x.grad().to_vector(), std::vector<double>(35, 0.0));
}

TEST(CudaDropout, ForwardBackwardParity) {
  SIRS_REQUIRE_CUDA();
  // A fresh generator of the same seed in each run: the same mask on both
  // devices, so the products are the same floats (exact).
  for (double p : {0.5, 0.2})
    for (const Shape& s : {Shape{37, 41}, Shape{1}, Shape{3, 5, 7}}) {
      Tensor x = randn32(s, 500);
      expect_parity(
          "dropout p " + std::to_string(p) + " " + shape_str(s),
          [p](const std::vector<Tensor>& in) {
            Generator gen(17);
            return dropout(in[0], p, true, &gen);
          },
          {x}, 0);
    }
  // Non-contiguous input.
  Tensor y = randn32({9, 13}, 501);
  expect_parity(
      "dropout transposed",
      [](const std::vector<Tensor>& in) {
        Generator gen(18);
        return dropout(in[0].transpose(0, 1), 0.5, true, &gen);
      },
      {y}, 0);
}

#ifdef SIRS_WITH_CUDA
TEST(CudaDropout, SameMaskForAnyLaunchGeometry) {
  SIRS_REQUIRE_CUDA();
  // The launcher with explicit geometries: one warp per block, full blocks,
  // a single block (grid-stride loop does everything), three blocks.
  const int64_t n = 100003;
  const double p = 0.5;
  const uint64_t seed = 1234567, first = 99;
  uint32_t threshold = dropout_threshold(p);
  Tensor want = empty({n}, DType::F32);
  dropout_mask_cpu<float>(want.data<float>(), n, seed, first, threshold, 2.0f);
  std::vector<double> wv = want.to_vector();
  for (int threads : {32, 96, 256, 1024})
    for (int max_blocks : {0, 1, 3}) {
      Tensor got = full({n}, -1.0, Options(DType::F32, Device::cuda()));
      dropout_mask_cuda<float>(got.data<float>(), n, seed, first, threshold, 2.0f, cuda_stream(0),
                               threads, max_blocks);
      expect_same_values(
          got.to_vector(), wv,
          "threads " + std::to_string(threads) + " max_blocks " + std::to_string(max_blocks));
    }
  // Keep rate sanity: about half kept.
  double kept = 0;
  for (double v : wv) kept += v != 0;
  EXPECT_NEAR(kept / static_cast<double>(n), 0.5, 0.01);
}
#endif

// ------------------------------------------------------------ cosine_similarity

TEST(CudaCosine, ParityAlongDim1AndLast) {
  SIRS_REQUIRE_CUDA();
  struct Case {
    Shape a, b;
    int64_t dim;
  };
  for (const Case& c :
       {Case{{5, 37, 3}, {5, 37, 3}, 1}, Case{{7, 129}, {7, 129}, -1},
        Case{{4, 1, 33}, {1, 5, 33}, -1}, Case{{3, 1000}, {3, 1000}, 1},
        Case{{257, 1}, {257, 1}, -1}, Case{{1, 3}, {1, 3}, 1}, Case{{2, 9, 1}, {2, 9, 6}, 1}}) {
    Tensor a = randn32(c.a, 600), b = randn32(c.b, 601);
    expect_parity(
        "cosine " + shape_str(c.a) + " vs " + shape_str(c.b) + " dim " + std::to_string(c.dim),
        [&](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], c.dim); },
        {a, b}, kElem);
  }
}

TEST(CudaCosine, EpsPathAndZeroVectors) {
  SIRS_REQUIRE_CUDA();
  // Rows 1 and 3 of a are zero vectors: |a||b| = 0 < eps, so out = 0 and
  // da = g * b / eps. Row 2 is tiny (|a||b| ~ 1e-10 < 1e-8), row 0 normal.
  std::vector<double> av(4 * 19, 0.0), bv(4 * 19);
  for (int64_t i = 0; i < 4 * 19; ++i) bv[i] = std::sin(0.7 * static_cast<double>(i) + 0.1);
  for (int64_t d = 0; d < 19; ++d) {
    av[d] = std::cos(0.3 * static_cast<double>(d));
    av[2 * 19 + d] = 1e-6 * std::cos(0.5 * static_cast<double>(d));
    bv[2 * 19 + d] *= 1e-5;
  }
  Tensor a = from_vector(av, {4, 19}).set_requires_grad();
  Tensor b = from_vector(bv, {4, 19}).set_requires_grad();
  expect_parity(
      "cosine eps path",
      [](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], 1, 1e-8); },
      {a, b}, kElem);
  // Every row on the eps path (eps above every |a||b|), along dim 0.
  Tensor c = randn32({6, 4}, 610), d = randn32({6, 4}, 611);
  expect_parity(
      "cosine all eps dim 0",
      [](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], 0, 1e3); }, {c, d},
      kElem);
  // A zero vector against a zero vector: 0 / eps = 0, gradient 0.
  Tensor z = zeros({2, 5}, Options(DType::F32, Device::cuda())).set_requires_grad();
  Tensor out = cosine_similarity(z, zeros({2, 5}, Options(DType::F32, Device::cuda())));
  EXPECT_EQ(out.to_vector(), std::vector<double>(2, 0.0));
  out.backward(ones({2}, Options(DType::F32, Device::cuda())));
  EXPECT_EQ(z.grad().to_vector(), std::vector<double>(10, 0.0));
}

TEST(CudaCosine, Float64AndDevices) {
  SIRS_REQUIRE_CUDA();
  Generator g(620);
  Tensor a = randn({6, 1, 40}, DType::F64, &g).set_requires_grad();
  Tensor b = randn({1, 7, 40}, DType::F64, &g).set_requires_grad();
  expect_parity(
      "cosine f64 broadcast",
      [](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], -1); }, {a, b},
      1e-12);
  expect_error<DeviceError>(
      [&] { cosine_similarity(a.detach().to(Device::cuda()), b.detach(), -1); },
      {"cosine_similarity"});
}

// ------------------------------------------------------------ deferred checks

#ifdef SIRS_WITH_CUDA
// Index errors found on the device are reported at the next
// synchronisation (kernels/cuda/deferred_check.h). These tests pin that
// contract: no wait at the call, the error at cuda_synchronize / item() /
// to(cpu), once, naming the op, the element and the value; a clean queue
// afterwards; the kernels that run with the bad indices meanwhile stay in
// bounds (zeros forward, nothing added backward); and the switch back to
// errors at the call.

// Sets the sync-checks switch for a scope and restores it after.
struct SyncChecksScope {
  bool saved;
  explicit SyncChecksScope(bool on) : saved(cuda_sync_checks()) { set_cuda_sync_checks(on); }
  ~SyncChecksScope() { set_cuda_sync_checks(saved); }
};

// The message of the IndexError fn throws ("" when it throws none).
template <class F>
std::string index_error_of(F&& fn) {
  try {
    fn();
  } catch (const IndexError& e) {
    return e.what();
  }
  return "";
}

#ifdef SIRS_WITH_CUDA
// The entry the ops fill for a checked call (host side only: runs without
// a GPU): each argument lands in its field, and the error closure is the
// one given.
TEST(DeferredIndexCheckEntry, ConstructorFillsEveryField) {
  const int64_t data[3] = {0, 1, 2};
  auto owner = std::make_shared<int>(7);
  int64_t seen = -1;
  DeferredIndexCheck c(
      "op_name", data, 3, -2, 9, owner,
      [&](int64_t pos, int64_t value, const std::string&) { seen = pos * 100 + value; });
  EXPECT_STREQ(c.op, "op_name");
  EXPECT_EQ(c.idx, data);
  EXPECT_EQ(c.n, 3);
  EXPECT_EQ(c.lo, -2);
  EXPECT_EQ(c.hi, 9);
  EXPECT_FALSE(c.has_ignore);
  EXPECT_EQ(c.owner.get(), owner.get());
  c.on_bad(4, 5, "");
  EXPECT_EQ(seen, 405);
}
#endif

TEST(CudaDeferredChecks, NoWaitAtTheCallErrorAtSynchronize) {
  SIRS_REQUIRE_CUDA();
  SyncChecksScope mode(false);
  ASSERT_NO_THROW(cuda_synchronize(0));  // nothing left over from other tests
  Tensor w = randn32({6, 3}, 500, false).to(Device::cuda());
  const std::vector<double> iv = {1, 2, 8, 0, -9};
  Tensor idx = test::i64(iv, {5}).to(Device::cuda());
  Tensor y;
  ASSERT_NO_THROW(y = embedding(w, idx));
  EXPECT_GE(cuda_pending_checks(0), 1);  // queued, not waited for
  std::string msg = index_error_of([] { cuda_synchronize(0); });
  EXPECT_EQ(msg.rfind("embedding: index 8 (element 2 of indices [5]) is out of range for V = 6 "
                      "rows of weight [6, 3] (checked on cuda:0",
                      0),
            0u)
      << msg;
  EXPECT_NE(msg.find("later synchronisation"), std::string::npos) << msg;
  EXPECT_EQ(cuda_pending_checks(0), 0);
  EXPECT_NO_THROW(cuda_synchronize(0));  // reported once
  // The bad rows are zeros, the others the weight's rows.
  std::vector<double> got = y.to_vector(), wv = w.to_vector();
  for (size_t n = 0; n < iv.size(); ++n)
    for (size_t e = 0; e < 3; ++e) {
      bool ok = iv[n] >= 0 && iv[n] < 6;
      EXPECT_EQ(got[n * 3 + e], ok ? wv[static_cast<size_t>(iv[n]) * 3 + e] : 0.0)
          << "row " << n << " col " << e;
    }
}

TEST(CudaDeferredChecks, ErrorAtItemAfterBackwardAndTheGradientSkipsBadTargets) {
  SIRS_REQUIRE_CUDA();
  SyncChecksScope mode(false);
  ASSERT_NO_THROW(cuda_synchronize(0));
  // A training step: forward, backward, loss.item(). The backward runs
  // before the error is known; with class weights it would read weight[7]
  // for the bad target if it did not skip it.
  const int64_t K = 3;
  Tensor lg_cpu = randn32({5, K}, 510);
  Tensor cw = class_weights(K);
  Tensor lg = lg_cpu.detach().to(Device::cuda()).set_requires_grad();
  Tensor bad_t = test::i64({0, 7, 2, -3, 1}, {5}).to(Device::cuda());
  Tensor loss;
  expect_error<IndexError>(
      [&] {
        loss = cross_entropy(lg, bad_t, cw.to(Device::cuda()));
        loss.backward();
        loss.item();
      },
      {"cross_entropy: target value 7 (element 1 of target [5])", "K = 3", "cuda:0"});
  EXPECT_EQ(cuda_pending_checks(0), 0);
  // Bad targets contributed nothing: the result is the CPU's with them ignored.
  ASSERT_TRUE(lg.grad().defined());
  Tensor want_lg = lg_cpu.detach().clone().set_requires_grad();
  Tensor want = cross_entropy(want_lg, test::i64({0, 255, 2, 255, 1}, {5}), cw, 255);
  want.backward();
  EXPECT_NEAR(loss.item(), want.item(), kReduce);
  test::expect_close_to(lg.grad(), want_lg.grad(), kElem, kElem, "dlogits with bad targets");
}

TEST(CudaDeferredChecks, EmbeddingBackwardSkipsBadIndices) {
  SIRS_REQUIRE_CUDA();
  SyncChecksScope mode(false);
  ASSERT_NO_THROW(cuda_synchronize(0));
  // V = 5: the sort uses the low 3 bits, and 9 and -7 share them with 1. A
  // sort of the raw indices would interleave them with row 1's run.
  const int64_t V = 5, E = 3;
  Tensor w = zeros({V, E}, Options(DType::F32, Device::cuda())).set_requires_grad();
  Tensor idx = test::i64({1, 9, 1, -7, 3}, {5}).to(Device::cuda());
  std::vector<double> dv(15);
  for (size_t i = 0; i < dv.size(); ++i) dv[i] = static_cast<double>(i + 1);
  Tensor dout = from_vector(dv, {5, E}, Options(DType::F32, Device::cuda()));
  expect_error<IndexError>(
      [&] {
        embedding(w, idx).backward(dout);
        cuda_synchronize(0);
      },
      {"embedding: index 9 (element 1 of indices [5])", "V = 5", "cuda:0"});
  ASSERT_TRUE(w.grad().defined());
  std::vector<double> want(static_cast<size_t>(V * E), 0.0);
  for (size_t e = 0; e < 3; ++e) {
    want[1 * 3 + e] = dv[0 * 3 + e] + dv[2 * 3 + e];
    want[3 * 3 + e] = dv[4 * 3 + e];
  }
  expect_same_values(w.grad().to_vector(), want, "dweight with bad indices");
}

TEST(CudaDeferredChecks, FirstErrorWinsAndTheNextCallIsClean) {
  SIRS_REQUIRE_CUDA();
  SyncChecksScope mode(false);
  ASSERT_NO_THROW(cuda_synchronize(0));
  Tensor w = randn32({4, 2}, 520, false).to(Device::cuda());
  Tensor lg = zeros({2, 3}, Options(DType::F32, Device::cuda()));
  // Two bad calls: the first is reported at the sync, the second is dropped
  // with the queue.
  expect_error<IndexError>(
      [&] {
        embedding(w, test::i64({0, 4}, {2}).to(Device::cuda()));
        cross_entropy(lg, test::i64({5, 0}, {2}).to(Device::cuda()));
        cuda_synchronize(0);
      },
      {"embedding: index 4 (element 1"});
  EXPECT_EQ(cuda_pending_checks(0), 0);
  EXPECT_NO_THROW(cuda_synchronize(0));
  // Valid calls after the error give the CPU's results.
  Tensor idx = test::i64({3, 0, 3, 1}, {2, 2});
  expect_same_values(embedding(w, idx.to(Device::cuda())).to_vector(),
                     embedding(w.to(Device::cpu()), idx).to_vector(), "embedding after the error");
  Tensor t = test::i64({2, 1}, {2});
  EXPECT_NEAR(cross_entropy(lg, t.to(Device::cuda())).item(),
              cross_entropy(lg.to(Device::cpu()), t).item(), 1e-6);
}

TEST(CudaDeferredChecks, ManyChecksWithoutASyncStayBounded) {
  SIRS_REQUIRE_CUDA();
  SyncChecksScope mode(false);
  ASSERT_NO_THROW(cuda_synchronize(0));
  Tensor w = randn32({50, 8}, 530, false).to(Device::cuda());
  Tensor good = targets({7}, 50, 531).to(Device::cuda());
  Tensor bad = test::i64({0, 1, 2, 3, 4, 5, 77}, {7}).to(Device::cuda());
  // More calls than there are flags: the call that finds every flag in use
  // waits for the stream and reads them all.
  for (int i = 0; i < 3 * kMaxPendingChecks; ++i) {
    embedding(w, good);
    ASSERT_LE(cuda_pending_checks(0), kMaxPendingChecks);
  }
  EXPECT_NO_THROW(cuda_synchronize(0));
  // One bad call among many is still reported (by that full-queue read or
  // at the sync), once.
  int calls = 0;
  expect_error<IndexError>(
      [&] {
        for (int i = 0; i < 2 * kMaxPendingChecks; ++i, ++calls)
          embedding(w, i == 100 ? bad : good);
        cuda_synchronize(0);
      },
      {"embedding: index 77 (element 6 of indices [7])", "V = 50"});
  EXPECT_GT(calls, 100);
  EXPECT_NO_THROW(cuda_synchronize(0));
}

TEST(CudaDeferredChecks, SyncChecksThrowAtTheCall) {
  SIRS_REQUIRE_CUDA();
  ASSERT_NO_THROW(cuda_synchronize(0));
  SyncChecksScope mode(true);
  EXPECT_TRUE(cuda_sync_checks());
  Tensor w = randn32({4, 2}, 540, false).to(Device::cuda());
  Tensor idx = test::i64({0, 4}, {2}).to(Device::cuda());
  std::string msg = index_error_of([&] { embedding(w, idx); });
  EXPECT_EQ(msg,
            "embedding: index 4 (element 1 of indices [2]) is out of range for V = 4 rows of "
            "weight [4, 2] (checked on cuda:0)");
  Tensor lg = zeros({2, 3}, Options(DType::F32, Device::cuda()));
  msg = index_error_of([&] { cross_entropy(lg, test::i64({0, -2}, {2}).to(Device::cuda())); });
  EXPECT_NE(msg.find("target value -2 (element 1"), std::string::npos) << msg;
  // Valid calls leave nothing queued.
  embedding(w, test::i64({0, 3}, {2}).to(Device::cuda()));
  EXPECT_EQ(cuda_pending_checks(0), 0);
}

// The kernels only set a flag; the host finds the first bad element itself
// when the flag is set. In an index tensor of 2^20 elements: the last
// element alone, the first alone, and both (the first wins), each with the
// CPU's message, deferred and at the call.
TEST(CudaDeferredChecks, FirstBadElementOfALargeIndexTensor) {
  SIRS_REQUIRE_CUDA();
  ASSERT_NO_THROW(cuda_synchronize(0));
  const int64_t N = int64_t{1} << 20, V = 1000;
  Tensor w_cpu = randn32({V, 2}, 550, false);
  Tensor w = w_cpu.to(Device::cuda());
  Generator g(551);
  Tensor base = randint(0, V, {N}, DType::I64, &g);
  struct Bad {
    int64_t pos, value;
  };
  const std::vector<std::vector<Bad>> cases = {
      {{N - 1, V + 7}}, {{0, -3}}, {{0, V}, {N - 1, -1}}};
  for (const std::vector<Bad>& c : cases) {
    Tensor idx = base.clone();
    for (const Bad& b : c) idx.data<int64_t>()[b.pos] = b.value;
    const Bad& first = c.front();
    std::string want = index_error_of([&] { embedding(w_cpu, idx); });
    ASSERT_NE(want.find(str_cat("index ", first.value, " (element ", first.pos,
                                " of indices [1048576])")),
              std::string::npos)
        << want;
    Tensor idx_d = idx.to(Device::cuda());
    {
      SyncChecksScope mode(false);
      std::string got = index_error_of([&] {
        embedding(w, idx_d);
        cuda_synchronize(0);
      });
      EXPECT_EQ(got.rfind(want + " (checked on cuda:0 without waiting", 0), 0u)
          << got << "\nwant: " << want;
      EXPECT_EQ(cuda_pending_checks(0), 0);
    }
    {
      SyncChecksScope mode(true);
      EXPECT_EQ(index_error_of([&] { embedding(w, idx_d); }), want + " (checked on cuda:0)");
    }
  }
  // The same indices, all valid: no error, the CPU's rows.
  Tensor ok = embedding(w, base.to(Device::cuda()));
  EXPECT_NO_THROW(cuda_synchronize(0));
  expect_same_values(ok.to_vector(), embedding(w_cpu, base).to_vector(), "large embedding");
}

// Cross-entropy targets equal to ignore_index are valid even outside
// [0, K): the error names the first target that is neither, as on the CPU.
// Both forward kernels: [B, K] (a warp per row) and [B, K, H, W] (a thread
// per pixel).
TEST(CudaDeferredChecks, CrossEntropyIgnoredTargetsAmongBadOnes) {
  SIRS_REQUIRE_CUDA();
  SyncChecksScope mode(false);
  ASSERT_NO_THROW(cuda_synchronize(0));
  const int64_t K = 4, ignore = -100;
  struct Case {
    Shape logits;
    std::vector<double> bad, good;  // targets with a bad one; with only ignored ones
    std::string where;              // of the first bad one
  };
  const std::vector<Case> cases = {
      {{6, K}, {-100, 2, -100, 9, 1, -1}, {-100, 2, -100, 3, 1, -100},
       "target value 9 (element 3 of target [6])"},
      {{1, K, 3, 5},
       {-100, 0, -100, -100, 1, 2, 3, -100, 0, -7, 1, -100, 4, 2, -100},
       {-100, 0, -100, -100, 1, 2, 3, -100, 0, 1, 1, -100, 3, 2, -100},
       "target value -7 (element 9 of target [1, 3, 5])"}};
  for (const Case& c : cases) {
    Shape ts = c.logits;
    ts.erase(ts.begin() + 1);
    Tensor lg_cpu = randn32(c.logits, 560, false);
    Tensor lg = lg_cpu.to(Device::cuda());
    Tensor bad = from_vector(c.bad, ts, DType::I64);
    std::string want = index_error_of([&] { cross_entropy(lg_cpu, bad, Tensor(), ignore); });
    ASSERT_NE(want.find(c.where), std::string::npos) << want;
    std::string got = index_error_of([&] {
      cross_entropy(lg, bad.to(Device::cuda()), Tensor(), ignore).item();
    });
    EXPECT_EQ(got.rfind(want + " (checked on cuda:0 without waiting", 0), 0u)
        << got << "\nwant: " << want;
    // Only ignored targets outside [0, K): no error, the CPU's loss.
    Tensor good = from_vector(c.good, ts, DType::I64);
    double want_loss = cross_entropy(lg_cpu, good, Tensor(), ignore).item();
    double got_loss = 0;
    ASSERT_NO_THROW(got_loss = cross_entropy(lg, good.to(Device::cuda()), Tensor(), ignore).item());
    EXPECT_NEAR(got_loss, want_loss, kReduce);
    EXPECT_EQ(cuda_pending_checks(0), 0);
  }
}
#endif

}  // namespace
}  // namespace sirs
