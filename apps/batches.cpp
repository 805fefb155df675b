// BatchSource (apps/batches.h).
#include "apps/batches.h"

#include "data/class_weights.h"
#include "data/loader.h"
#include "tensor/error.h"

namespace sirs::app {

struct BatchSource::Impl {
  std::unique_ptr<Loader> loader;
  std::vector<std::vector<int64_t>> tokens;
};

BatchSource::BatchSource(const PrecompSplit& split, const Vocab& vocab,
                         const std::vector<int64_t>& images, const BatchSourceOptions& opt)
    : impl_(std::make_unique<Impl>()) {
  LoaderDataset d = make_loader_dataset(split, vocab, images);
  for (const auto& s : d.samples) impl_->tokens.push_back(s.tokens);
  if (opt.one_per_image) {
    std::vector<LoaderDataset::Sample> one;
    int64_t last = -1;
    for (const auto& s : d.samples)
      if (s.image != last) {
        one.push_back(s);
        last = s.image;
      }
    d.samples = std::move(one);
  }
  LoaderOptions lo;
  lo.batch_size = opt.batch_size;
  lo.shuffle = opt.shuffle;
  lo.seed = opt.seed;
  lo.num_workers = opt.workers;
  lo.pipeline = opt.augment ? PipelineOptions::training(opt.resize, opt.size, opt.max_rotation)
                            : PipelineOptions::evaluation(opt.size);
  impl_->loader = std::make_unique<Loader>(std::move(d), lo);
}

BatchSource::~BatchSource() = default;
int64_t BatchSource::num_batches() const { return impl_->loader->num_batches(); }
int64_t BatchSource::num_samples() const { return impl_->loader->num_samples(); }
bool BatchSource::has_masks() const { return impl_->loader->has_masks(); }
void BatchSource::start_epoch(int64_t epoch) { impl_->loader->start_epoch(epoch); }
std::vector<std::vector<int64_t>> BatchSource::sample_tokens() const { return impl_->tokens; }

bool BatchSource::next(TrainBatch& out) {
  Batch b;
  if (!impl_->loader->next(b)) return false;
  out.images = b.images;
  out.masks = b.masks;
  out.tokens = b.tokens;
  out.lengths = b.lengths;
  out.caption_ids = b.caption_ids;
  out.image_ids = b.image_ids;
  out.index = b.index;
  return true;
}

Tensor class_weights_for(const PrecompSplit& split, const std::vector<int64_t>& images,
                         int64_t num_classes) {
  SIRS_CHECK(!split.mask_paths.empty(), ValueError, "class weights: split '", split.split,
             "' has no masks");
  std::vector<std::string> paths;
  if (images.empty()) {
    paths = split.mask_paths;
  } else {
    for (int64_t i : images) paths.push_back(split.mask_paths[size_t(i)]);
  }
  std::vector<float> w = class_weights_from_masks(paths, num_classes);
  return from_data(w.data(), {int64_t(w.size())});
}

}  // namespace sirs::app
