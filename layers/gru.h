// The skip-thoughts uni-skip GRU with sequential (per-sequence) dropout:
// the "BayesianGRU" of the reference's skipthoughts package
// (shared/DESIGN.md section 3).
//
// For an embedded batch e [B, T, E] and h_0 = 0, step t computes
//   r = sigmoid(W_ir (e_t * m_ir) + b_ir + W_hr (h * m_hr))
//   z = sigmoid(W_ii (e_t * m_ii) + b_ii + W_hi (h * m_hi))
//   n = tanh   (W_in (e_t * m_in) + b_in + r * (W_hn (h * m_hn)))
//   h' = (1 - z) * n + z * h          (the undropped h)
// The six masks m (0 or 1 / (1 - p)), [B, E] for the inputs and [B, H] for the
// hidden state, are drawn once per forward (one sequence batch) and reused
// at every step; in eval there are none. The reference applies them the same
// way: each gate's input and hidden state pass their own dropout before the
// gate's Linear, and the update uses the undropped h.
//
// Names (PyTorch): gru_cell.weight_{ir,ii,in}.{weight,bias} (Linear E -> H
// with bias) and gru_cell.weight_{hr,hi,hn}.weight (Linear H -> H, no bias).
// "i" is the update gate z in the reference's naming.
//
// Cost: the input projections of all T steps are one [T*B, E] x [E, H]
// product per gate, before the time loop; each step then does three
// [B, H] x [H, H] products (one on the concatenated weights when there are no
// hidden masks and no graph is recorded) and one fused gate op, gru_cell
// (autograd/gru.h). Backward through time is the autograd graph; the steps
// of the input projections are gru_unbind views, so it costs O(T).
#pragma once

#include <cstdint>
#include <memory>

#include "layers/layers.h"
#include "layers/module.h"

namespace sirs {

// Dropout masks for one forward: ir, ii, in [B, E]; hr, hi, hn [B, H]; each
// holds 0 or 1 / (1 - p) (any values are accepted when passed by hand). An
// undefined mask means "no dropout on that input".
struct GRUMasks {
  Tensor ir, ii, in, hr, hi, hn;
};

// The six Linear projections (module "gru_cell").
class SkipThoughtsGRUCell : public Module {
 public:
  SkipThoughtsGRUCell(int64_t word_dim, int64_t hidden, Generator* gen = nullptr);
  std::shared_ptr<Linear> weight_ir, weight_ii, weight_in;  // E -> H, bias
  std::shared_ptr<Linear> weight_hr, weight_hi, weight_hn;  // H -> H, no bias
};

class SkipThoughtsGRU : public Module {
 public:
  SkipThoughtsGRU(int64_t word_dim, int64_t hidden, double dropout = 0.25,
                  Generator* gen = nullptr);

  // emb [B, T, E] (float32/float64), lengths int64 [B] with 1 <= length <= T
  // -> [B, H]: h after step length - 1 of each sequence. Runs max(lengths)
  // steps. In training with dropout > 0 it draws six fresh masks from
  // `generator` (in the order ir, ii, in, hr, hi, hn); in eval it uses none.
  Tensor forward(const Tensor& emb, const Tensor& lengths);
  // The same with the given masks, in either mode (tests, gradcheck).
  Tensor forward(const Tensor& emb, const Tensor& lengths, const GRUMasks& masks);

  // The masks training mode would use for a batch of B, with dtype and
  // device of `like` (draws from `generator`).
  GRUMasks draw_masks(int64_t B, const Tensor& like);

  std::shared_ptr<SkipThoughtsGRUCell> gru_cell;
  int64_t word_dim, hidden;
  double dropout;
  Generator* generator = nullptr;  // mask stream; the default generator when null
};

}  // namespace sirs
