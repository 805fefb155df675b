// The skip-thoughts text encoder (models/text_encoder.h). Tests:
// ./build/sirs_tests --gtest_filter='TextEncoder*'
#include "models/text_encoder.h"

#include "autograd/ops.h"

namespace sirs {

SkipThoughtsUniSkip::SkipThoughtsUniSkip(int64_t vocab_size, int64_t word_dim, int64_t hidden,
                                         double dropout, Generator* gen) {
  SIRS_CHECK(vocab_size > 0, ValueError, "SkipThoughtsUniSkip: vocab_size ", vocab_size,
             " must be positive");
  embedding = register_module(
      "embedding", std::make_shared<Embedding>(vocab_size + 1, word_dim, /*padding_idx=*/0, gen));
  rnn = register_module("rnn", std::make_shared<SkipThoughtsGRU>(word_dim, hidden, dropout, gen));
}

Tensor SkipThoughtsUniSkip::forward(const Tensor& tokens, const Tensor& lengths) {
  SIRS_CHECK(tokens.defined() && tokens.dim() == 2 && tokens.dtype() == DType::I64, ShapeError,
             "SkipThoughtsUniSkip: expected int64 tokens [B, T], got ",
             tokens.defined() ? shape_str(tokens.shape()) + " " + dtype_name(tokens.dtype())
                              : std::string("undefined"));
  return rnn->forward(embedding->forward(tokens), lengths);
}

SkipThoughtsEncoder::SkipThoughtsEncoder(int64_t vocab_size_, int64_t word_dim_, int64_t hidden_,
                                         int64_t embed_dim_, double dropout, Generator* gen)
    : vocab_size(vocab_size_), word_dim(word_dim_), hidden(hidden_), embed_dim(embed_dim_) {
  seq2vec = register_module("seq2vec", std::make_shared<SkipThoughtsUniSkip>(
                                           vocab_size_, word_dim_, hidden_, dropout, gen));
  to_out = register_module("to_out", std::make_shared<Linear>(hidden_, embed_dim_, true, gen));
}

Tensor SkipThoughtsEncoder::forward(const Tensor& tokens, const Tensor& lengths) {
  return relu(to_out->forward(seq2vec->forward(tokens, lengths)));
}

}  // namespace sirs
