// Model loading and batched embedding for the evaluation commands (see
// apps/eval_common.h).
#include "apps/eval_common.h"

#include "apps/report.h"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "autograd/grad_mode.h"
#include "data/tokenizer.h"
#include "data/transforms.h"
#include "data/vocab.h"
#include "layers/safetensors.h"
#include "models/losses.h"
#include "models/sirs.h"

namespace sirs::app {

namespace {
constexpr std::array<float, 3> kMean = {0.485f, 0.456f, 0.406f};  // ImageNet
constexpr std::array<float, 3> kStd = {0.229f, 0.224f, 0.225f};
}  // namespace

std::shared_ptr<SirsModel> load_model_for_eval(RunConfig& cfg, const std::string& weights) {
  if (cfg.model.vocab_size == 0) {
    SIRS_CHECK(!cfg.vocab_path.empty(), ValueError, "config ", cfg.source,
               ": dataset.vocab_path is needed to size the text encoder");
    Vocab v = Vocab::load_json(cfg.vocab_path);
    cfg.model.vocab_size = v.next_id() - 1;
  }
  auto model = std::make_shared<SirsModel>(cfg.model);
  SafetensorsFile f = load_safetensors(weights);
  std::map<std::string, Tensor> have(f.tensors.begin(), f.tensors.end());
  std::map<std::string, Tensor> state;
  std::vector<std::string> missing;
  for (const auto& [name, t] : model->state_dict()) {
    auto it = have.find(name);
    if (it == have.end())
      missing.push_back(name);
    else
      state[name] = it->second;
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 10; ++i) list += (i ? ", " : "") + missing[i];
    if (missing.size() > 10) list += str_cat(" and ", missing.size() - 10, " more");
    throw IOError(str_cat("checkpoint ", weights, ": ", missing.size(),
                          " model tensors missing (does it match the config's model section?): ",
                          list));
  }
  try {
    model->load_state_dict(state, /*strict=*/false);
  } catch (const Error& e) {
    throw IOError(str_cat("checkpoint ", weights, " does not fit the configured model: ", e.what()));
  }
  model->eval();
  return model;
}

namespace {

// [b, 3, S, S] float32 batch of images[lo, hi).
Tensor image_batch(const std::vector<Image>& imgs, int64_t s) {
  const int64_t b = int64_t(imgs.size());
  Tensor x = empty({b, 3, s, s}, DType::F32);
  float* p = x.data<float>();
  for (int64_t i = 0; i < b; ++i) {
    Image r = imgs[size_t(i)].h == s && imgs[size_t(i)].w == s
                  ? imgs[size_t(i)]
                  : resize_bilinear(imgs[size_t(i)], int(s), int(s));
    to_chw_normalized(r, kMean, kStd, p + i * 3 * s * s);
  }
  return x;
}

}  // namespace

ImageEmbeddings embed_images(SirsModel& model, const std::vector<std::string>& paths,
                             int64_t image_size, int64_t batch, bool want_masks,
                             const ModelMapFn& on_map) {
  NoGradGuard ng;
  ImageEmbeddings out;
  const int64_t n = int64_t(paths.size());
  const auto t0 = std::chrono::steady_clock::now();
  std::vector<std::vector<Tensor>> parts;
  for (int64_t lo = 0; lo < n; lo += batch) {
    const int64_t hi = std::min(n, lo + batch);
    std::vector<Image> imgs;
    for (int64_t i = lo; i < hi; ++i) imgs.push_back(read_image_rgb(paths[size_t(i)]));
    ImageEncoding enc = model.encode_images(image_batch(imgs, image_size));
    if (parts.empty()) parts.resize(enc.image_vecs.size());
    for (size_t k = 0; k < enc.image_vecs.size(); ++k)
      parts[k].push_back(view::contiguous(view::to_dtype(enc.image_vecs[k], DType::F32)));
    if ((want_masks || on_map) && enc.seg_logits.defined()) {
      Tensor lg = view::contiguous(view::to_dtype(enc.seg_logits, DType::F32));
      const int64_t kc = lg.shape()[1], h = lg.shape()[2], w = lg.shape()[3];
      const float* l = lg.data<float>();
      for (int64_t i = 0; i < hi - lo; ++i) {
        ClassMap m;
        m.h = int(h);
        m.w = int(w);
        m.labels.assign(size_t(h * w), 0);
        const float* li = l + i * kc * h * w;
        for (int64_t p = 0; p < h * w; ++p) {
          int64_t best = 0;
          for (int64_t c = 1; c < kc; ++c)
            if (li[c * h * w + p] > li[best * h * w + p]) best = c;
          m.labels[size_t(p)] = uint8_t(best);
        }
        const Image& im = imgs[size_t(i)];
        if (on_map) on_map(lo + i, m, im.h, im.w);
        if (!want_masks) continue;
        if (m.h != im.h || m.w != im.w) m = resize_nearest(m, im.h, im.w);
        out.predicted.push_back(std::move(m));
      }
    }
  }
  for (auto& ps : parts) {
    const int64_t e = ps.front().shape()[1];
    Tensor all = empty({n, e}, DType::F32);
    int64_t row = 0;
    for (const Tensor& t : ps) {
      std::copy(t.data<float>(), t.data<float>() + t.numel(), all.data<float>() + row * e);
      row += t.shape()[0];
    }
    out.vecs.push_back(all);
  }
  out.descriptors = n > 0 ? view::contiguous(image_descriptor(out.vecs)) : Tensor();
  out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

Tensor embed_captions(SirsModel& model, const Vocab& vocab, const std::vector<std::string>& captions,
                      int64_t batch) {
  NoGradGuard ng;
  const int64_t m = int64_t(captions.size());
  std::vector<Tensor> parts;
  int64_t e = 0;
  for (int64_t lo = 0; lo < m; lo += batch) {
    const int64_t hi = std::min(m, lo + batch);
    std::vector<std::vector<int64_t>> ids;
    size_t longest = 1;
    for (int64_t j = lo; j < hi; ++j) {
      ids.push_back(encode_caption(captions[size_t(j)], vocab));
      longest = std::max(longest, ids.back().size());
    }
    std::vector<double> tok(ids.size() * longest, 0.0), len(ids.size());
    for (size_t r = 0; r < ids.size(); ++r) {
      for (size_t c = 0; c < ids[r].size(); ++c) tok[r * longest + c] = double(ids[r][c]);
      len[r] = double(ids[r].size());
    }
    Tensor t = model.encode_text(from_vector(tok, {int64_t(ids.size()), int64_t(longest)}, DType::I64),
                                 from_vector(len, {int64_t(ids.size())}, DType::I64));
    parts.push_back(view::contiguous(view::to_dtype(t, DType::F32)));
    e = parts.back().shape()[1];
  }
  Tensor all = empty({m, e}, DType::F32);
  int64_t row = 0;
  for (const Tensor& t : parts) {
    std::copy(t.data<float>(), t.data<float>() + t.numel(), all.data<float>() + row * e);
    row += t.shape()[0];
  }
  return all;
}

SplitEval evaluate_split(const RunConfig& cfg, SirsModel& model, const std::string& split,
                         int64_t batch, bool keep_masks) {
  SplitEval ev;
  PrecompOptions po;
  po.image_dir = cfg.image_path;
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool masks = cfg.model.decoder && !cfg.mask_path.empty() && fs::is_directory(cfg.mask_path, ec);
  if (masks) po.mask_dir = cfg.mask_path;
  ev.split = read_precomp(cfg.data_path, split, po);
  const Vocab vocab = Vocab::load_json(cfg.vocab_path);
  ConfusionMatrix cm(cfg.model.num_classes);
  ModelMapFn score = nullptr;
  if (masks)
    score = [&](int64_t i, const ClassMap& p, int image_h, int image_w) {
      const std::string& path = ev.split.mask_paths[size_t(i)];
      Mask gt = read_mask(path);
      check_mask_matches_image(gt, path, image_h, image_w, ev.split.image_paths[size_t(i)]);
      if (gt.h != p.h || gt.w != p.w) gt = resize_nearest(gt, p.h, p.w);
      std::vector<int64_t> l(gt.labels.begin(), gt.labels.end()),
          q(p.labels.begin(), p.labels.end());
      cm.add(l.data(), q.data(), int64_t(l.size()));
    };
  ev.images = embed_images(model, ev.split.image_paths, cfg.model.image_size, batch,
                           cfg.model.decoder && keep_masks, score);
  ev.text = embed_captions(model, vocab, ev.split.captions, batch);
  {
    NoGradGuard ng;
    ev.sims = view::contiguous(view::to_dtype(SirsModel::similarity(ev.images.vecs, ev.text), DType::F32));
  }
  ev.retrieval = retrieval_metrics(ev.sims, ev.split.captions_per_image);
  if (masks) {
    ev.seg = segmentation_metrics(cm);
    ev.has_seg = true;
  }
  return ev;
}

std::vector<std::string> list_images(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  SIRS_CHECK(fs::is_directory(dir, ec), IOError, "image folder ", dir, ": not a folder");
  static const std::set<std::string> exts = {".tif", ".tiff", ".png", ".jpg", ".jpeg", ".bmp"};
  std::vector<std::string> names;
  for (const auto& ent : fs::directory_iterator(dir, ec)) {
    if (!ent.is_regular_file()) continue;
    std::string ext = ent.path().extension().string();
    std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    if (exts.count(ext)) names.push_back(ent.path().filename().string());
  }
  SIRS_CHECK(!ec, IOError, "image folder ", dir, ": ", ec.message());
  SIRS_CHECK(!names.empty(), IOError, "image folder ", dir, ": no images (.tif .png .jpg .bmp)");
  std::sort(names.begin(), names.end());
  return names;
}

std::string file_hash(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  SIRS_CHECK(f.good(), IOError, "cannot read ", path);
  uint64_t h = 1469598103934665603ull;
  char buf[65536];
  while (f.read(buf, sizeof buf) || f.gcount() > 0) {
    for (std::streamsize i = 0; i < f.gcount(); ++i) {
      h ^= uint8_t(buf[i]);
      h *= 1099511628211ull;
    }
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}

}  // namespace sirs::app

