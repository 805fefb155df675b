// The skip-thoughts text encoder (models/text_encoder.h): reference names and
// sizes, padding, composition, gradients, errors.
#include <gtest/gtest.h>

#include "autograd/gradcheck.h"
#include "autograd/ops.h"
#include "models/text_encoder.h"

using namespace sirs;

namespace {

std::vector<std::string> names(const NamedTensors& ts) {
  std::vector<std::string> out;
  for (const auto& [k, t] : ts) out.push_back(k);
  return out;
}

}  // namespace

TEST(TextEncoder, ReferenceNamesAndDefaultSizes) {
  Generator g(1);
  SkipThoughtsEncoder enc(10, 620, 2400, 512, 0.25, &g);
  // shared/DESIGN.md section 6 without the "text_feature." prefix.
  EXPECT_EQ(names(enc.state_dict()),
            (std::vector<std::string>{
                "seq2vec.embedding.weight", "seq2vec.rnn.gru_cell.weight_ir.weight",
                "seq2vec.rnn.gru_cell.weight_ir.bias", "seq2vec.rnn.gru_cell.weight_ii.weight",
                "seq2vec.rnn.gru_cell.weight_ii.bias", "seq2vec.rnn.gru_cell.weight_in.weight",
                "seq2vec.rnn.gru_cell.weight_in.bias", "seq2vec.rnn.gru_cell.weight_hr.weight",
                "seq2vec.rnn.gru_cell.weight_hi.weight", "seq2vec.rnn.gru_cell.weight_hn.weight",
                "to_out.weight", "to_out.bias"}));
  // Embedding(len(vocab) + 1, 620): 11 rows for 10 words.
  EXPECT_EQ(enc.seq2vec->embedding->weight.shape(), (Shape{11, 620}));
  EXPECT_EQ(enc.seq2vec->rnn->gru_cell->weight_ii->weight.shape(), (Shape{2400, 620}));
  EXPECT_EQ(enc.seq2vec->rnn->gru_cell->weight_hn->weight.shape(), (Shape{2400, 2400}));
  EXPECT_EQ(enc.to_out->weight.shape(), (Shape{512, 2400}));
  // 11*620 + 3*(2400*620 + 2400) + 3*2400^2 + 2400*512 + 512
  EXPECT_EQ(enc.num_parameters(), 22987332);
}

TEST(TextEncoder, ShapesPaddingAndComposition) {
  Generator g(2);
  SkipThoughtsEncoder enc(10, 6, 8, 5, 0.25, &g);
  enc.eval();
  std::vector<double> w = enc.seq2vec->embedding->weight.to_vector();
  for (int j = 0; j < 6; ++j) EXPECT_EQ(w[j], 0);  // padding row 0
  Tensor tokens = from_vector({3, 1, 4, 1, 5, 9, 0, 0, 2, 6, 5, 0}, {3, 4}, DType::I64);
  Tensor lengths = from_vector({4, 2, 3}, {3}, DType::I64);
  Tensor t = enc.forward(tokens, lengths);
  EXPECT_EQ(t.shape(), (Shape{3, 5}));
  for (double v : t.to_vector()) EXPECT_GE(v, 0);  // ReLU
  // Tokens past a caption's length do not change its vector.
  Tensor other = from_vector({3, 1, 4, 1, 5, 9, 7, 8, 2, 6, 5, 10}, {3, 4}, DType::I64);
  EXPECT_EQ(enc.forward(other, lengths).to_vector(), t.to_vector());
  // The composition relu(to_out(rnn(embedding(tokens)))).
  Tensor h = enc.seq2vec->rnn->forward(enc.seq2vec->embedding->forward(tokens), lengths);
  EXPECT_EQ(relu(enc.to_out->forward(h)).to_vector(), t.to_vector());
  // A different caption gives a different vector.
  Tensor t2 = enc.forward(from_vector({3, 1, 4, 2}, {1, 4}, DType::I64),
                          from_vector({4}, {1}, DType::I64));
  std::vector<double> a = t.to_vector(), b = t2.to_vector();
  EXPECT_NE(std::vector<double>(a.begin(), a.begin() + 5), b);
}

TEST(TextEncoder, GradientsReachUsedRowsOnly) {
  Generator g(3);
  SkipThoughtsEncoder enc(6, 4, 5, 3, 0.25, &g);
  enc.to(DType::F64);
  enc.seq2vec->rnn->generator = &g;
  // Bias to_out positive so that ReLU passes everything (away from its kink).
  view::fill(enc.to_out->bias.detach(), 10.0);
  Tensor tokens = from_vector({1, 2, 0, 4, 4, 6}, {2, 3}, DType::I64);
  Tensor lengths = from_vector({2, 3}, {2}, DType::I64);
  sum(enc.forward(tokens, lengths)).backward();
  std::vector<double> d = enc.seq2vec->embedding->weight.grad().to_vector();
  auto row_nonzero = [&](int r) {
    bool any = false;
    for (int j = 0; j < 4; ++j) any |= d[r * 4 + j] != 0;
    return any;
  };
  EXPECT_FALSE(row_nonzero(0));  // padding
  EXPECT_TRUE(row_nonzero(1));
  EXPECT_TRUE(row_nonzero(2));
  EXPECT_FALSE(row_nonzero(3));  // unused
  EXPECT_TRUE(row_nonzero(4));
  EXPECT_FALSE(row_nonzero(5));  // unused
  EXPECT_TRUE(row_nonzero(6));
  for (auto& [k, p] : enc.named_parameters()) EXPECT_TRUE(p.grad().defined()) << k;

  // gradcheck of every parameter in eval (deterministic, no masks).
  enc.eval();
  std::vector<Tensor> ps = enc.parameters();
  auto r = gradcheck([&](const std::vector<Tensor>&) { return enc.forward(tokens, lengths); }, ps);
  EXPECT_TRUE(r.ok) << r.report;
}

TEST(TextEncoder, Errors) {
  SkipThoughtsEncoder enc(5, 4, 3, 2);
  Tensor lengths = from_vector({2}, {1}, DType::I64);
  EXPECT_THROW(enc.forward(from_vector({1, 2}, {1, 2}), lengths), ShapeError);  // float ids
  EXPECT_THROW(enc.forward(from_vector({1, 2, 3}, {3}, DType::I64), lengths), ShapeError);
  EXPECT_THROW(enc.forward(from_vector({1, 6}, {1, 2}, DType::I64), lengths), IndexError);
  EXPECT_THROW(enc.forward(from_vector({1, 2}, {1, 2}, DType::I64),
                           from_vector({3}, {1}, DType::I64)),
               ValueError);
  EXPECT_THROW(SkipThoughtsEncoder(0), ValueError);
}
