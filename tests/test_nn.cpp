// NN ops: softmax / log_softmax, cross_entropy, embedding, dropout,
// cosine_similarity. Expected values are hand-computed or produced by
// PyTorch 1.13 (the generating expression is written next to each literal);
// every differentiable op is gradient-checked in float64.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/nn.h"
#include "tensor/philox.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

void expect_near(const Tensor& t, const std::vector<double>& want, double tol) {
  std::vector<double> got = t.to_vector();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "element " << i;
}

// Runs fn, expects an ErrT whose message contains every one of `parts`.

// The [B, K, H, W] = [2, 3, 2, 2] cross_entropy test logits:
// ((torch.arange(24) * 0.37) % 2.1 - 1.0).
Tensor ce4_logits() {
  return f64({-1.0, -0.63, -0.26, 0.11, 0.48, 0.85, -0.88, -0.51, -0.14, 0.23, 0.6, 0.97,
              -0.76, -0.39, -0.02, 0.35, 0.72, 1.09, -0.64, -0.27, 0.1, 0.47, 0.84, -0.89},
             {2, 3, 2, 2});
}

}  // namespace

// ------------------------------------------------------------ softmax

TEST(NNSoftmax, MatchesTorchOnBothDims) {
  Tensor x = f64({1, 2, 3, -1, 0.5, 4}, {2, 3});
  // torch.softmax(x, 1), torch.softmax(x, 0), torch.log_softmax(x, 1), torch.log_softmax(x, 0)
  expect_near(softmax(x, 1), {0.09003057317, 0.2447284711, 0.6652409558, 0.006497943316,
                              0.02912176154, 0.9643802951}, 1e-10);
  expect_near(softmax(x, -1), softmax(x, 1).to_vector(), 0);
  expect_near(softmax(x, 0), {0.880797078, 0.8175744762, 0.2689414214, 0.119202922, 0.1824255238,
                              0.7310585786}, 1e-9);
  expect_near(log_softmax(x, 1), {-2.407605964, -1.407605964, -0.4076059644, -5.036269565,
                                  -3.536269565, -0.03626956512}, 1e-9);
  expect_near(log_softmax(x, 0), {-0.126928011, -0.201413278, -1.313261688, -2.126928011,
                                  -1.701413278, -0.3132616875}, 1e-9);
}

TEST(NNSoftmax, RowsSumToOneAndLargeInputsDoNotOverflow) {
  Generator g(3);
  Tensor x = randn({5, 7, 3}, DType::F32, &g);
  for (int64_t dim : {0, 1, 2}) {
    Tensor y = softmax(x, dim);
    std::vector<double> v = y.to_vector();
    Shape st = contiguous_strides(x.shape());
    int64_t n = x.size(dim);
    for (int64_t i = 0; i < x.numel(); ++i) {
      if ((i / st[dim]) % n != 0) continue;  // first element of each softmax row
      double s = 0;
      for (int64_t k = 0; k < n; ++k) s += v[i + k * st[dim]];
      EXPECT_NEAR(s, 1.0, 1e-6) << "dim " << dim << " row at " << i;
    }
  }
  // exp(1000) overflows; the max-shift gives softmax([1000, 1001]) = softmax([0, 1]).
  Tensor big = from_vector({1000, 1001, -1000, -1001}, {2, 2});
  expect_near(softmax(big, 1), {0.2689414214, 0.7310585786, 0.7310585786, 0.2689414214}, 1e-6);
  expect_near(log_softmax(big, 1), {-1.3132616875, -0.3132616875, -0.3132616875, -1.3132616875},
              1e-5);
}

TEST(NNSoftmax, GradcheckNonContiguousBothDims) {
  Tensor base = leaf({5, 4}, 11);
  for (int64_t dim : {0, -1}) {
    expect_gradcheck([dim](const std::vector<Tensor>& in) { return softmax(in[0].transpose(0, 1), dim); },
                     {base});
    expect_gradcheck(
        [dim](const std::vector<Tensor>& in) { return log_softmax(in[0].transpose(0, 1), dim); },
        {base});
  }
  // A middle dim of a 3-d tensor (inner > 1) and a permuted input.
  Tensor x3 = leaf({3, 4, 5}, 12);
  expect_gradcheck([](const std::vector<Tensor>& in) { return softmax(in[0], 1); }, {x3});
  expect_gradcheck(
      [](const std::vector<Tensor>& in) { return log_softmax(in[0].permute({2, 0, 1}), 2); },
      {x3});
}

TEST(NNSoftmax, Errors) {
  expect_error<IndexError>([] { softmax(zeros({2, 3}), 2); }, {"softmax", "dim 2"});
  expect_error<DTypeError>([] { log_softmax(zeros({2, 3}, DType::I64), 1); }, {"log_softmax"});
}

// ------------------------------------------------------------ cross_entropy

TEST(NNCrossEntropy, WeightedIgnoreIndex2D) {
  Tensor lg = f64({0.5, -1.0, 2.0, 1.5, 0.2, -0.3, 0.0, 0.0, 0.0, -2.0, 1.0, 0.4}, {4, 3});
  Tensor tg = i64({0, 2, -100, 1}, {4});
  Tensor w = f64({0.2, 1.0, 3.0}, {3});
  // F.cross_entropy(lg, tg, weight=w, ignore_index=-100, reduction=r)
  Tensor none = cross_entropy(lg, tg, w, -100, Reduction::None);
  EXPECT_EQ(none.shape(), (Shape{4}));
  expect_near(none, {0.3482622593, 6.489406519, 0.0, 0.4691274358}, 1e-9);
  Tensor sum = cross_entropy(lg, tg, w, -100, Reduction::Sum);
  EXPECT_EQ(sum.dim(), 0);
  EXPECT_NEAR(sum.item(), 7.306796214, 1e-9);
  EXPECT_NEAR(cross_entropy(lg, tg, w).item(), 1.739713384, 1e-9);
  // Mean = sum / (w0 + w2 + w1) = 7.306796214 / 4.2 (hand check of the denominator).
  EXPECT_NEAR(cross_entropy(lg, tg, w).item(), 7.306796214 / 4.2, 1e-9);
  // F.cross_entropy(lg, tg) (no weights: the ignored row is left out of the mean)
  EXPECT_NEAR(cross_entropy(lg, tg).item(), 1.45785808, 1e-8);

  // lg.grad after F.cross_entropy(lg, tg, weight=w).backward()
  Tensor lgr = lg.clone().set_requires_grad();
  cross_entropy(lgr, tg, w).backward();
  expect_near(lgr.grad(), {-0.03927188609, 0.001862503489, 0.0374093826, 0.4967801311,
                           0.1353883799, -0.6321685109, 0.0, 0.0, 0.0, 0.007415284314,
                           -0.08915527122, 0.0817399869}, 1e-9);
}

TEST(NNCrossEntropy, WeightedIgnoreIndex4D) {
  Tensor L = ce4_logits();
  Tensor T = i64({0, 255, 2, 1, 1, 1, 255, 0}, {2, 2, 2});
  Tensor W = f64({0.5, 2.0, 1.5}, {3});
  // F.cross_entropy(L, T, weight=W, ignore_index=255, reduction=r)
  Tensor none = cross_entropy(L, T, W, 255, Reduction::None);
  EXPECT_EQ(none.shape(), (Shape{2, 2, 2}));
  expect_near(none, {1.024240226, 0.0, 0.75188982, 3.96251976, 1.136960905, 1.136960905, 0.0,
                     0.3014275747}, 1e-8);
  EXPECT_NEAR(cross_entropy(L, T, W, 255, Reduction::Sum).item(), 8.313999191, 1e-8);
  EXPECT_NEAR(cross_entropy(L, T, W, 255, Reduction::Mean).item(), 0.9781175518, 1e-9);
  // L.grad after F.cross_entropy(L, T, weight=W, ignore_index=255).backward()
  Tensor Lr = L.clone().set_requires_grad();
  cross_entropy(Lr, T, W, 255).backward();
  expect_near(Lr.grad(), {-0.05123937229, 0.0, 0.04523605037, 0.06031473383, 0.03331679028, 0.0,
                          0.02433448168, -0.2028481421, 0.01792258201, 0.0, -0.06957053205,
                          0.1425334082, 0.03033662849, 0.03033662849, 0.0, -0.02663253343,
                          -0.1020269565, -0.1020269565, 0.0, 0.01731696723, 0.07169032804,
                          0.07169032804, 0.0, 0.009315566198}, 1e-9);
  // float32 gives the same within float rounding.
  Tensor l32 = cross_entropy(L.to(DType::F32), T, W.to(DType::F32), 255);
  EXPECT_EQ(l32.dtype(), DType::F32);
  EXPECT_NEAR(l32.item(), 0.9781175518, 1e-6);
}

TEST(NNCrossEntropy, AllIgnoredMeanIsNaNWithZeroGradient) {
  // torch 1.13: F.cross_entropy(lg, torch.full((4,), -100)) is nan, its
  // reduction="sum" is 0, and lg.grad after backward() is all zeros.
  Tensor lg = leaf({4, 3}, 21);
  Tensor tg = i64({-100, -100, -100, -100}, {4});
  Tensor m = cross_entropy(lg, tg);
  EXPECT_TRUE(std::isnan(m.item()));
  EXPECT_EQ(cross_entropy(lg, tg, Tensor(), -100, Reduction::Sum).item(), 0.0);
  m.backward();
  expect_near(lg.grad(), std::vector<double>(12, 0.0), 0);
}

TEST(NNCrossEntropy, Gradcheck) {
  Tensor W = f64({0.7, 1.3, 2.0}, {3});
  Tensor T4 = i64({0, 7, 2, 1, 7, 2, 1, 1, 0, 7, 2, 0}, {2, 3, 2});  // 7 = ignored pixels
  Tensor L4 = leaf({2, 3, 3, 2}, 22);
  for (Reduction r : {Reduction::None, Reduction::Sum, Reduction::Mean})
    expect_gradcheck(
        [&](const std::vector<Tensor>& in) { return cross_entropy(in[0], T4, W, 7, r); }, {L4});
  // Unweighted [B, K] with a non-contiguous logits view.
  Tensor L2 = leaf({4, 5}, 23);
  Tensor T2 = i64({3, 0, 3, 1, 2}, {5});
  expect_gradcheck(
      [&](const std::vector<Tensor>& in) { return cross_entropy(in[0].transpose(0, 1), T2); },
      {L2});
}

TEST(NNCrossEntropy, LargeInputMatchesANaiveReference) {
  // Big enough for the OpenMP and tiled paths (S = 4096 pixels, tiles of 64):
  // compare every per-pixel loss with a direct double-precision evaluation.
  const int64_t B = 2, K = 5, H = 64, W = 64, S = H * W;
  Generator g(24);
  Tensor L = randn({B, K, H, W}, DType::F32, &g);
  Tensor T = randint(0, K, {B, H, W}, DType::I64, &g);
  Tensor Wt = from_vector({0.5, 1, 2, 3, 0.25}, {K});
  std::vector<double> lv = L.to_vector(), tv = T.to_vector(), got =
      cross_entropy(L, T, Wt, -100, Reduction::None).to_vector();
  const double w[5] = {0.5, 1, 2, 3, 0.25};
  double total = 0, wsum = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t s = 0; s < S; ++s) {
      double z = 0;
      for (int64_t k = 0; k < K; ++k) z += std::exp(lv[(b * K + k) * S + s]);
      int64_t y = static_cast<int64_t>(tv[b * S + s]);
      double want = w[y] * (std::log(z) - lv[(b * K + y) * S + s]);
      total += want;
      wsum += w[y];
      ASSERT_NEAR(got[b * S + s], want, 1e-5 * (1 + want)) << "pixel " << b * S + s;
    }
  EXPECT_NEAR(cross_entropy(L, T, Wt).item(), total / wsum, 1e-5);
}

TEST(NNCrossEntropy, Errors) {
  Tensor lg = zeros({4, 3});
  expect_error<DTypeError>([&] { cross_entropy(lg, zeros({4})); }, {"cross_entropy", "int64"});
  expect_error<ShapeError>([&] { cross_entropy(lg, zeros({5}, DType::I64)); },
                           {"cross_entropy", "[5]", "[4, 3]"});
  expect_error<ShapeError>([&] { cross_entropy(zeros({4, 3, 2}), zeros({4, 2}, DType::I64)); },
                           {"cross_entropy", "[4, 3, 2]"});
  expect_error<IndexError>([&] { cross_entropy(lg, i64({0, 1, 3, 0}, {4})); },
                           {"cross_entropy", "target value 3", "K = 3"});
  expect_error<IndexError>([&] { cross_entropy(lg, i64({0, -1, 2, 0}, {4})); },
                           {"target value -1", "K = 3"});
  expect_error<ShapeError>([&] { cross_entropy(lg, i64({0, 1, 2, 0}, {4}), zeros({4})); },
                           {"weight", "[4]"});
}

// ------------------------------------------------------------ embedding

TEST(NNEmbedding, ForwardPaddingAndRepeatedIndices) {
  Tensor w = arange(0, 8, 1, DType::F64).reshape({4, 2}).detach().set_requires_grad();
  Tensor idx = i64({1, 0, 1, 3}, {2, 2});
  Tensor e = embedding(w, idx, 0);
  EXPECT_EQ(e.shape(), (Shape{2, 2, 2}));
  expect_near(e, {2, 3, 0, 1, 2, 3, 6, 7}, 0);
  e.backward(f64({1, 2, 10, 20, 100, 200, 1000, 2000}, {2, 2, 2}));
  // Row 1 appears twice (1 + 100, 2 + 200); row 0 is padding (no gradient
  // although index 0 is used); row 2 is unused.
  expect_near(w.grad(), {0, 0, 101, 202, 0, 0, 1000, 2000}, 0);
  // Without padding row 0 gets its gradient.
  w.zero_grad();
  embedding(w, idx).backward(f64({1, 2, 10, 20, 100, 200, 1000, 2000}, {2, 2, 2}));
  expect_near(w.grad(), {10, 20, 101, 202, 0, 0, 1000, 2000}, 0);
}

TEST(NNEmbedding, Gradcheck) {
  Tensor w = leaf({5, 3}, 31);
  Tensor idx = i64({4, 0, 4, 2, 2, 2}, {3, 2});
  expect_gradcheck([&](const std::vector<Tensor>& in) { return embedding(in[0], idx); }, {w});
  // padding_idx only drops the padding row's gradient (the forward still
  // reads it), so with padding a row nobody indexes the gradient is exact.
  expect_gradcheck([&](const std::vector<Tensor>& in) { return embedding(in[0], idx, 1); }, {w});
}

TEST(NNEmbedding, BackwardIsDeterministicAcrossThreadCounts) {
  // V * E large enough for the parallel path; many repeated indices.
  Generator g(32);
  Tensor w = randn({300, 64}, DType::F32, &g).set_requires_grad();
  Tensor idx = randint(0, 20, {50, 8}, DType::I64, &g);
  Tensor dout = randn({50, 8, 64}, DType::F32, &g);
  std::vector<std::vector<double>> grads;
  int saved = omp_get_max_threads();
  for (int threads : {1, 2, 3}) {
    omp_set_num_threads(threads);
    w.zero_grad();
    embedding(w, idx, 3).backward(dout);
    grads.push_back(w.grad().to_vector());
  }
  omp_set_num_threads(saved);
  EXPECT_EQ(grads[0], grads[1]);
  EXPECT_EQ(grads[0], grads[2]);
  // Row 3 is padding, rows >= 20 are never indexed: all zero.
  for (int64_t v : {3, 20, 299})
    for (int64_t e = 0; e < 64; ++e) ASSERT_EQ(grads[0][v * 64 + e], 0.0);
  // Row 0 is the sum of the dout rows whose index is 0, in float.
  std::vector<double> iv = idx.to_vector(), dv = dout.to_vector();
  double want = 0;
  for (size_t n = 0; n < iv.size(); ++n)
    if (iv[n] == 0) want += dv[n * 64 + 5];
  EXPECT_NEAR(grads[0][5], want, 1e-4);
}

TEST(NNEmbedding, Errors) {
  Tensor w = zeros({4, 2});
  expect_error<IndexError>([&] { embedding(w, i64({0, 5}, {2})); }, {"embedding", "index 5", "V = 4"});
  expect_error<IndexError>([&] { embedding(w, i64({-1}, {1})); }, {"index -1", "V = 4"});
  expect_error<DTypeError>([&] { embedding(w, zeros({2})); }, {"embedding", "int64"});
  expect_error<ShapeError>([&] { embedding(zeros({4}), i64({0}, {1})); }, {"embedding", "[4]"});
  expect_error<ValueError>([&] { embedding(w, i64({0}, {1}), 4); }, {"padding_idx 4"});
}

// ------------------------------------------------------------ dropout

TEST(NNDropout, DeterministicForASeedAndAdvancesTheGenerator) {
  Tensor x = ones({1000});
  Generator g1(7), g2(7), g3(8);
  Tensor a = dropout(x, 0.4, true, &g1), b = dropout(x, 0.4, true, &g2), c = dropout(x, 0.4, true, &g3);
  EXPECT_EQ(a.to_vector(), b.to_vector());
  EXPECT_NE(a.to_vector(), c.to_vector());
  EXPECT_EQ(g1.offset(), 250u);  // ceil(1000 / 4) Philox blocks
  EXPECT_NE(dropout(x, 0.4, true, &g1).to_vector(), a.to_vector());  // next draw differs
}

TEST(NNDropout, FractionKeptAndExactScale) {
  const double p = 0.3;
  const int64_t n = 1 << 18;
  Generator g(1);
  Tensor y = dropout(ones({n}, DType::F64), p, true, &g);
  std::vector<double> v = y.to_vector();
  int64_t kept = 0;
  for (double e : v) {
    if (e != 0) {
      ++kept;
      EXPECT_EQ(e, 1.0 / (1.0 - p));
    }
  }
  // Binomial std of the fraction: sqrt(0.21 / 2^18) ~ 0.0009; 0.005 is > 5 sigma.
  EXPECT_NEAR(static_cast<double>(kept) / n, 1 - p, 0.005);
  Generator g32(1);
  std::vector<double> v32 = dropout(ones({n}), p, true, &g32).to_vector();
  for (int64_t i = 0; i < n; ++i) {
    EXPECT_EQ(v32[i] != 0, v[i] != 0);  // same keep decisions in float32
    if (v32[i] != 0) {
      ASSERT_EQ(v32[i], static_cast<double>(static_cast<float>(1.0 / (1.0 - p))));
    }
  }
}

TEST(NNDropout, KeepRuleIsThePhiloxContract) {
  // kernels/dropout.h: keep(i) = (philox(first + i/4, seed).v[i%4] >> 8) >= ceil(p * 2^24).
  const double p = 0.25;
  Generator g(99);
  g.take(3);  // start at block 3 to check `first` is honoured
  Tensor m = dropout_mask({37}, p, DType::F64, &g);
  std::vector<double> v = m.to_vector();
  uint32_t threshold = static_cast<uint32_t>(std::ceil(p * 16777216.0));
  for (int64_t i = 0; i < 37; ++i) {
    Philox4 r = philox4x32_10(3 + static_cast<uint64_t>(i / 4), 99);
    bool keep = (r.v[i % 4] >> 8) >= threshold;
    EXPECT_EQ(v[i], keep ? 1.0 / 0.75 : 0.0) << "element " << i;
  }
  EXPECT_EQ(g.offset(), 3u + 10u);
}

TEST(NNDropout, GradientEqualsTheMask) {
  Tensor x = leaf({6, 7}, 41);
  Generator g(5), g2(5);
  Tensor y = dropout(x, 0.5, true, &g);
  Tensor m = dropout_mask({6, 7}, 0.5, DType::F64, &g2);
  std::vector<double> xv = x.to_vector(), yv = y.to_vector(), mv = m.to_vector();
  for (size_t i = 0; i < xv.size(); ++i) EXPECT_EQ(yv[i], xv[i] * mv[i]);
  y.backward(ones({6, 7}, DType::F64));
  EXPECT_EQ(x.grad().to_vector(), mv);
  // gradcheck with a fresh generator of the same seed on every evaluation.
  expect_gradcheck(
      [](const std::vector<Tensor>& in) {
        Generator gen(17);
        return dropout(in[0].transpose(0, 1), 0.3, true, &gen);
      },
      {x});
}

TEST(NNDropout, EvalIdentityAndEdgeCases) {
  Tensor x = leaf({3, 4}, 42);
  Generator g(1);
  Tensor e = dropout(x, 0.5, false, &g);
  EXPECT_EQ(e.raw_data(), x.raw_data());
  EXPECT_EQ(dropout(x, 0.0, true, &g).raw_data(), x.raw_data());
  EXPECT_EQ(g.offset(), 0u);  // neither drew anything
  Tensor z = dropout(x, 1.0, true, &g);
  expect_near(z, std::vector<double>(12, 0.0), 0);
  z.backward(ones({3, 4}, DType::F64));
  expect_near(x.grad(), std::vector<double>(12, 0.0), 0);
  expect_error<ValueError>([&] { dropout(x, 1.5, true); }, {"dropout", "1.5"});
  expect_error<ValueError>([&] { dropout(x, -0.1, false); }, {"dropout", "-0.1"});
  expect_error<ValueError>([&] { dropout_mask({2}, 2.0, DType::F32, nullptr); }, {"dropout_mask"});
  // p = 1 masks are all zero, p = 0 masks all one.
  expect_near(dropout_mask({9}, 1.0, DType::F32, &g), std::vector<double>(9, 0.0), 0);
  expect_near(dropout_mask({9}, 0.0, DType::F32, &g), std::vector<double>(9, 1.0), 0);
}

// ------------------------------------------------------------ cosine_similarity

TEST(NNCosine, ValuesAndTheEpsPath) {
  Tensor a = f64({1, 2, 3, 0, 0, 0}, {2, 3});
  Tensor b = f64({4, 5, 6, 1, 1, 1}, {2, 3});
  // F.cosine_similarity(a, b, dim=1) = [32 / sqrt(14 * 77), 0]; the zero row
  // takes the eps path (|a||b| = 0 < eps): 0 / eps = 0.
  expect_near(cosine_similarity(a, b), {0.9746318462, 0.0}, 1e-10);
  EXPECT_NEAR(cosine_similarity(a, b).to_vector()[0], 32 / std::sqrt(14.0 * 77.0), 1e-15);
  // |a||b| = 1e-10 < eps = 1e-8: the SIRS formula gives a.b / eps = 1e-10 / 1e-8.
  Tensor s = f64({1e-5, 0}, {1, 2});
  EXPECT_NEAR(cosine_similarity(s, s).item(), 0.01, 1e-15);
  // dim 0 with broadcasting: [3, 1] against [3, 2]: each column vs (1, 2, 2).
  Tensor c = f64({1, 2, 2}, {3, 1});
  Tensor d = f64({1, 2, 2, 0, 2, 0}, {3, 2});
  // col 0 = (1, 2, 2): cos = 1; col 1 = (2, 0, 0): 2 / (3 * 2) = 1/3.
  expect_near(cosine_similarity(c, d, 0), {1.0, 1.0 / 3.0}, 1e-15);
  // A zero vector: gradient through the eps path is b / eps.
  Tensor z = zeros({1, 3}, DType::F64).set_requires_grad();
  Tensor q = f64({1e-9, 2e-9, 3e-9}, {1, 3});
  cosine_similarity(z, q).backward(ones({1}, DType::F64));
  expect_near(z.grad(), {0.1, 0.2, 0.3}, 1e-15);
}

TEST(NNCosine, Gradcheck) {
  Tensor a = leaf({4, 1, 8}, 51), b = leaf({1, 5, 8}, 52);
  expect_gradcheck([](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], -1); },
                   {a, b});
  Tensor c = leaf({3, 4}, 53), d = leaf({3, 4}, 54);
  expect_gradcheck([](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], 0); },
                   {c, d});
  // Everything on the eps path (eps larger than every |a||b|).
  expect_gradcheck(
      [](const std::vector<Tensor>& in) { return cosine_similarity(in[0], in[1], 1, 1e3); },
      {c, d});
}

TEST(NNCosine, Errors) {
  expect_error<ShapeError>([] { cosine_similarity(zeros({2, 3}), zeros({4, 3})); },
                           {"cosine_similarity", "[2, 3]", "[4, 3]"});
  expect_error<DTypeError>([] { cosine_similarity(zeros({2, 3}), zeros({2, 3}, DType::F64)); },
                           {"cosine_similarity"});
  expect_error<IndexError>([] { cosine_similarity(zeros({2, 3}), zeros({2, 3}), 2); },
                           {"cosine_similarity"});
}
