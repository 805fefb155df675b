// Evaluation (apps/evaluate.h).
#include "apps/evaluate.h"

#include <algorithm>
#include <chrono>

#include "autograd/grad_mode.h"
#include "autograd/ops.h"
#include "apps/batches.h"
#include "tensor/error.h"

namespace sirs::app {

EvalResult evaluate(SirsModel& model, const PrecompSplit& split, const Vocab& vocab,
                    const std::vector<int64_t>& images, const EvalOptions& opt) {
  SIRS_CHECK(opt.batch_size >= 1, ValueError, "evaluate: batch_size must be >= 1, got ",
             opt.batch_size);
  const auto t0 = std::chrono::steady_clock::now();
  const bool was_training = model.is_training();
  model.eval();
  NoGradGuard no_grad;
  EvalResult res;

  // Image side: one sample per image.
  BatchSourceOptions bo;
  bo.batch_size = opt.batch_size;
  bo.shuffle = false;
  bo.workers = opt.workers;
  bo.augment = false;
  bo.size = int(opt.image_size);
  bo.one_per_image = true;
  BatchSource loader(split, vocab, images, bo);
  const std::vector<std::vector<int64_t>> caps = loader.sample_tokens();
  const int64_t n_cap = int64_t(caps.size());
  const int64_t n_img = loader.num_samples();
  SIRS_CHECK(n_img >= 1, ValueError, "evaluate: split '", split.split, "' has no images");
  const int64_t cpi = n_cap / n_img;
  const bool seg = loader.has_masks() && model.config().decoder;
  res.has_seg = seg;
  ConfusionMatrix cm(model.config().num_classes);
  std::vector<std::vector<Tensor>> vecs;  // [scale][batch]
  std::vector<Tensor> preds;
  loader.start_epoch(0);
  TrainBatch b;
  int64_t done = 0;
  double image_seconds = 0;
  while (loader.next(b)) {
    auto ti = std::chrono::steady_clock::now();
    ImageEncoding enc = model.encode_images(b.images.to(opt.device));
    if (vecs.empty()) vecs.resize(enc.image_vecs.size());
    for (size_t k = 0; k < enc.image_vecs.size(); ++k)
      vecs[k].push_back(enc.image_vecs[k].to(Device::cpu()));
    if (enc.seg_logits.defined() && (seg || opt.keep_predictions)) {
      Tensor p = argmax(enc.seg_logits.to(Device::cpu()), 1);
      if (seg) cm.add(b.masks, p);
      if (opt.keep_predictions) preds.push_back(p);
    }
    image_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - ti).count();
    res.images.insert(res.images.end(), b.image_ids.begin(), b.image_ids.end());
    done += b.images.shape()[0];
    if (opt.on_progress) opt.on_progress(done, n_img);
  }
  std::vector<Tensor> image_vecs;
  for (auto& v : vecs) image_vecs.push_back(cat(v, 0));

  // Text side: captions in order, padded per batch.
  std::vector<Tensor> texts;
  for (int64_t s = 0; s < n_cap; s += opt.batch_size) {
    const int64_t e = std::min(n_cap, s + opt.batch_size);
    int64_t T = 1;
    for (int64_t j = s; j < e; ++j) T = std::max<int64_t>(T, int64_t(caps[size_t(j)].size()));
    std::vector<int64_t> tok(size_t((e - s) * T), 0), len(size_t(e - s));
    for (int64_t j = s; j < e; ++j) {
      const auto& t = caps[size_t(j)];
      std::copy(t.begin(), t.end(), tok.begin() + (j - s) * T);
      len[size_t(j - s)] = int64_t(t.size());
    }
    Tensor tokens = from_data(tok.data(), {e - s, T}, opt.device);
    Tensor lengths = from_data(len.data(), {e - s}, opt.device);
    texts.push_back(model.encode_text(tokens, lengths).to(Device::cpu()));
  }
  Tensor text = cat(texts, 0);
  Tensor sims = SirsModel::similarity(image_vecs, text).to(DType::F32);
  res.retrieval = retrieval_metrics(sims, cpi);
  if (seg) res.seg = segmentation_metrics(cm);
  if (opt.keep_sims) res.sims = sims;
  if (opt.keep_predictions && !preds.empty()) res.predictions = cat(preds, 0);
  model.train(was_training);
  res.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  res.images_per_s = image_seconds > 0 ? double(n_img) / image_seconds : 0;
  return res;
}

}  // namespace sirs::app
