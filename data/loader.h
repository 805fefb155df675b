// The threaded batch loader.
//
// One sample = one caption with its image (as the reference: 5 samples per
// image). An epoch visits every sample once, in file order or shuffled from
// (seed, epoch); consecutive runs of batch_size samples form the batches, the
// last one shorter unless drop_last. Each sample's image (and mask) is
// decoded and run through the pipeline (data/pipeline.h) with random
// parameters keyed by (seed, epoch, sample index), so the batches of a seed
// are identical whatever num_workers is and however threads are scheduled.
//
// Threads: num_workers threads each build whole batches (batch k is claimed
// by the next free worker), writing every image straight into its slot of
// the batch tensor. At most `prefetch` batches are built or waiting ahead of
// the consumer (the bounded queue); next() hands them out in batch order.
// With num_workers = 0 batches are built inside next().
//
// Errors: an exception in a worker (unreadable or truncated image, bad mask
// value, mask/image size mismatch) is re-raised by next() when the consumer
// reaches that batch, with the same type (IOError, ValueError, else Error)
// and a message naming the sample and the file; that epoch then ends.
// The destructor stops and joins the workers, also in the middle of an epoch.
// One consumer thread: start_epoch() and next() are not meant to be called
// concurrently with each other.
//
// Usage:
//   Loader loader(make_loader_dataset(split, vocab), opts);
//   for (int64_t e = 0; e < epochs; ++e) {
//     loader.start_epoch(e);
//     Batch b;
//     while (loader.next(b)) { ... b.images [B,3,S,S] ... }
//   }
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Loader*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=loader
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "data/pipeline.h"
#include "data/precomp.h"
#include "tensor/tensor.h"

namespace sirs {

class Vocab;

// What the loader reads: images (with optional masks) and, per sample, the
// image it shows, an id and the caption's token ids.
struct LoaderDataset {
  std::vector<std::string> image_paths;  // [N_img]
  std::vector<std::string> mask_paths;   // [N_img], or empty: no masks
  std::vector<int64_t> image_ids;        // [N_img] ids reported in batches
  struct Sample {
    int64_t image = 0;            // index into image_paths
    int64_t caption_id = 0;       // id reported in batches
    std::vector<int64_t> tokens;  // >= 1 ids (encode_caption gives {0} for an empty caption)
  };
  std::vector<Sample> samples;  // [N]
};

// Every caption of the chosen images of `split` (all images when `images` is
// empty), tokenized with `vocab`. Image ids are indices into the split's
// images and caption ids indices into its captions. Masks are included when
// the split has mask paths.
LoaderDataset make_loader_dataset(const PrecompSplit& split, const Vocab& vocab,
                                  const std::vector<int64_t>& images = {});

struct LoaderOptions {
  int64_t batch_size = 32;
  bool shuffle = true;
  bool drop_last = false;  // false: the last, shorter batch is kept
  uint64_t seed = 0;
  int num_workers = 2;
  int prefetch = 4;  // batches built or ready ahead of the consumer (>= 1)
  PipelineOptions pipeline = PipelineOptions::training();
};

struct Batch {
  Tensor images;                   // [B, 3, S, S] float32, normalised
  Tensor masks;                    // [B, S, S] int64 (255 = ignore); undefined without masks
  Tensor tokens;                   // [B, T] int64, padded with 0, T = longest caption of the batch
  Tensor lengths;                  // [B] int64
  std::vector<int64_t> image_ids;  // [B]
  std::vector<int64_t> caption_ids;  // [B]
  std::vector<int64_t> samples;      // [B] indices into LoaderDataset::samples
  int64_t epoch = 0;
  int64_t index = 0;  // batch number within the epoch
};

class Loader {
 public:
  // ValueError for bad options or an inconsistent dataset (names the field).
  Loader(LoaderDataset data, LoaderOptions opt);
  ~Loader();
  Loader(const Loader&) = delete;
  Loader& operator=(const Loader&) = delete;

  int64_t num_samples() const { return int64_t(data_.samples.size()); }
  int64_t num_batches() const;
  bool has_masks() const { return !data_.mask_paths.empty(); }
  const LoaderOptions& options() const { return opt_; }

  // The order in which `epoch` visits the samples.
  std::vector<int64_t> epoch_order(int64_t epoch) const;

  // Starts producing the batches of `epoch`, abandoning any unfinished one.
  void start_epoch(int64_t epoch);
  // The next batch of the current epoch; false once all were delivered.
  // ValueError when no epoch was started.
  bool next(Batch& batch);

  // Builds batch `index` of `epoch` in the calling thread (what a worker does).
  Batch build_batch(int64_t epoch, const std::vector<int64_t>& order, int64_t index) const;

 private:
  struct Epoch;
  struct Slot {
    Batch batch;
    std::exception_ptr error;
  };
  void worker_loop();
  // Stops early (returning a partial batch) once *cancel is set.
  Batch build_batch_impl(int64_t epoch, const std::vector<int64_t>& order, int64_t index,
                         const std::atomic<bool>* cancel) const;

  LoaderDataset data_;
  LoaderOptions opt_;

  std::mutex mu_;
  std::condition_variable work_cv_;   // workers wait for claimable batches
  std::condition_variable ready_cv_;  // the consumer waits for the next batch
  bool stop_ = false;
  std::shared_ptr<Epoch> epoch_;   // current epoch (null before start_epoch)
  std::map<int64_t, Slot> ready_;  // finished batches of the current epoch
  std::vector<std::thread> workers_;
};

}  // namespace sirs
