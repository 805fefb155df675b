// Weight import (sources, names and facts in models/import.h).
#include "models/import.h"

#include <fstream>
#include <map>
#include <unordered_map>

#include "layers/npz.h"
#include "layers/pth.h"
#include "layers/safetensors.h"
#include "layers/zip.h"

namespace sirs {

namespace {

bool starts_with(const std::string& s, const std::string& p) { return s.compare(0, p.size(), p) == 0; }

std::string join(const std::vector<std::string>& xs) {
  std::string out;
  for (size_t k = 0; k < xs.size(); ++k) out += (k ? ", " : "") + xs[k];
  return out;
}

// [rows, cols] -> its transpose, contiguous float32.
Tensor transposed(const Tensor& t) {
  return view::contiguous(view::permute(view::to_dtype(t, DType::F32), {1, 0}));
}

Tensor rows(const Tensor& t, int64_t start, int64_t n) {
  return view::contiguous(view::narrow(t, 0, start, n));
}

}  // namespace

ImportResult import_torchvision_resnet(const std::string& path) {
  NamedTensors in = is_zip_file(path) ? load_pth(path) : load_safetensors(path).tensors;
  ImportResult r;
  for (auto& kv : in) {
    if (starts_with(kv.first, "fc.")) {
      r.skipped.push_back(kv.first);
      continue;
    }
    const std::string prefix = "extract_feature.resnet.";
    r.tensors.emplace_back(starts_with(kv.first, prefix) ? kv.first : prefix + kv.first, kv.second);
  }
  if (!r.skipped.empty())
    r.notices.push_back(str_cat("skipped the ImageNet classifier (not part of the image encoder): ",
                                join(r.skipped)));
  return r;
}

bool is_unused_reference_tensor(const std::string& n) {
  static const char* kPrefixes[] = {"decoder.layer1.", "decoder.layer2.", "decoder.layer3.",
                                    "decoder.layer4.", "decoder.conv1.",  "decoder.smooth",
                                    "decoder.conv2.",  "decoder.gn2.",    "extract_feature.resnet.fc."};
  for (const char* p : kPrefixes)
    if (starts_with(n, p)) return true;
  return false;
}

ReferenceCheckpoint load_reference_checkpoint(const std::string& path) {
  TorchFile f = load_torch(path);
  const PyValue* root = f.root.get();
  if (!root->is(PyValue::Kind::Dict))
    throw ValueError(str_cat("reference checkpoint '", path, "': the saved object is a ",
                             root->type_name(), ", not a dict with 'model'"));
  const PyValue* model = root->get("model");
  std::string key = "model";
  if (!model) {
    model = root->get("state_dict");
    key = "state_dict";
  }
  if (!model)
    throw ValueError(str_cat("reference checkpoint '", path, "': no 'model' (or 'state_dict') key; keys: ",
                             root->repr(1)));
  ReferenceCheckpoint out;
  out.root = f.root;
  if (const PyValue* e = root->get("epoch"))
    if (e->is(PyValue::Kind::Int)) out.epoch = e->i;
  NamedTensors sd = f.state_dict(model, str_cat("'", key, "'"));
  ImportResult& r = out.weights;
  bool stripped = false;
  for (auto& kv : sd) {
    std::string name = kv.first;
    if (starts_with(name, "module.")) {
      name = name.substr(7);
      stripped = true;
    }
    if (is_unused_reference_tensor(name)) r.skipped.push_back(name);
    else r.tensors.emplace_back(name, kv.second);
  }
  if (stripped) r.notices.push_back("stripped the nn.DataParallel prefix 'module.'");
  if (!r.skipped.empty())
    r.notices.push_back(str_cat("skipped ", r.skipped.size(),
                                " tensors the reference model creates but never uses: ", join(r.skipped)));
  return out;
}

SkipThoughtsFiles skipthoughts_files(const std::string& dir) {
  std::string d = dir.empty() || dir.back() == '/' ? dir : dir + "/";
  return {d + "dictionary.txt", d + "utable.npy", d + "uni_skip.npz"};
}

ImportResult import_skipthoughts(const SkipThoughtsFiles& files, const Vocab& vocab) {
  // dictionary.txt: word -> utable row; a repeated word keeps its last line,
  // as in the reference's dict comprehension.
  std::ifstream df(files.dictionary, std::ios::binary);
  if (!df) throw IOError(str_cat("skip-thoughts dictionary '", files.dictionary, "': cannot open"));
  std::unordered_map<std::string, int64_t> dict;
  std::string line;
  int64_t nlines = 0;
  while (std::getline(df, line)) {
    size_t a = line.find_first_not_of(" \t\r\n\v\f"), b = line.find_last_not_of(" \t\r\n\v\f");
    dict[a == std::string::npos ? "" : line.substr(a, b - a + 1)] = nlines++;
  }
  auto unk = dict.find("UNK");
  if (unk == dict.end())
    throw ValueError(str_cat("skip-thoughts dictionary '", files.dictionary, "' has no 'UNK' word"));

  NpyArray table = read_npy(files.utable);
  int64_t table_rows = table.is_object() ? table.num_objects() : (table.shape().size() == 2 ? table.shape()[0] : -1);
  if (table_rows < 0)
    throw ValueError(str_cat("skip-thoughts table '", files.utable, "': shape ", shape_str(table.shape()),
                             " is neither [words, E] nor an object array"));
  if (table_rows != nlines)
    throw ValueError(str_cat("skip-thoughts table '", files.utable, "' has ", table_rows,
                             " rows, the dictionary '", files.dictionary, "' ", nlines, " words"));
  std::map<int64_t, Tensor> row_cache;
  int64_t E = -1;
  auto table_row = [&](int64_t k) -> Tensor {
    auto it = row_cache.find(k);
    if (it != row_cache.end()) return it->second;
    Tensor row = table.is_object() ? table.object(k) : view::narrow(table.tensor(), 0, k, 1);
    if (!(row.dim() == 1 || (row.dim() == 2 && row.size(0) == 1)))
      throw ValueError(str_cat("skip-thoughts table '", files.utable, "': row ", k, " has shape ",
                               shape_str(row.shape()), ", expected [E] or [1, E]"));
    row = view::to_dtype(view::reshape(row, {row.numel()}), DType::F32);
    if (E < 0) E = row.numel();
    if (row.numel() != E)
      throw ValueError(str_cat("skip-thoughts table '", files.utable, "': row ", k, " has ", row.numel(),
                               " values, earlier rows ", E));
    row_cache.emplace(k, row);
    return row;
  };
  table_row(unk->second);

  std::map<std::string, Tensor> p;
  for (auto& kv : read_npz(files.uni_skip)) {
    if (kv.second.is_object()) continue;
    p[kv.first] = kv.second.tensor();
  }
  auto param = [&](const char* name, const Shape& shape) -> const Tensor& {
    auto it = p.find(name);
    if (it == p.end())
      throw ValueError(str_cat("skip-thoughts weights '", files.uni_skip, "' lack '", name, "'"));
    if (it->second.shape() != shape)
      throw ValueError(str_cat("skip-thoughts weights '", files.uni_skip, "': '", name, "' is ",
                               shape_str(it->second.shape()), ", expected ", shape_str(shape)));
    return it->second;
  };
  auto ux = p.find("encoder_Ux");
  if (ux == p.end() || ux->second.dim() != 2)
    throw ValueError(str_cat("skip-thoughts weights '", files.uni_skip, "' lack a 2-D 'encoder_Ux'"));
  const int64_t H = ux->second.size(0);
  const Tensor& W = param("encoder_W", {E, 2 * H});
  const Tensor& b = param("encoder_b", {2 * H});
  const Tensor& U = param("encoder_U", {H, 2 * H});
  const Tensor& Wx = param("encoder_Wx", {E, H});
  const Tensor& bx = param("encoder_bx", {H});
  const Tensor& Ux = param("encoder_Ux", {H, H});

  // Embedding: row id <- the word's table row (UNK when missing).
  const int64_t V1 = vocab.next_id();
  Tensor emb = zeros({V1, E});
  int64_t n_unknown = 0;
  for (int64_t id = 1; id < V1; ++id) {
    const std::string* word = nullptr;
    try {
      word = &vocab.word(id);
    } catch (const IndexError&) {
      continue;  // a gap in the ids: the row stays zero
    }
    auto it = dict.find(*word);
    if (it == dict.end()) ++n_unknown;
    Tensor row = table_row(it == dict.end() ? unk->second : it->second);
    view::copy_into(view::narrow(emb, 0, id, 1), view::reshape(row, {1, E}));
  }

  ImportResult r;
  const std::string g = "text_feature.seq2vec.rnn.gru_cell.";
  Tensor Wt = transposed(W), Ut = transposed(U), bf = view::to_dtype(b, DType::F32);
  r.tensors = {
      {"text_feature.seq2vec.embedding.weight", emb},
      {g + "weight_ir.weight", rows(Wt, 0, H)},
      {g + "weight_ir.bias", rows(bf, 0, H)},
      {g + "weight_ii.weight", rows(Wt, H, H)},
      {g + "weight_ii.bias", rows(bf, H, H)},
      {g + "weight_in.weight", transposed(Wx)},
      {g + "weight_in.bias", view::contiguous(view::to_dtype(bx, DType::F32))},
      {g + "weight_hr.weight", rows(Ut, 0, H)},
      {g + "weight_hi.weight", rows(Ut, H, H)},
      {g + "weight_hn.weight", transposed(Ux)},
  };
  if (n_unknown > 0)
    r.notices.push_back(str_cat(n_unknown, " of ", vocab.size(),
                                " vocabulary words are not in the skip-thoughts dictionary and take the UNK row"));
  return r;
}

}  // namespace sirs
