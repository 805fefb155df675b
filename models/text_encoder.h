// The SIRS text encoder: skip-thoughts uni-skip ("BayesianUniSkip") followed
// by a Linear + ReLU (shared/DESIGN.md section 3).
//
//   tokens int64 [B, T] (0 = padding), lengths int64 [B]
//   e = seq2vec.embedding(tokens)           [B, T, word_dim], row 0 zero, no gradient
//   h = seq2vec.rnn(e, lengths)             [B, hidden] (layers/gru.h)
//   t = relu(to_out(h))                     [B, embed_dim]
//
// Names (the SIRS model registers this module as "text_feature"):
//   seq2vec.embedding.weight                [vocab_size + 1, word_dim]
//   seq2vec.rnn.gru_cell.weight_{ir,ii,in}.{weight,bias}
//   seq2vec.rnn.gru_cell.weight_{hr,hi,hn}.weight
//   to_out.weight, to_out.bias
//
// vocab_size is the number of words of the vocabulary (ids 1..vocab_size);
// the embedding has vocab_size + 1 rows because the reference builds
// nn.Embedding(len(vocab) + 1, 620, padding_idx=0): row 0 is padding.
#pragma once

#include <cstdint>
#include <memory>

#include "layers/gru.h"
#include "layers/layers.h"

namespace sirs {

// The reference's "seq2vec" (skip-thoughts uni-skip): embedding + GRU.
class SkipThoughtsUniSkip : public Module {
 public:
  SkipThoughtsUniSkip(int64_t vocab_size, int64_t word_dim, int64_t hidden, double dropout,
                      Generator* gen = nullptr);
  Tensor forward(const Tensor& tokens, const Tensor& lengths);
  std::shared_ptr<Embedding> embedding;
  std::shared_ptr<SkipThoughtsGRU> rnn;
};

class SkipThoughtsEncoder : public Module {
 public:
  SkipThoughtsEncoder(int64_t vocab_size, int64_t word_dim = 620, int64_t hidden = 2400,
                      int64_t embed_dim = 512, double dropout = 0.25, Generator* gen = nullptr);
  // tokens int64 [B, T] with ids in [0, vocab_size]; lengths int64 [B] in [1, T]
  // -> [B, embed_dim].
  Tensor forward(const Tensor& tokens, const Tensor& lengths);
  std::shared_ptr<SkipThoughtsUniSkip> seq2vec;
  std::shared_ptr<Linear> to_out;
  int64_t vocab_size, word_dim, hidden, embed_dim;
};

}  // namespace sirs
