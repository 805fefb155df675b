// The skip-thoughts GRU (layers/gru.h): names, a hand-computed two-step run,
// the PyTorch golden (scripts/gen_golden_gru.py) with and without masks,
// gradcheck through time, dropout-mask semantics, misuse errors.
#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <string>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "layers/gru.h"
#include "layers/safetensors.h"
#include "tests/golden_util.h"

using namespace sirs;
using golden::expect_close;

namespace {

std::vector<std::string> names(const NamedTensors& ts) {
  std::vector<std::string> out;
  for (const auto& [k, t] : ts) out.push_back(k);
  return out;
}

void set(const Tensor& p, const std::vector<double>& v) {
  view::copy_into(p.detach(), from_vector(v, p.shape(), p.dtype()));
}

std::map<std::string, Tensor> load_golden() {
  return golden::load("gru", "1", "/usr/bin/python3 scripts/gen_golden_gru.py tests/golden").t;
}

void run_golden_case(const std::string& c, bool with_masks) {
  auto g = load_golden();
  Tensor emb0 = g.at(c + ".emb");
  int64_t E = emb0.size(2), H = g.at(c + ".gru_cell.weight_hr.weight").size(0);
  SkipThoughtsGRU gru(E, H, 0.25);
  NamedTensors state;
  for (auto& [k, t] : g)
    if (k.rfind(c + ".gru_cell.", 0) == 0) state.emplace_back(k.substr(c.size() + 1), t);
  gru.load_state_dict(state);  // strict: the golden names are the module's names
  GRUMasks m;
  if (with_masks) {
    m.ir = g.at(c + ".mask.ir"), m.ii = g.at(c + ".mask.ii"), m.in = g.at(c + ".mask.in");
    m.hr = g.at(c + ".mask.hr"), m.hi = g.at(c + ".mask.hi"), m.hn = g.at(c + ".mask.hn");
  }
  Tensor emb = view::clone(emb0).set_requires_grad();
  Tensor out = gru.forward(emb, g.at(c + ".lengths"), m);
  expect_close(c + ".out", out, g.at(c + ".out"));
  out.backward(g.at(c + ".dout"));
  expect_close(c + ".demb", emb.grad(), g.at(c + ".demb"));
  for (auto& [k, p] : gru.named_parameters())
    expect_close(c + ".grad." + k, p.grad(), g.at(c + ".grad." + k));
}

}  // namespace

TEST(GRU, NamesAndShapes) {
  SkipThoughtsGRU gru(4, 5);
  EXPECT_EQ(names(gru.state_dict()),
            (std::vector<std::string>{"gru_cell.weight_ir.weight", "gru_cell.weight_ir.bias",
                                      "gru_cell.weight_ii.weight", "gru_cell.weight_ii.bias",
                                      "gru_cell.weight_in.weight", "gru_cell.weight_in.bias",
                                      "gru_cell.weight_hr.weight", "gru_cell.weight_hi.weight",
                                      "gru_cell.weight_hn.weight"}));
  EXPECT_EQ(gru.gru_cell->weight_in->weight.shape(), (Shape{5, 4}));
  EXPECT_EQ(gru.gru_cell->weight_hn->weight.shape(), (Shape{5, 5}));
  EXPECT_EQ(gru.num_parameters(), 3 * (5 * 4 + 5) + 3 * 25);
  gru.eval();
  Tensor out = gru.forward(randn({3, 6, 4}), from_vector({6, 1, 3}, {3}, DType::I64));
  EXPECT_EQ(out.shape(), (Shape{3, 5}));
}

// E = H = 1, two steps; values from the equations of DESIGN section 3
// evaluated with Python's math module:
//   step 1 (e = 1, h = 0): z = s(0.5), n = tanh(0.8), h = (1 - z) n
//   step 2 (e = -0.5): r = s(-0.05 - 0.7 h), z = s(-0.25 + 0.2 h),
//                      n = tanh(-0.7 + 0.9 r h), h' = (1 - z) n + z h
TEST(GRU, HandComputedSteps) {
  SkipThoughtsGRU gru(1, 1, 0.25);
  gru.to(DType::F64);
  gru.eval();
  auto& c = *gru.gru_cell;
  set(c.weight_ir->weight, {0.3}), set(c.weight_ir->bias, {0.1});
  set(c.weight_ii->weight, {0.5}), set(c.weight_ii->bias, {0.0});
  set(c.weight_in->weight, {1.0}), set(c.weight_in->bias, {-0.2});
  set(c.weight_hr->weight, {-0.7}), set(c.weight_hi->weight, {0.2});
  set(c.weight_hn->weight, {0.9});
  Tensor emb = from_vector({1.0, -0.5, 1.0, -0.5}, {2, 2, 1}, DType::F64);
  Tensor out = gru.forward(emb, from_vector({1, 2}, {2}, DType::I64));
  std::vector<double> h = out.to_vector();
  EXPECT_NEAR(h[0], 0.2507008863534842, 1e-12);   // sequence 0 stops after step 1
  EXPECT_NEAR(h[1], -0.1823452249789158, 1e-12);  // sequence 1 after step 2
}

TEST(GRU, GoldenEvalMatchesTorch) { run_golden_case("eval", false); }
TEST(GRU, GoldenMasksMatchTorch) { run_golden_case("drop", true); }

TEST(GRU, GradcheckThroughTimeWithMasks) {
  Generator g(31);
  SkipThoughtsGRU gru(4, 5, 0.25, &g);
  gru.to(DType::F64);
  gru.generator = &g;
  Tensor emb = randn({2, 3, 4}, DType::F64, &g).set_requires_grad();
  Tensor lengths = from_vector({3, 2}, {2}, DType::I64);
  GRUMasks m = gru.draw_masks(2, emb);
  std::vector<Tensor> in = {emb};
  for (auto& p : gru.parameters()) in.push_back(p);
  auto r = gradcheck([&](const std::vector<Tensor>& v) { return gru.forward(v[0], lengths, m); },
                     in);
  EXPECT_TRUE(r.ok) << r.report;
  // Without masks (the concatenated-weight path).
  auto r2 = gradcheck(
      [&](const std::vector<Tensor>& v) { return gru.forward(v[0], lengths, GRUMasks{}); }, in);
  EXPECT_TRUE(r2.ok) << r2.report;
}

TEST(GRU, EvalIsDeterministicTrainingDrawsMasksOnce) {
  Generator init(41);
  SkipThoughtsGRU gru(6, 8, 0.25, &init);
  Generator g(42);
  Tensor emb = randn({4, 5, 6}, {}, &g);
  Tensor lengths = from_vector({5, 3, 1, 4}, {4}, DType::I64);
  gru.eval();
  std::vector<double> e1 = gru.forward(emb, lengths).to_vector();
  EXPECT_EQ(gru.forward(emb, lengths).to_vector(), e1);
  EXPECT_EQ(gru.forward(emb, lengths, GRUMasks{}).to_vector(), e1);
  {
    // Without a graph the hidden products run as one concatenated product.
    NoGradGuard no_grad;
    std::vector<double> ng = gru.forward(emb, lengths).to_vector();
    ASSERT_EQ(ng.size(), e1.size());
    for (size_t i = 0; i < ng.size(); ++i) EXPECT_NEAR(ng[i], e1[i], 1e-6) << i;
  }

  gru.train();
  Generator a(7), b(7);
  gru.generator = &a;
  std::vector<double> t1 = gru.forward(emb, lengths).to_vector();
  // Six masks, once per forward (not per step): dropout_mask takes
  // ceil(numel / 4) Philox blocks, 3 * ceil(4*6/4) + 3 * ceil(4*8/4) = 42.
  uint64_t used = a.offset();
  EXPECT_EQ(used, 42u);
  gru.generator = &b;
  std::vector<double> t2 = gru.forward(emb, lengths).to_vector();
  EXPECT_EQ(t1, t2);               // same generator state, same masks
  EXPECT_NE(t1, e1);               // dropout changed something
  // The training forward equals the explicit-mask forward with the same draws.
  Generator c(7);
  gru.generator = &c;
  GRUMasks m = gru.draw_masks(4, emb);
  EXPECT_EQ(gru.forward(emb, lengths, m).to_vector(), t1);
  // p = 0: training draws nothing and equals eval.
  SkipThoughtsGRU nodrop(6, 8, 0.0);
  nodrop.load_state_dict(gru.state_dict());
  Generator d(7);
  nodrop.generator = &d;
  EXPECT_EQ(nodrop.forward(emb, lengths).to_vector(), e1);
  EXPECT_EQ(d.offset(), 0u);
}

// A zero in all three input masks at (b, j) removes input column j of
// sequence b at every step: its gradient is zero at every step, while other
// columns keep a gradient at every step they feed (steps past the length of
// a sequence feed nothing). At step 0 h = 0, so r multiplies W_hn h = 0 and
// the column feeds only through z and n there.
TEST(GRU, ZeroMaskKillsColumnAtEveryStep) {
  const int64_t B = 3, T = 4, E = 16, H = 6;
  Generator init(51);
  SkipThoughtsGRU gru(E, H, 0.5, &init);
  gru.to(DType::F64);
  Generator g(52);
  gru.generator = &g;
  Tensor emb = randn({B, T, E}, DType::F64, &init).set_requires_grad();
  Tensor lengths = from_vector({4, 2, 3}, {B}, DType::I64);
  Generator same(52);
  gru.generator = &same;
  GRUMasks m = gru.draw_masks(B, emb);
  gru.generator = &g;
  sum(gru.forward(emb, lengths)).backward();  // training mode: draws the same masks
  std::vector<double> d = emb.grad().to_vector();
  std::vector<double> ir = m.ir.to_vector(), ii = m.ii.to_vector(), in = m.in.to_vector();
  int killed = 0;
  for (int64_t b = 0; b < B; ++b)
    for (int64_t j = 0; j < E; ++j) {
      bool zn_dead = ii[b * E + j] == 0 && in[b * E + j] == 0;
      bool dead = zn_dead && ir[b * E + j] == 0;
      killed += dead;
      int64_t len = static_cast<int64_t>(lengths.to_vector()[b]);
      for (int64_t t = 0; t < T; ++t) {
        double v = d[(b * T + t) * E + j];
        if (dead || t >= len || (t == 0 && zn_dead))
          EXPECT_EQ(v, 0) << "b " << b << " t " << t << " j " << j;
        else
          EXPECT_NE(v, 0) << "b " << b << " t " << t << " j " << j;
      }
    }
  EXPECT_GT(killed, 0);  // the seed gives at least one fully dropped column
}

TEST(GRU, Errors) {
  SkipThoughtsGRU gru(4, 3);
  Tensor emb = zeros({2, 3, 4});
  EXPECT_THROW(gru.forward(emb, from_vector({0, 2}, {2}, DType::I64)), ValueError);
  EXPECT_THROW(gru.forward(emb, from_vector({4, 2}, {2}, DType::I64)), ValueError);
  EXPECT_THROW(gru.forward(emb, from_vector({3, 2}, {2})), ShapeError);  // float lengths
  EXPECT_THROW(gru.forward(emb, from_vector({3, 2, 1}, {3}, DType::I64)), ShapeError);
  EXPECT_THROW(gru.forward(zeros({2, 3, 5}), from_vector({3, 2}, {2}, DType::I64)), ShapeError);
  GRUMasks bad;
  bad.hr = ones({2, 4});
  EXPECT_THROW(gru.forward(emb, from_vector({3, 2}, {2}, DType::I64), bad), ShapeError);
  EXPECT_THROW(SkipThoughtsGRU(4, 3, 1.0), ValueError);
  try {
    gru.forward(emb, from_vector({5, 2}, {2}, DType::I64));
    FAIL();
  } catch (const ValueError& e) {
    EXPECT_NE(std::string(e.what()).find("[2, 3, 4]"), std::string::npos) << e.what();
  }
}
