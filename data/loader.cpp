// Threaded batch loader: see data/loader.h.
//
// Synchronisation: one mutex guards the epoch state (next batch to claim,
// next batch to deliver) and the map of finished batches. A worker claims
// batch k only while k < delivered + prefetch, which bounds the memory held
// ahead of the consumer. A batch is built outside the lock; when the epoch
// changed meanwhile (start_epoch, destructor) the result is dropped. Workers
// poll the epoch's `cancelled` flag between samples so that abandoning an
// epoch or destroying the loader never waits for more than one sample.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Loader*'
#include "data/loader.h"

#include <algorithm>
#include <atomic>
#include <cstring>

#include "data/image_io.h"
#include "data/mask.h"
#include "data/tokenizer.h"
#include "data/vocab.h"
#include "tensor/error.h"

namespace sirs {

namespace {

constexpr uint64_t kShuffleTag = 0x73687566;  // "shuf"

// Re-raises the current exception with `prefix` prepended, keeping its kind.
[[noreturn]] void rethrow_with_context(const std::string& prefix) {
  try {
    throw;
  } catch (const IOError& e) {
    throw IOError(prefix + e.what());
  } catch (const ValueError& e) {
    throw ValueError(prefix + e.what());
  } catch (const std::exception& e) {
    throw Error(prefix + e.what());
  }
}

}  // namespace

struct Loader::Epoch {
  int64_t epoch = 0;
  std::vector<int64_t> order;
  int64_t num_batches = 0;
  int64_t next_claim = 0;  // guarded by Loader::mu_
  int64_t delivered = 0;   // guarded by Loader::mu_
  std::atomic<bool> cancelled{false};
};

LoaderDataset make_loader_dataset(const PrecompSplit& split, const Vocab& vocab,
                                  const std::vector<int64_t>& images) {
  const int64_t n_img = split.num_images();
  const int64_t cpi = split.captions_per_image;
  SIRS_CHECK(split.num_captions() == n_img * cpi, ValueError, "make_loader_dataset: split '",
             split.split, "' has ", split.num_captions(), " captions for ", n_img, " images x ",
             cpi);
  SIRS_CHECK(int64_t(split.image_paths.size()) == n_img, ValueError, "make_loader_dataset: split '",
             split.split, "' has no image paths (read it with PrecompOptions::image_dir set)");
  std::vector<int64_t> chosen = images;
  if (chosen.empty()) {
    chosen.resize(n_img);
    for (int64_t i = 0; i < n_img; ++i) chosen[i] = i;
  }
  LoaderDataset d;
  const bool masks = !split.mask_paths.empty();
  for (int64_t img : chosen) {
    SIRS_CHECK(img >= 0 && img < n_img, IndexError, "make_loader_dataset: image index ", img,
               " out of range for split '", split.split, "' with ", n_img, " images");
    const int64_t local = int64_t(d.image_paths.size());
    d.image_paths.push_back(split.image_paths[img]);
    if (masks) d.mask_paths.push_back(split.mask_paths[img]);
    d.image_ids.push_back(img);
    for (int64_t j = 0; j < cpi; ++j) {
      LoaderDataset::Sample s;
      s.image = local;
      s.caption_id = img * cpi + j;
      s.tokens = encode_caption(split.captions[s.caption_id], vocab);
      d.samples.push_back(std::move(s));
    }
  }
  return d;
}

Loader::Loader(LoaderDataset data, LoaderOptions opt) : data_(std::move(data)), opt_(opt) {
  opt_.pipeline.validate();
  SIRS_CHECK(opt_.batch_size >= 1, ValueError, "Loader: batch_size must be >= 1, got ",
             opt_.batch_size);
  SIRS_CHECK(opt_.num_workers >= 0, ValueError, "Loader: num_workers must be >= 0, got ",
             opt_.num_workers);
  SIRS_CHECK(opt_.prefetch >= 1, ValueError, "Loader: prefetch must be >= 1, got ", opt_.prefetch);
  const int64_t n_img = int64_t(data_.image_paths.size());
  SIRS_CHECK(data_.mask_paths.empty() || int64_t(data_.mask_paths.size()) == n_img, ValueError,
             "Loader: ", data_.mask_paths.size(), " mask paths for ", n_img, " images");
  if (data_.image_ids.empty()) {
    data_.image_ids.resize(n_img);
    for (int64_t i = 0; i < n_img; ++i) data_.image_ids[i] = i;
  }
  SIRS_CHECK(int64_t(data_.image_ids.size()) == n_img, ValueError,
             "Loader: ", data_.image_ids.size(), " image ids for ", n_img, " images");
  for (size_t i = 0; i < data_.samples.size(); ++i) {
    const auto& s = data_.samples[i];
    SIRS_CHECK(s.image >= 0 && s.image < n_img, ValueError, "Loader: sample ", i, " shows image ",
               s.image, " but there are ", n_img, " images");
    SIRS_CHECK(!s.tokens.empty(), ValueError, "Loader: sample ", i, " (caption ", s.caption_id,
               ") has no token (encode_caption gives {0} for an empty caption)");
  }
  for (int i = 0; i < opt_.num_workers; ++i) workers_.emplace_back([this] { worker_loop(); });
}

Loader::~Loader() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
    if (epoch_) epoch_->cancelled = true;
  }
  work_cv_.notify_all();
  ready_cv_.notify_all();
  for (auto& t : workers_) t.join();
}

int64_t Loader::num_batches() const {
  const int64_t n = num_samples(), b = opt_.batch_size;
  return opt_.drop_last ? n / b : (n + b - 1) / b;
}

std::vector<int64_t> Loader::epoch_order(int64_t epoch) const {
  std::vector<int64_t> order(data_.samples.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = int64_t(i);
  if (opt_.shuffle) {
    RandomStream rng(mix_key(opt_.seed, uint64_t(epoch), kShuffleTag), 0);
    shuffle_in_place(order, rng);
  }
  return order;
}

void Loader::start_epoch(int64_t epoch) {
  auto e = std::make_shared<Epoch>();
  e->epoch = epoch;
  e->order = epoch_order(epoch);
  e->num_batches = num_batches();
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (epoch_) epoch_->cancelled = true;
    epoch_ = e;
    ready_.clear();
  }
  work_cv_.notify_all();
}

Batch Loader::build_batch(int64_t epoch, const std::vector<int64_t>& order, int64_t index) const {
  return build_batch_impl(epoch, order, index, nullptr);
}

Batch Loader::build_batch_impl(int64_t epoch, const std::vector<int64_t>& order, int64_t index,
                               const std::atomic<bool>* cancel) const {
  const int64_t n = int64_t(order.size());
  const int64_t begin = index * opt_.batch_size;
  SIRS_CHECK(index >= 0 && begin < n, IndexError, "Loader::build_batch: batch ", index,
             " out of range for ", n, " samples in batches of ", opt_.batch_size);
  const int64_t B = std::min(opt_.batch_size, n - begin);
  const int64_t S = opt_.pipeline.output_size();
  Batch b;
  b.epoch = epoch;
  b.index = index;
  b.images = empty({B, 3, S, S});
  if (has_masks()) b.masks = empty({B, S, S}, DType::I64);
  int64_t T = 1;
  for (int64_t i = 0; i < B; ++i)
    T = std::max<int64_t>(T, int64_t(data_.samples[order[begin + i]].tokens.size()));
  b.tokens = zeros({B, T}, DType::I64);
  b.lengths = empty({B}, DType::I64);
  float* img_out = b.images.data<float>();
  int64_t* mask_out = has_masks() ? b.masks.data<int64_t>() : nullptr;
  int64_t* tok = b.tokens.data<int64_t>();
  int64_t* len = b.lengths.data<int64_t>();
  for (int64_t i = 0; i < B; ++i) {
    const int64_t si = order[begin + i];
    const LoaderDataset::Sample& s = data_.samples[si];
    b.samples.push_back(si);
    b.image_ids.push_back(data_.image_ids[s.image]);
    b.caption_ids.push_back(s.caption_id);
    std::copy(s.tokens.begin(), s.tokens.end(), tok + i * T);
    len[i] = int64_t(s.tokens.size());
  }
  const bool random = opt_.pipeline.random();
  for (int64_t i = 0; i < B; ++i) {
    if (cancel != nullptr && cancel->load(std::memory_order_relaxed)) break;
    const int64_t si = order[begin + i];
    const LoaderDataset::Sample& s = data_.samples[si];
    const std::string& path = data_.image_paths[s.image];
    try {
      const Image img = read_image_rgb(path);
      Mask mask;
      if (has_masks()) {
        const std::string& mpath = data_.mask_paths[s.image];
        mask = read_mask(mpath);
        check_mask_matches_image(mask, mpath, img.h, img.w, path);
      }
      const Augment aug = random ? draw_augment(opt_.pipeline, opt_.seed, epoch, si) : Augment{};
      run_pipeline(img, has_masks() ? &mask : nullptr, opt_.pipeline, aug, img_out + i * 3 * S * S,
                   mask_out != nullptr ? mask_out + i * S * S : nullptr);
    } catch (...) {
      rethrow_with_context(str_cat("loader: epoch ", epoch, " batch ", index, " sample ", si,
                                   " (caption ", s.caption_id, ", image ", path, "): "));
    }
  }
  return b;
}

void Loader::worker_loop() {
  for (;;) {
    std::shared_ptr<Epoch> e;
    int64_t k = 0;
    {
      std::unique_lock<std::mutex> lock(mu_);
      work_cv_.wait(lock, [&] {
        return stop_ || (epoch_ && !epoch_->cancelled && epoch_->next_claim < epoch_->num_batches &&
                         epoch_->next_claim < epoch_->delivered + opt_.prefetch);
      });
      if (stop_) return;
      e = epoch_;
      k = e->next_claim++;
    }
    Slot slot;
    try {
      slot.batch = build_batch_impl(e->epoch, e->order, k, &e->cancelled);
    } catch (...) {
      slot.error = std::current_exception();
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (e != epoch_ || e->cancelled) continue;
      ready_[k] = std::move(slot);
    }
    ready_cv_.notify_all();
  }
}

bool Loader::next(Batch& batch) {
  std::unique_lock<std::mutex> lock(mu_);
  SIRS_CHECK(epoch_ != nullptr, ValueError, "Loader::next: call start_epoch(epoch) first");
  std::shared_ptr<Epoch> e = epoch_;
  if (e->delivered >= e->num_batches) return false;
  const int64_t k = e->delivered;
  Slot slot;
  if (workers_.empty()) {
    lock.unlock();
    try {
      slot.batch = build_batch(e->epoch, e->order, k);
    } catch (...) {
      slot.error = std::current_exception();
    }
    lock.lock();
  } else {
    ready_cv_.wait(lock, [&] { return ready_.count(k) != 0 || epoch_ != e; });
    SIRS_CHECK(epoch_ == e, ValueError, "Loader::next: the epoch was restarted while waiting");
    slot = std::move(ready_[k]);
    ready_.erase(k);
  }
  ++e->delivered;
  if (slot.error) {
    e->delivered = e->num_batches;  // the epoch ends here
    e->cancelled = true;
    ready_.clear();
    lock.unlock();
    work_cv_.notify_all();
    std::rethrow_exception(slot.error);
  }
  lock.unlock();
  work_cv_.notify_all();
  batch = std::move(slot.batch);
  return true;
}

}  // namespace sirs
