// The skip-thoughts GRU (layers/gru.h): equations, masks and costs are in the
// header. Tests: ./build/sirs_tests --gtest_filter='GRU*'; bench:
// OMP_WAIT_POLICY=passive ./build/sirs_bench --benchmark_filter=GRU
#include "layers/gru.h"

#include <algorithm>
#include <vector>

#include "autograd/ops.h"

namespace sirs {

SkipThoughtsGRUCell::SkipThoughtsGRUCell(int64_t word_dim, int64_t hidden, Generator* gen) {
  weight_ir = register_module("weight_ir", std::make_shared<Linear>(word_dim, hidden, true, gen));
  weight_ii = register_module("weight_ii", std::make_shared<Linear>(word_dim, hidden, true, gen));
  weight_in = register_module("weight_in", std::make_shared<Linear>(word_dim, hidden, true, gen));
  weight_hr = register_module("weight_hr", std::make_shared<Linear>(hidden, hidden, false, gen));
  weight_hi = register_module("weight_hi", std::make_shared<Linear>(hidden, hidden, false, gen));
  weight_hn = register_module("weight_hn", std::make_shared<Linear>(hidden, hidden, false, gen));
}

SkipThoughtsGRU::SkipThoughtsGRU(int64_t word_dim_, int64_t hidden_, double dropout_,
                                 Generator* gen)
    : word_dim(word_dim_), hidden(hidden_), dropout(dropout_) {
  SIRS_CHECK(word_dim_ > 0 && hidden_ > 0, ValueError, "SkipThoughtsGRU: bad sizes word_dim ",
             word_dim_, " hidden ", hidden_);
  SIRS_CHECK(dropout_ >= 0 && dropout_ < 1, ValueError, "SkipThoughtsGRU: dropout ", dropout_,
             " outside [0, 1)");
  gru_cell = register_module("gru_cell", std::make_shared<SkipThoughtsGRUCell>(word_dim_, hidden_, gen));
}

GRUMasks SkipThoughtsGRU::draw_masks(int64_t B, const Tensor& like) {
  Options o(like.dtype(), like.device());
  GRUMasks m;
  m.ir = dropout_mask({B, word_dim}, dropout, o, generator);
  m.ii = dropout_mask({B, word_dim}, dropout, o, generator);
  m.in = dropout_mask({B, word_dim}, dropout, o, generator);
  m.hr = dropout_mask({B, hidden}, dropout, o, generator);
  m.hi = dropout_mask({B, hidden}, dropout, o, generator);
  m.hn = dropout_mask({B, hidden}, dropout, o, generator);
  return m;
}

Tensor SkipThoughtsGRU::forward(const Tensor& emb, const Tensor& lengths) {
  if (is_training() && dropout > 0) {
    SIRS_CHECK(emb.defined() && emb.dim() == 3, ShapeError,
               "SkipThoughtsGRU: expected emb [B, T, ", word_dim, "], got ",
               emb.defined() ? shape_str(emb.shape()) : std::string("undefined"));
    return forward(emb, lengths, draw_masks(emb.size(0), emb));
  }
  return forward(emb, lengths, GRUMasks{});
}

namespace {

void check_mask(const Tensor& m, const char* name, int64_t B, int64_t D) {
  if (!m.defined()) return;
  SIRS_CHECK(m.shape() == (Shape{B, D}), ShapeError, "SkipThoughtsGRU: mask ", name,
             " must be [", B, ", ", D, "], got ", shape_str(m.shape()));
}

// x * m, or x when there is no mask.
Tensor masked(const Tensor& x, const Tensor& m) { return m.defined() ? mul(x, m) : x; }

}  // namespace

Tensor SkipThoughtsGRU::forward(const Tensor& emb, const Tensor& lengths, const GRUMasks& masks) {
  SIRS_CHECK(emb.defined() && emb.dim() == 3 && emb.size(2) == word_dim && emb.size(1) > 0,
             ShapeError, "SkipThoughtsGRU: expected emb [B, T, ", word_dim, "] with T > 0, got ",
             emb.defined() ? shape_str(emb.shape()) : std::string("undefined"));
  const int64_t B = emb.size(0), T = emb.size(1), H = hidden;
  SIRS_CHECK(lengths.defined() && lengths.dtype() == DType::I64 && lengths.shape() == Shape{B},
             ShapeError, "SkipThoughtsGRU: lengths must be int64 [", B, "], got ",
             lengths.defined() ? shape_str(lengths.shape()) + " " + dtype_name(lengths.dtype())
                               : std::string("undefined"));
  std::vector<double> len = lengths.to_vector();
  int64_t steps = 0;
  for (int64_t b = 0; b < B; ++b) {
    SIRS_CHECK(len[b] >= 1 && len[b] <= T, ValueError, "SkipThoughtsGRU: length ", len[b],
               " of sequence ", b, " outside [1, ", T, "] for emb ", shape_str(emb.shape()));
    steps = std::max(steps, static_cast<int64_t>(len[b]));
  }
  check_mask(masks.ir, "ir", B, word_dim);
  check_mask(masks.ii, "ii", B, word_dim);
  check_mask(masks.in, "in", B, word_dim);
  check_mask(masks.hr, "hr", B, H);
  check_mask(masks.hi, "hi", B, H);
  check_mask(masks.hn, "hn", B, H);

  const SkipThoughtsGRUCell& c = *gru_cell;
  // Time-major [steps, B, E] so that each step's projection is a contiguous
  // [B, H] block of [steps, B, H]. One product per gate: each gate's input
  // has its own mask.
  Tensor x = emb.narrow(1, 0, steps).transpose(0, 1).contiguous();
  Tensor xr = linear(masked(x, masks.ir), c.weight_ir->weight, c.weight_ir->bias);
  Tensor xz = linear(masked(x, masks.ii), c.weight_ii->weight, c.weight_ii->bias);
  Tensor xn = linear(masked(x, masks.in), c.weight_in->weight, c.weight_in->bias);
  // The steps as views, one node per gate whose backward assembles the
  // [steps, B, H] gradient once (select() per step would build a full-size
  // gradient at every step: O(steps^2) memory traffic).
  std::vector<Tensor> xr_t = gru_unbind(xr), xz_t = gru_unbind(xz), xn_t = gru_unbind(xn);
  // Without hidden masks the three hidden products share their input and can
  // be one [B, H] x [H, 3H] product per step. Only without a graph, though:
  // with one, the per-step gradients of the concatenated weight would be
  // summed as fresh [3H, H] tensors at every step, while separate products
  // accumulate in place into each leaf's gradient.
  const bool hidden_masks = masks.hr.defined() || masks.hi.defined() || masks.hn.defined();
  const bool fuse_hidden = !hidden_masks && !GradMode::enabled();
  Tensor whh;  // [3H, H]
  if (fuse_hidden) whh = cat({c.weight_hr->weight, c.weight_hi->weight, c.weight_hn->weight}, 0);

  Tensor h = zeros({B, H}, Options(emb.dtype(), emb.device()));
  std::vector<Tensor> hs;
  hs.reserve(static_cast<size_t>(steps));
  for (int64_t t = 0; t < steps; ++t) {
    Tensor hr, hz, hn;  // [B, H]
    if (fuse_hidden) {
      Tensor g = linear(h, whh);  // [B, 3H]
      hr = g.narrow(1, 0, H), hz = g.narrow(1, H, H), hn = g.narrow(1, 2 * H, H);
    } else {
      hr = linear(masked(h, masks.hr), c.weight_hr->weight);
      hz = linear(masked(h, masks.hi), c.weight_hi->weight);
      hn = linear(masked(h, masks.hn), c.weight_hn->weight);
    }
    h = sirs::gru_cell(xr_t[t], xz_t[t], xn_t[t], hr, hz, hn, h);
    hs.push_back(h);
  }
  // Row (length_b - 1) * B + b of the stacked states [steps * B, H].
  std::vector<double> pick(static_cast<size_t>(B));
  for (int64_t b = 0; b < B; ++b) pick[b] = (len[b] - 1) * static_cast<double>(B) + b;
  Tensor index = from_vector(pick, {B}, Options(DType::I64, emb.device()));
  return index_select(stack(hs, 0).reshape({steps * B, H}), 0, index);
}

}  // namespace sirs
