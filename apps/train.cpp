// The training run (apps/train.h).
#include "apps/train.h"

#include <omp.h>
#include <sys/stat.h>

#include <chrono>
#include <cmath>
#include <cstdarg>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "apps/batches.h"
#include "apps/checkpoint.h"
#include "apps/evaluate.h"
#include "apps/progress.h"
#include "autograd/grad_mode.h"
#include "data/precomp.h"
#include "data/splits.h"
#include "data/vocab.h"
#include "layers/optim.h"
#include "layers/safetensors.h"
#include "models/sirs.h"
#include "tensor/error.h"
#include "tensor/random.h"

extern "C" void openblas_set_num_threads(int);

namespace sirs::app {
namespace {

using json = nlohmann::json;

void make_dirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || path[i] == '/') {
      if (!cur.empty() && cur != "/") {
        if (::mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST)
          throw IOError(str_cat("cannot create folder '", cur, "': ", std::strerror(errno)));
      }
    }
    if (i < path.size()) cur += path[i];
  }
}

bool file_exists(const std::string& p) {
  struct stat st;
  return ::stat(p.c_str(), &st) == 0;
}

// 64-bit mixing for per-fold seeds (splitmix64 finaliser).
uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Text log + JSONL metrics of one fold; messages also go to the terminal.
class RunLog {
 public:
  RunLog(const std::string& dir, Progress& progress, bool append)
      : progress_(progress),
        text_(dir + "/train.log", append ? std::ios::app : std::ios::trunc),
        jsonl_(dir + "/metrics.jsonl", append ? std::ios::app : std::ios::trunc) {
    SIRS_CHECK(text_.good() && jsonl_.good(), IOError, "cannot write the logs in '", dir, "'");
  }
  void say(const std::string& line) {
    progress_.note(line);
    text_ << line << "\n";
    text_.flush();
  }
  void quiet(const std::string& line) {
    text_ << line << "\n";
    text_.flush();
  }
  void record(const json& j) {
    jsonl_ << j.dump() << "\n";
    jsonl_.flush();
  }

 private:
  Progress& progress_;
  std::ofstream text_, jsonl_;
};

std::string fmt(const char* f, ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, f);
  std::vsnprintf(buf, sizeof buf, f, ap);
  va_end(ap);
  return buf;
}

json metrics_json(const EvalResult& r) {
  const RetrievalMetrics& m = r.retrieval;
  json j = {{"r1i", m.r1i},   {"r5i", m.r5i},       {"r10i", m.r10i},       {"medri", m.medri},
            {"meanri", m.meanri}, {"r1t", m.r1t}, {"r5t", m.r5t},         {"r10t", m.r10t},
            {"medrt", m.medrt}, {"meanrt", m.meanrt}, {"mR", m.mR},
            {"n_images", m.n_images}, {"n_captions", m.n_captions}};
  if (r.has_seg)
    j["seg"] = {{"Acc", r.seg.Acc},     {"Acc_class", r.seg.Acc_class}, {"mIoU", r.seg.mIoU},
                {"FWIoU", r.seg.FWIoU}, {"F1", r.seg.F1}};
  return j;
}

// Mean of each numeric metric (nested one level for "seg") over a list.
json mean_metrics(const std::vector<json>& list) {
  json out = json::object();
  if (list.empty()) return out;
  std::map<std::string, double> sum, seg;
  for (const json& j : list) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.value().is_number()) sum[it.key()] += it.value().get<double>();
      if (it.key() == "seg")
        for (auto s = it.value().begin(); s != it.value().end(); ++s)
          seg[s.key()] += s.value().get<double>();
    }
  }
  const double n = double(list.size());
  for (auto& [k, v] : sum) out[k] = v / n;
  if (!seg.empty()) {
    json s = json::object();
    for (auto& [k, v] : seg) s[k] = v / n;
    out["seg"] = s;
  }
  return out;
}

struct FoldOutcome {
  int status = kTrainOk;
  json evals = json::array();
};

FoldOutcome train_fold(const RunConfig& cfg, const TrainOptions& opt, int64_t fold,
                       const std::string& fold_dir, const std::string& resume_path,
                       const PrecompSplit& train_split, const PrecompSplit* test_split,
                       const Vocab& vocab, Progress& progress) {
  FoldOutcome outcome;
  const bool resuming = !resume_path.empty();
  make_dirs(fold_dir);
  save_config(cfg, fold_dir + "/config.yaml");
  RunLog log(fold_dir, progress, resuming);
  const Device device = cfg.device == "cuda" ? Device::cuda() : Device::cpu();

  // Split.
  std::vector<int64_t> train_images, val_images;
  const PrecompSplit* val_split = &train_split;
  SplitMode mode = parse_split_mode(cfg.data_split);
  if (mode == SplitMode::kAll) {
    for (int64_t i = 0; i < train_split.num_images(); ++i) train_images.push_back(i);
    val_split = test_split;
  } else {
    ImageSplit s = split_images(train_split.image_names, mode, cfg.seed, fold, cfg.train_fraction);
    train_images = s.train;
    val_images = s.val;
    if (val_images.empty()) val_split = nullptr;
  }
  SIRS_CHECK(!train_images.empty(), ValueError, cfg.source, ": fold ", fold,
             " has no training images (dataset.data_split ", cfg.data_split, ")");

  // Model.
  SirsConfig mc = cfg.model;
  mc.vocab_size = vocab.next_id() - 1;
  Generator init_gen(mix(cfg.seed, uint64_t(fold)));
  SirsModel model(mc, &init_gen);
  if (!cfg.init.empty() && !resuming) {
    std::vector<std::string> notices;
    NamedTensors w = load_init_weights(cfg.init, &notices);
    for (const std::string& n : notices) log.say("model.init: " + n);
    StateDictReport rep = model.load_state_dict(w, false);
    log.say(fmt("model.init: loaded %s (%zu missing, %zu unexpected names)", cfg.init.c_str(),
                rep.missing.size(), rep.unexpected.size()));
  }
  if (!device.is_cpu()) model.to(device);
  model.train();
  manual_seed(mix(cfg.seed ^ 0xD5A7u, uint64_t(fold)));  // dropout stream
  AdamOptions ao;
  ao.lr = cfg.lr;
  Adam adam(model.parameters(), ao);

  CheckpointMeta meta;
  meta.fold = fold;
  meta.config_hash = cfg.hash;
  if (resuming) {
    meta = load_checkpoint(resume_path, model, &adam);
    SIRS_CHECK(meta.fold == fold, ValueError, "checkpoint '", resume_path, "' is of fold ",
               meta.fold, ", not ", fold);
    if (meta.config_hash != cfg.hash)
      log.say(fmt("warning: %s was written under a different configuration (hash %s, now %s)",
                  resume_path.c_str(), meta.config_hash.c_str(), cfg.hash.c_str()));
    meta.config_hash = cfg.hash;
    default_generator().set_state(meta.rng_seed, meta.rng_offset);
    try {
      outcome.evals = json::parse(meta.evals);
    } catch (const std::exception&) {
      outcome.evals = json::array();
    }
    log.say(fmt("resuming fold %lld from %s: epoch %lld, batch %lld, step %lld",
                (long long)fold, resume_path.c_str(), (long long)meta.epoch, (long long)meta.batch,
                (long long)meta.step));
  }

  // Data.
  BatchSourceOptions bo;
  bo.batch_size = cfg.batch_size;
  bo.shuffle = cfg.shuffle;
  bo.seed = mix(cfg.seed, uint64_t(fold));
  bo.workers = cfg.workers;
  bo.augment = cfg.augment;
  bo.resize = cfg.augment ? cfg.resize : int(mc.image_size);
  bo.size = int(mc.image_size);
  bo.max_rotation = cfg.max_rotation;
  BatchSource source(train_split, vocab, train_images, bo);
  Tensor class_weights;
  if (source.has_masks() && mc.decoder) {
    class_weights = class_weights_for(train_split, train_images, mc.num_classes);
    if (!device.is_cpu()) class_weights = class_weights.to(device);
  }
  const int64_t nb = source.num_batches();
  log.say(fmt("fold %lld: %lld training images (%lld captions, %lld batches of %lld), "
              "%lld validation images; %lld parameters; device %s",
              (long long)fold, (long long)train_images.size(), (long long)source.num_samples(),
              (long long)nb, (long long)cfg.batch_size,
              (long long)(val_split == nullptr ? 0
                          : (val_split == test_split ? test_split->num_images()
                                                     : int64_t(val_images.size()))),
              (long long)model.num_parameters(), cfg.device.c_str()));

  const std::string last_path = fold_dir + "/last.safetensors";
  const std::string best_path = fold_dir + "/best.safetensors";
  auto save = [&](const std::string& path) {
    meta.rng_seed = default_generator().seed();
    meta.rng_offset = default_generator().offset();
    meta.evals = outcome.evals.dump();
    save_checkpoint(path, model, &adam, meta);
  };

  for (int64_t e = meta.epoch; e < cfg.epochs; ++e) {
    adam.set_lr(epoch_lr(cfg, e));
    source.start_epoch(e);
    const int64_t first = meta.epoch == e ? meta.batch : 0;
    progress.begin_epoch(fmt("fold %lld epoch %lld/%lld", (long long)fold, (long long)(e + 1),
                             (long long)cfg.epochs),
                         nb, nb * (cfg.epochs - e - 1), first);
    TrainBatch b;
    for (int64_t skip = 0; skip < first && source.next(b); ++skip) {
    }
    double sum_loss = 0, sum_ss = 0, sum_ir = 0;
    int64_t counted = 0, images_seen = 0;
    const auto t_epoch = std::chrono::steady_clock::now();
    int64_t done = first;
    while (source.next(b)) {
      const auto t0 = std::chrono::steady_clock::now();
      const int64_t B = b.images.shape()[0];
      done = b.index + 1;
      if (B < 2) {
        log.quiet(fmt("epoch %lld: skipped the last batch of %lld caption (the triplet loss needs 2)",
                      (long long)e, (long long)B));
      } else {
        Tensor images = b.images.to(device), tokens = b.tokens.to(device),
               lengths = b.lengths.to(device);
        Tensor masks = b.masks.defined() ? b.masks.to(device) : Tensor();
        SirsOutput out = model.forward(images, tokens, lengths);
        SirsLoss loss = sirs_loss(out, mc.decoder ? masks : Tensor(), class_weights,
                                  cfg.loss_weight, cfg.margin, cfg.max_violation);
        const double total = loss.total.item();
        const double ss = loss.ss.defined() ? loss.ss.item() : NAN;
        const double ir = loss.ir.item();
        if (!std::isfinite(total)) {
          log.say(fmt("error: the loss is %s at fold %lld epoch %lld batch %lld (step %lld; "
                      "loss_ss %g, loss_ir %g, lr %g): stopping. Nothing was saved for this "
                      "epoch; the last good checkpoint is %s",
                      std::isnan(total) ? "NaN" : "infinite", (long long)fold, (long long)e,
                      (long long)b.index, (long long)meta.step, ss, ir, adam.lr(),
                      file_exists(last_path) ? last_path.c_str() : "(none yet)"));
          log.record({{"type", "error"}, {"fold", fold}, {"epoch", e}, {"batch", b.index},
                      {"step", meta.step}, {"error", "non-finite loss"}});
          outcome.status = kTrainFailed;
          return outcome;
        }
        loss.total.backward();
        double gnorm = NAN;
        if (cfg.grad_clip > 0) gnorm = clip_grad_norm_(adam.params(), cfg.grad_clip);
        adam.step();
        adam.zero_grad();
        ++meta.step;
        const double dt =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        sum_loss += total;
        sum_ir += ir;
        if (std::isfinite(ss)) sum_ss += ss;
        ++counted;
        images_seen += B;
        const double ips = dt > 0 ? double(B) / dt : 0;
        json rec = {{"type", "step"}, {"fold", fold},     {"epoch", e},      {"batch", b.index},
                    {"step", meta.step}, {"lr", adam.lr()}, {"loss", total}, {"loss_ir", ir},
                    {"images_per_s", ips}, {"seconds", dt}};
        if (std::isfinite(ss)) rec["loss_ss"] = ss;
        if (std::isfinite(gnorm)) rec["grad_norm"] = gnorm;
        log.record(rec);
        std::string parts = std::isfinite(ss) ? fmt("loss %.4f ss %.4f ir %.4f", total, ss, ir)
                                              : fmt("loss %.4f ir %.4f", total, ir);
        progress.step(done, parts, ips);
        if ((b.index + 1) % cfg.print_freq == 0)
          log.quiet(fmt("fold %lld epoch %lld batch %lld/%lld step %lld lr %.3g %s %.1f img/s",
                        (long long)fold, (long long)e, (long long)(b.index + 1), (long long)nb,
                        (long long)meta.step, adam.lr(), parts.c_str(), ips));
      }
      if (opt.stop != nullptr && opt.stop->load()) {
        meta.epoch = e;
        meta.batch = done;
        if (done >= nb) {
          meta.epoch = e + 1;
          meta.batch = 0;
        }
        save(last_path);
        log.say(fmt("interrupted: checkpoint written to %s (epoch %lld, batch %lld); "
                    "continue with --resume %s",
                    last_path.c_str(), (long long)meta.epoch, (long long)meta.batch,
                    last_path.c_str()));
        outcome.status = kTrainInterrupted;
        return outcome;
      }
    }
    const double epoch_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t_epoch).count();
    const double n = counted > 0 ? double(counted) : 1.0;
    json erec = {{"type", "epoch"}, {"fold", fold}, {"epoch", e}, {"step", meta.step},
                 {"lr", adam.lr()}, {"loss", sum_loss / n}, {"loss_ir", sum_ir / n},
                 {"seconds", epoch_s},
                 {"images_per_s", epoch_s > 0 ? double(images_seen) / epoch_s : 0}};
    if (class_weights.defined()) erec["loss_ss"] = sum_ss / n;
    std::string summary =
        fmt("fold %lld epoch %lld/%lld: loss %.4f (ir %.4f%s) lr %.3g %.1fs", (long long)fold,
            (long long)(e + 1), (long long)cfg.epochs, sum_loss / n, sum_ir / n,
            class_weights.defined() ? fmt(", ss %.4f", sum_ss / n).c_str() : "", adam.lr(),
            epoch_s);
    meta.epoch = e + 1;
    meta.batch = 0;
    const bool eval_now = val_split != nullptr && ((e + 1) % cfg.eval_step == 0 || e + 1 == cfg.epochs);
    if (eval_now) {
      EvalOptions eo;
      eo.batch_size = cfg.batch_size_val;
      eo.workers = cfg.workers;
      eo.image_size = mc.image_size;
      eo.device = device;
      EvalResult r = evaluate(model, *val_split, vocab,
                              val_split == test_split ? std::vector<int64_t>{} : val_images, eo);
      json mj = metrics_json(r);
      outcome.evals.push_back(mj);
      erec["val"] = mj;
      summary += fmt(" | val mR %.2f (R@1 i2t %.1f t2i %.1f)", r.retrieval.mR, r.retrieval.r1i,
                     r.retrieval.r1t);
      if (r.has_seg) summary += fmt(" mIoU %.3f Acc %.3f", r.seg.mIoU, r.seg.Acc);
      log.record({{"type", "eval"}, {"fold", fold}, {"epoch", e}, {"step", meta.step},
                  {"metrics", mj}, {"seconds", r.seconds}});
      if (r.retrieval.mR > meta.best_score) {
        meta.best_score = r.retrieval.mR;
        save(best_path);
        summary += " (best)";
      }
    }
    log.record(erec);
    log.say(summary);
    save(last_path);
  }
  if (val_split == nullptr && !file_exists(best_path)) save(best_path);
  return outcome;
}

}  // namespace

void apply_threads(int threads) {
  if (threads <= 0) return;
  omp_set_num_threads(threads);
  openblas_set_num_threads(threads);
}

void apply_runtime(const RunConfig& cfg) {
  apply_threads(cfg.threads);
  set_math_precision(parse_math_precision(cfg.precision));
}

double epoch_lr(const RunConfig& cfg, int64_t epoch) {
  return cfg.lr * std::pow(cfg.lr_decay_param, double((epoch + 1) / cfg.lr_update_epoch));
}

int run_training(const RunConfig& cfg, const TrainOptions& opt) {
  apply_runtime(cfg);
  SIRS_CHECK(!cfg.data_path.empty(), ValueError, cfg.source, ": dataset.data_path is not set");
  SIRS_CHECK(!cfg.image_path.empty(), ValueError, cfg.source, ": dataset.image_path is not set");
  SIRS_CHECK(!cfg.vocab_path.empty(), ValueError, cfg.source, ": dataset.vocab_path is not set");
  Progress progress(opt.out, opt.tty, cfg.print_freq);
  if (cfg.precision == "tf32" && cfg.device == "cpu")
    progress.note("note: runtime.precision tf32 has no effect on the CPU (fp32 is used)");

  PrecompOptions po;
  po.image_dir = cfg.image_path;
  po.mask_dir = cfg.mask_path;
  PrecompSplit train_split = read_precomp(cfg.data_path, "train", po);
  std::unique_ptr<PrecompSplit> test_split;
  if (cfg.data_split == "all")
    test_split = std::make_unique<PrecompSplit>(read_precomp(cfg.data_path, "test", po));
  Vocab vocab = Vocab::load_json(cfg.vocab_path);

  const std::string root = cfg.ckpt_save_path + "/" + cfg.experiment_name;
  make_dirs(root);
  save_config(cfg, root + "/config.yaml");

  int64_t first_fold = cfg.k_fold_current_num;
  std::string resume = opt.resume.empty() ? cfg.resume : opt.resume;
  if (!resume.empty()) first_fold = read_checkpoint_meta(resume).fold;
  const int64_t end_fold = cfg.k_fold_current_num + cfg.k_fold_nums;
  SIRS_CHECK(first_fold >= cfg.k_fold_current_num && first_fold < end_fold, ValueError,
             "checkpoint '", resume, "' is of fold ", first_fold, ", outside the configured folds ",
             cfg.k_fold_current_num, "..", end_fold - 1);

  json report = {{"experiment", cfg.experiment_name}, {"folds", json::array()}};
  // Folds before the resumed one: read their results back from their last checkpoints.
  for (int64_t k = cfg.k_fold_current_num; k < first_fold; ++k) {
    std::string p = root + "/fold" + std::to_string(k) + "/last.safetensors";
    json evals = json::array();
    if (file_exists(p)) evals = json::parse(read_checkpoint_meta(p).evals, nullptr, false);
    report["folds"].push_back({{"fold", k}, {"evals", evals}});
  }
  for (int64_t k = first_fold; k < end_fold; ++k) {
    const std::string dir = root + "/fold" + std::to_string(k);
    FoldOutcome o = train_fold(cfg, opt, k, dir, k == first_fold ? resume : std::string(),
                               train_split, test_split.get(), vocab, progress);
    if (o.status != kTrainOk) return o.status;
    report["folds"].push_back({{"fold", k}, {"evals", o.evals}});
  }
  // The reference's report: per fold the mean of the last N evaluations, then over folds.
  std::vector<json> fold_means;
  for (json& f : report["folds"]) {
    std::vector<json> ev;
    for (const json& e : f["evals"]) ev.push_back(e);
    const size_t n = std::min<size_t>(ev.size(), size_t(cfg.last_num_epochs_val));
    std::vector<json> last(ev.end() - long(n), ev.end());
    f["mean_last"] = mean_metrics(last);
    f["evals_averaged"] = n;
    f.erase("evals");
    if (n > 0) fold_means.push_back(f["mean_last"]);
  }
  report["last_num_epochs_val"] = cfg.last_num_epochs_val;
  report["mean"] = mean_metrics(fold_means);
  {
    std::ofstream f(root + "/report.json");
    f << report.dump(2) << "\n";
  }
  std::string line = "report (" + root + "/report.json):";
  for (const json& f : report["folds"])
    if (f["mean_last"].contains("mR"))
      line += fmt(" fold %lld mR %.2f;", (long long)f["fold"].get<int64_t>(),
                  f["mean_last"]["mR"].get<double>());
  if (report["mean"].contains("mR")) {
    line += fmt(" mean mR %.2f", report["mean"]["mR"].get<double>());
    if (report["mean"].contains("seg"))
      line += fmt(", mIoU %.3f", report["mean"]["seg"]["mIoU"].get<double>());
  }
  progress.note(line);
  return kTrainOk;
}

}  // namespace sirs::app
