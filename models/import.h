// Importing pretrained and reference weights without Python: each function
// returns name -> tensor lists carrying the reference names of DESIGN §6,
// ready for Module::load_state_dict, plus the notices a command line prints.
//
// 1. torchvision ImageNet ResNet-18/-50 (the original .pth, or safetensors
//    with torchvision names): every "<name>" becomes
//    "extract_feature.resnet.<name>" (names that already carry the prefix
//    stay); the classifier "fc.*" is skipped with a notice. The file kind is told by its content (zip = torch.save).
//
// 2. A checkpoint of the PyTorch SIRS code (.pth.tar, torch.save of
//    {'epoch': int, 'model': state_dict, 'best_rsum': ..., ...}): the state
//    dict under 'model' ('state_dict' also accepted), a leading "module."
//    (nn.DataParallel) stripped from every name, and the tensors the
//    reference creates but never uses skipped with a notice listing them:
//    decoder.layer1..4.*, decoder.conv1.*, decoder.smooth*, decoder.conv2.*,
//    decoder.gn2.*, extract_feature.resnet.fc.*.
//
// 3. The skip-thoughts uni-skip release (ryankiros/skip-thoughts, Theano):
//    dictionary.txt (one word per line; the word on line k, 0-based, owns
//    row k of utable), utable.npy [words, E] (E = 620; an object array of
//    per-word arrays shaped [E] or [1, E], or a plain 2-D float array),
//    uni_skip.npz with encoder_W [E, 2H], encoder_b [2H], encoder_U [H, 2H],
//    encoder_Wx [E, H], encoder_bx [H], encoder_Ux [H, H] (H = 2400).
//    Facts this follows:
//    - The Theano GRU computes x W + b and h U with row vectors and slices
//      the 2H columns as [reset r | update u]: r = sigmoid(first H), u =
//      sigmoid(next H), n = tanh(x Wx + bx + r * (h Ux)), h' = u * h +
//      (1 - u) * n. DESIGN §3's z is u.
//    - The reference's BayesianUniSkip (skip-thoughts.torch, used by SIRS)
//      loads W^T[:H] -> gru_cell.weight_ir, W^T[H:] -> weight_ii, Wx^T ->
//      weight_in, b[:H] / b[H:] / bx -> their biases, U^T[:H] -> weight_hr,
//      U^T[H:] -> weight_hi, Ux^T -> weight_hn (Linear layout [out, in]).
//    - Embedding: V+1 rows, row 0 (padding) zero; row of vocabulary id k =
//      the utable row of its word, or of "UNK" when the dictionary lacks the
//      word (the reference counts these and warns). Dictionary lines are
//      stripped of surrounding whitespace, as the reference does.
//    Names: text_feature.seq2vec.embedding.weight [V+1, E],
//    text_feature.seq2vec.rnn.gru_cell.weight_{ir,ii,in}.{weight,bias}
//    ([H, E], [H]), text_feature.seq2vec.rnn.gru_cell.weight_{hr,hi,hn}.weight
//    ([H, H]); float32.
//
// Errors are IOErrors naming the file (and entry or key); a file that reads
// but does not fit (missing key, wrong shape) is a ValueError naming it.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/vocab.h"
#include "layers/module.h"  // NamedTensors
#include "layers/pickle.h"  // PyPtr

namespace sirs {

struct ImportResult {
  NamedTensors tensors;               // reference names, file order
  std::vector<std::string> skipped;   // source names left out
  std::vector<std::string> notices;   // human-readable lines
};

ImportResult import_torchvision_resnet(const std::string& path);

struct ReferenceCheckpoint {
  ImportResult weights;
  int64_t epoch = -1;  // 'epoch' when it is an int, else -1
  PyPtr root;          // the whole saved dict ('best_rsum', 'options', ...)
};
ReferenceCheckpoint load_reference_checkpoint(const std::string& path);

// Is the name one of the reference's unused tensors (see 2. above)?
bool is_unused_reference_tensor(const std::string& name);

struct SkipThoughtsFiles {
  std::string dictionary;  // dictionary.txt
  std::string utable;      // utable.npy
  std::string uni_skip;    // uni_skip.npz
};
// The three files under `dir` with their release names.
SkipThoughtsFiles skipthoughts_files(const std::string& dir);

// Embedding rows for ids 0 .. vocab.next_id()-1 (ids without a word stay
// zero, like row 0). Notices: how many vocabulary words took the UNK row.
ImportResult import_skipthoughts(const SkipThoughtsFiles& files, const Vocab& vocab);

}  // namespace sirs
