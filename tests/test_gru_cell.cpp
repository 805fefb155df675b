// The gru family (autograd/gru.h): gru_cell values and gradients of one
// step against PyTorch, gradcheck of every input (contiguous and strided,
// all or some requiring grad), the inference path, gru_unbind's gradient,
// the skip-thoughts GRU layer against the same layer written with plain
// ops (the step loop it had before gru_cell), the backward's node count
// not growing with T, and misuse errors.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "layers/gru.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;

namespace {

constexpr const char* kInputNames[] = {"gi_r", "gi_z", "gi_n", "gh_r", "gh_z", "gh_n", "h"};

Tensor cell(const std::vector<Tensor>& v) { return gru_cell(v[0], v[1], v[2], v[3], v[4], v[5], v[6]); }

// The seven operands [B, H] as float64 leaves, each from its own seed.
std::vector<Tensor> leaves(int64_t B, int64_t H, uint64_t seed) {
  std::vector<Tensor> v;
  for (uint64_t k = 0; k < 7; ++k) v.push_back(leaf({B, H}, seed + k));
  return v;
}

void expect_vec_near(const Tensor& got, const std::vector<double>& want, double tol,
                     const std::string& what) {
  std::vector<double> g = got.to_vector();
  ASSERT_EQ(g.size(), want.size()) << what;
  for (size_t i = 0; i < g.size(); ++i) EXPECT_NEAR(g[i], want[i], tol) << what << " element " << i;
}

void expect_same(const Tensor& got, const Tensor& want, double tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_TRUE(want.defined()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  expect_vec_near(got, want.to_vector(), tol, what);
}

// x * m, or x when there is no mask.
Tensor masked(const Tensor& x, const Tensor& m) { return m.defined() ? mul(x, m) : x; }

// The skip-thoughts GRU (layers/gru.h) written with plain ops and a
// per-step select, as the layer computed it before gru_cell: the reference
// the fused layer must reproduce.
Tensor composed_gru(const SkipThoughtsGRU& gru, const Tensor& emb, const Tensor& lengths,
                    const GRUMasks& m) {
  const SkipThoughtsGRUCell& c = *gru.gru_cell;
  const int64_t B = emb.size(0), H = gru.hidden;
  std::vector<double> len = lengths.to_vector();
  const int64_t steps = static_cast<int64_t>(*std::max_element(len.begin(), len.end()));
  Tensor x = emb.narrow(1, 0, steps).transpose(0, 1).contiguous();
  Tensor xr = linear(masked(x, m.ir), c.weight_ir->weight, c.weight_ir->bias);
  Tensor xz = linear(masked(x, m.ii), c.weight_ii->weight, c.weight_ii->bias);
  Tensor xn = linear(masked(x, m.in), c.weight_in->weight, c.weight_in->bias);
  Tensor h = zeros({B, H}, Options(emb.dtype()));
  std::vector<Tensor> hs;
  for (int64_t t = 0; t < steps; ++t) {
    Tensor hr = linear(masked(h, m.hr), c.weight_hr->weight);
    Tensor hz = linear(masked(h, m.hi), c.weight_hi->weight);
    Tensor hn = linear(masked(h, m.hn), c.weight_hn->weight);
    Tensor r = sigmoid(add(xr.select(0, t), hr));
    Tensor z = sigmoid(add(xz.select(0, t), hz));
    Tensor n = tanh(add(xn.select(0, t), mul(r, hn)));
    h = add(mul(rsub(1.0, z), n), mul(z, h));
    hs.push_back(h);
  }
  std::vector<double> pick(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) pick[b] = (len[b] - 1) * static_cast<double>(B) + b;
  return index_select(stack(hs, 0).reshape({steps * B, H}), 0, from_vector(pick, {B}, DType::I64));
}

// Forward and every gradient (emb and the nine parameters) of the fused
// layer against composed_gru, with the same upstream gradient.
void expect_layer_matches_composition(DType dt, bool with_masks, double tol) {
  const int64_t B = 4, T = 5, E = 7, H = 6;
  Generator init(71);
  SkipThoughtsGRU gru(E, H, 0.25, &init);
  gru.to(dt);
  Generator g(72);
  gru.generator = &g;
  Tensor emb0 = randn({B, T, E}, dt, &g);
  Tensor lengths = from_vector({5, 2, 1, 4}, {B}, DType::I64);  // max 5: every step runs
  GRUMasks m = with_masks ? gru.draw_masks(B, emb0) : GRUMasks{};
  Tensor dout = randn({B, H}, dt, &g);

  Tensor e1 = view::clone(emb0).set_requires_grad();
  Tensor out1 = gru.forward(e1, lengths, m);
  out1.backward(dout);
  std::vector<Tensor> grads1;
  for (auto& p : gru.parameters()) grads1.push_back(p.grad());
  gru.zero_grad();

  Tensor e2 = view::clone(emb0).set_requires_grad();
  Tensor out2 = composed_gru(gru, e2, lengths, m);
  out2.backward(dout);
  std::vector<Tensor> params = gru.parameters();

  const std::string tag = std::string(dtype_name(dt)) + (with_masks ? " masks" : " no masks");
  expect_same(out1, out2, tol, tag + " out");
  expect_same(e1.grad(), e2.grad(), tol, tag + " demb");
  auto named = gru.named_parameters();
  for (size_t k = 0; k < params.size(); ++k)
    expect_same(grads1[k], params[k].grad(), tol, tag + " d" + named[k].first);
}

int64_t profiled_calls(const std::vector<profiler::Entry>& table, const std::string& op) {
  for (const auto& e : table)
    if (e.op == op) return e.calls;
  return 0;
}

}  // namespace

// One step, two elements; expected values from torch 1.13 autograd in
// float64 on the same numbers (the formula of kernels/gru.h written with
// torch.sigmoid / torch.tanh), upstream gradient [1, -2].
TEST(GruCell, OneStepMatchesTorch) {
  std::vector<std::vector<double>> vals = {{0.5, -1.0},   {0.1, 2.0},  {-0.2, 0.7}, {-0.25, 0.4},
                                           {0.3, -0.5},   {0.8, -1.5}, {0.6, -0.3}};
  std::vector<Tensor> in;
  for (const auto& v : vals) in.push_back(f64(v, {1, 2}).set_requires_grad());
  Tensor out = cell(in);
  expect_vec_near(out, {0.45740384204199225, -0.21482404540938976}, 1e-15, "h'");
  out.backward(f64({1.0, -2.0}, {1, 2}));
  const std::vector<std::vector<double>> want = {
      {0.0742906226788566, 0.1217201638838083},    // gi_r
      {0.08537056014890523, 0.13927537291742342},  // gi_z
      {0.37728736027009946, -0.3546869127024156},  // gi_n
      {0.0742906226788566, 0.1217201638838083},    // gh_r
      {0.08537056014890523, 0.13927537291742342},  // gh_z
      {0.21210208802508398, -0.12568107078034277}, // gh_n
      {0.598687660112452, -1.6351489523872873}};   // h
  for (size_t k = 0; k < 7; ++k)
    expect_vec_near(in[k].grad(), want[k], 1e-15, std::string("d") + kInputNames[k]);
  // The same in float32, within float rounding.
  std::vector<Tensor> in32;
  for (const auto& v : vals) in32.push_back(from_vector(v, {1, 2}, DType::F32));
  expect_vec_near(cell(in32), {0.45740384204199225, -0.21482404540938976}, 1e-6, "h' float32");
}

TEST(GruCell, GradcheckEveryInput) {
  auto r = gradcheck(cell, leaves(3, 5, 11));
  EXPECT_TRUE(r.ok) << r.report;
}

// Each input alone requiring grad (the others constants), and h alone not
// requiring grad (the first step of a GRU, h = 0).
TEST(GruCell, GradcheckSubsetsOfInputs) {
  for (int k = 0; k < 7; ++k) {
    std::vector<Tensor> v = leaves(2, 4, 21);
    for (int j = 0; j < 7; ++j)
      if (j != k) v[j] = v[j].detach();
    auto r = gradcheck(cell, v);
    EXPECT_TRUE(r.ok) << kInputNames[k] << " alone: " << r.report;
  }
  std::vector<Tensor> v = leaves(2, 4, 31);
  v[6] = zeros({2, 4}, Options(DType::F64));
  Tensor out = cell(v);
  ASSERT_TRUE(out.requires_grad());
  out.backward(ones({2, 4}, Options(DType::F64)));
  EXPECT_FALSE(v[6].grad().defined());
  auto r = gradcheck(cell, v);
  EXPECT_TRUE(r.ok) << r.report;
}

// Strided operands (transposed views, and [B, H] column blocks of a
// [B, 3H] product as the layer's inference path passes them).
TEST(GruCell, GradcheckNonContiguousInputs) {
  // gi_r, gi_z, gi_n, h stored [H, B] = [5, 3] and passed transposed; the
  // three gh_* are column blocks of one [B, 3H] = [3, 15] tensor.
  std::vector<Tensor> in = {leaf({5, 3}, 41), leaf({5, 3}, 42), leaf({5, 3}, 43),
                            leaf({5, 3}, 44), leaf({3, 15}, 45)};
  auto fn = [](const std::vector<Tensor>& v) {
    return gru_cell(v[0].transpose(0, 1), v[1].transpose(0, 1), v[2].transpose(0, 1),
                    v[4].narrow(1, 0, 5), v[4].narrow(1, 5, 5), v[4].narrow(1, 10, 5),
                    v[3].transpose(0, 1));
  };
  auto r = gradcheck(fn, in);
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(GruCell, InferenceRecordsNothingAndMatches) {
  std::vector<Tensor> v = leaves(3, 4, 51);
  Tensor with_graph = cell(v);
  NoGradGuard no_grad;
  Tensor plain = cell(v);
  EXPECT_FALSE(plain.requires_grad());
  EXPECT_EQ(plain.to_vector(), with_graph.to_vector());
}

// The three hidden-side inputs and h enter a GRU step through matrix
// products; gradients reach them all and match the composed ops exactly in
// float64 up to rounding.
TEST(GruCell, MatchesComposedOps) {
  for (DType dt : {DType::F64, DType::F32}) {
    Generator g(61);
    std::vector<Tensor> a, b;
    for (int k = 0; k < 7; ++k) {
      Tensor t = randn({4, 9}, dt, &g);
      a.push_back(view::clone(t).set_requires_grad());
      b.push_back(view::clone(t).set_requires_grad());
    }
    Tensor dout = randn({4, 9}, dt, &g);
    Tensor fused = cell(a);
    Tensor r = sigmoid(add(b[0], b[3])), z = sigmoid(add(b[1], b[4]));
    Tensor n = tanh(add(b[2], mul(r, b[5])));
    Tensor plain = add(mul(rsub(1.0, z), n), mul(z, b[6]));
    fused.backward(dout);
    plain.backward(dout);
    const double tol = dt == DType::F64 ? 1e-14 : 1e-6;
    expect_same(fused, plain, tol, std::string(dtype_name(dt)) + " h'");
    for (int k = 0; k < 7; ++k)
      expect_same(a[k].grad(), b[k].grad(), tol,
                  std::string(dtype_name(dt)) + " d" + kInputNames[k]);
  }
}

TEST(GruCell, UnbindViewsAndGradient) {
  Tensor x = leaf({4, 2, 3}, 81);
  std::vector<Tensor> s = gru_unbind(x);
  ASSERT_EQ(s.size(), 4u);
  for (int64_t t = 0; t < 4; ++t) {
    EXPECT_EQ(s[t].shape(), (Shape{2, 3}));
    EXPECT_EQ(s[t].to_vector(), x.detach().select(0, t).to_vector());
  }
  // Steps 0 and 2 get no gradient: their rows of dx are zeros.
  add(sum(mul(s[1], 2.0)), sum(s[3])).backward();
  std::vector<double> d = x.grad().to_vector();
  for (int64_t i = 0; i < 24; ++i) {
    int64_t t = i / 6;
    EXPECT_EQ(d[i], t == 1 ? 2.0 : t == 3 ? 1.0 : 0.0) << i;
  }
  auto r = gradcheck(
      [](const std::vector<Tensor>& v) {
        std::vector<Tensor> st = gru_unbind(v[0]);
        return stack({mul(st[2], st[0]), st[1]}, 0);
      },
      {leaf({3, 2, 5}, 82)});
  EXPECT_TRUE(r.ok) << r.report;
  // A strided input (time not the outermost stored dim).
  Tensor y = leaf({2, 4, 3}, 83);
  std::vector<Tensor> ys = gru_unbind(y.transpose(0, 1));
  sum(mul(ys[3], ys[3])).backward();
  std::vector<double> dy = y.grad().to_vector(), yv = y.detach().to_vector();
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t t = 0; t < 4; ++t)
      for (int64_t j = 0; j < 3; ++j) {
        int64_t i = (b * 4 + t) * 3 + j;
        EXPECT_EQ(dy[i], t == 3 ? 2 * yv[i] : 0.0) << i;
      }
}

TEST(GruCell, LayerMatchesComposedOps) {
  expect_layer_matches_composition(DType::F64, true, 1e-12);
  expect_layer_matches_composition(DType::F64, false, 1e-12);
  expect_layer_matches_composition(DType::F32, true, 2e-5);
}

// The layer's backward does the same number of view backwards (narrow,
// slice) whatever T is: the steps come from gru_unbind, not select.
TEST(GruCell, LayerGraphHasNoPerStepSelect) {
  auto calls = [](int64_t T) {
    Generator g(91);
    SkipThoughtsGRU gru(5, 4, 0.25, &g);
    gru.to(DType::F64);
    Tensor emb = randn({3, T, 5}, DType::F64, &g).set_requires_grad();
    Tensor lengths = full({3}, static_cast<double>(T), Options(DType::I64));
    profiler::set_enabled(true);
    profiler::reset();
    sum(gru.forward(emb, lengths, gru.draw_masks(3, emb))).backward();
    profiler::set_enabled(false);
    auto table = profiler::table();
    return std::vector<int64_t>{profiled_calls(table, "narrow backward"),
                                profiled_calls(table, "slice backward"),
                                profiled_calls(table, "gru_unbind backward"),
                                profiled_calls(table, "gru_cell backward")};
  };
  std::vector<int64_t> c3 = calls(3), c9 = calls(9);
  EXPECT_EQ(c3[0], c9[0]) << "narrow backward";
  EXPECT_EQ(c3[1], c9[1]) << "slice backward";
  EXPECT_EQ(c3[2], 3);
  EXPECT_EQ(c9[2], 3);
  EXPECT_EQ(c3[3], 3);
  EXPECT_EQ(c9[3], 9);
}

TEST(GruCell, Errors) {
  std::vector<Tensor> v = leaves(2, 3, 101);
  std::vector<Tensor> bad = v;
  bad[4] = leaf({2, 4}, 1);
  EXPECT_THROW(cell(bad), ShapeError);
  bad = v;
  bad[1] = v[1].detach().to(DType::F32);
  EXPECT_THROW(cell(bad), DTypeError);
  bad = v;
  bad[5] = Tensor();
  EXPECT_THROW(cell(bad), ValueError);
  bad = v;
  for (auto& t : bad) t = t.detach().reshape({6});
  EXPECT_THROW(cell(bad), ShapeError);
  std::vector<Tensor> ints;
  for (int k = 0; k < 7; ++k) ints.push_back(zeros({2, 3}, Options(DType::I64)));
  EXPECT_THROW(cell(ints), DTypeError);
  EXPECT_THROW(gru_unbind(zeros({0, 3})), ShapeError);
  try {
    bad = v;
    bad[3] = leaf({3, 3}, 2);
    cell(bad);
    FAIL();
  } catch (const ShapeError& e) {
    EXPECT_NE(std::string(e.what()).find("gh_r"), std::string::npos) << e.what();
  }
}
