// sirs synth: the built-in synthetic dataset (data/synth.h) plus a ready
// training configuration DIR/sirs.yaml for it.
//
// sirs.yaml uses the reference option schema (model, dataset, optim, logs,
// k_fold) and our keys (runtime.*, model.image_size, model.resnet_width,
// model.seq2vec.word_dim/hidden_dim, dataset.augment/shuffle/workers/
// mask_path/resize). Its model is small (ResNet-18 layout at width 16 on
// 128 px inputs, a 96/192 GRU, a 128-d joint space) so that a few epochs on a
// 2-core CPU take minutes and retrieval and segmentation learn clearly.
#include <cstdio>
#include <fstream>
#include <sstream>
#include <string>

#include "apps/args.h"
#include "apps/command.h"
#include "data/mask.h"
#include "data/precomp.h"
#include "data/synth.h"
#include "tensor/error.h"

namespace {

// The demo training configuration; paths are relative to the file's folder.
std::string demo_config(const sirs::SynthOptions& opt, const sirs::SynthSummary& s) {
  const int image_size = opt.size >= 128 ? 128 : 96;
  std::ostringstream y;
  y << "# Training configuration for the synthetic dataset written by\n"
    << "#   sirs synth --images " << opt.images << " --size " << opt.size << " --seed " << opt.seed << "\n"
    << "# (" << s.train_images << " training and " << s.test_images << " test images, " << s.vocab_words
    << " words). Reference option schema (model, dataset, optim, logs, k_fold) plus\n"
    << "# our runtime.* keys. Paths are relative to this file's folder. A small model,\n"
    << "# sized so that training on a 2-core CPU takes a few minutes:\n"
    << "#   sirs train --config sirs.yaml\n"
    << "model:\n"
    << "  name: SIRS\n"
    << "  backbone: resnet18\n"
    << "  resnet_width: 16          # ours: ResNet base width (64 = torchvision)\n"
    << "  image_size: " << image_size << "           # ours: network input size\n"
    << "  num_classes: " << sirs::kNumClasses << "\n"
    << "  embed:\n"
    << "    embed_dim: 128\n"
    << "  decoder: true\n"
    << "  SSA: true\n"
    << "  VFM: true\n"
    << "  seq2vec:\n"
    << "    arch: skipthoughts\n"
    << "    type: BayesianUniSkip\n"
    << "    dropout: 0.1\n"
    << "    fixed_emb: false\n"
    << "    word_dim: 96            # ours (skip-thoughts: 620)\n"
    << "    hidden_dim: 192         # ours (skip-thoughts: 2400)\n"
    << "dataset:\n"
    << "  datatype: synthetic\n"
    << "  data_split: all           # validate on the test split\n"
    << "  data_path: precomp\n"
    << "  image_path: images\n"
    << "  mask_path: masks          # ours\n"
    << "  vocab_path: vocab.json\n"
    << "  batch_size: 32\n"
    << "  batch_size_val: 64\n"
    << "  workers: 1                # ours\n"
    << "  augment: false            # ours\n"
    << "  shuffle: true             # ours\n"
    << "  resize: " << image_size << "               # ours: no random crop margin\n"
    << "optim:\n"
    << "  epochs: 8\n"
    << "  lr: 0.001\n"
    << "  lr_decay_param: 0.5\n"
    << "  lr_update_epoch: 5\n"
    << "  grad_clip: 2.0\n"
    << "  max_violation: false\n"
    << "  margin: 0.2\n"
    << "  resume: ''\n"
    << "  loss_weight: [80, 20]     # [segmentation, retrieval]\n"
    << "  last_num_epochs_val: 2\n"
    << "logs:\n"
    << "  eval_step: 1\n"
    << "  print_freq: 10\n"
    << "  ckpt_save_path: runs\n"
    << "  logger_name: runs/logs\n"
    << "k_fold:\n"
    << "  experiment_name: synthetic\n"
    << "  nums: 1\n"
    << "  current_num: 0\n"
    << "runtime:\n"
    << "  device: cpu               # cuda on a GPU machine\n"
    << "  threads: 0                # all cores\n"
    << "  seed: " << opt.seed << "\n"
    << "  precision: fp32\n";
  return y.str();
}

int cmd_synth(int argc, char** argv) {
  sirs::app::Args a("synth",
                    "Writes the synthetic remote-sensing dataset (RSITMD + RSITMD-SS layout: images/,\n"
                    "masks/, precomp/, vocab.json) and DIR/sirs.yaml, a training configuration for it.\n"
                    "The same seed gives the same bytes whatever the thread count.");
  a.required("out", "DIR", "output folder (created)")
      .integer("images", "N", "number of images", 1000, 1, 10000000)
      .integer("size", "S", "image edge in pixels", 256, 64, 4096)
      .integer("seed", "N", "random seed", 1, 0)
      .number("test-fraction", "F", "share of images in the test split", 0.1, 0, 0.99);
  a.epilog("example:\n  sirs synth --out data/synth --images 600 && sirs train --config data/synth/sirs.yaml");
  if (auto rc = a.parse(argc, argv)) return *rc;
  sirs::SynthOptions opt;
  opt.images = a.get_int("images");
  opt.size = int(a.get_int("size"));
  opt.seed = uint64_t(a.get_int("seed"));
  opt.test_fraction = a.get_double("test-fraction");
  const std::string out = a.get("out");

  sirs::SynthSummary s = sirs::write_synthetic_dataset(out, opt);
  const std::string cfg_path = sirs::join_path(out, "sirs.yaml");
  {
    std::ofstream f(cfg_path, std::ios::binary);
    f << demo_config(opt, s);
    if (!f) throw sirs::IOError(sirs::str_cat("synth: cannot write ", cfg_path));
  }

  std::printf("wrote %s: %lld train + %lld test images (%dx%d), %lld + %lld captions, %lld words, %.1f s\n",
              out.c_str(), static_cast<long long>(s.train_images), static_cast<long long>(s.test_images), opt.size,
              opt.size, static_cast<long long>(s.train_captions), static_cast<long long>(s.test_captions),
              static_cast<long long>(s.vocab_words), s.seconds);
  int64_t total = 0;
  for (int64_t p : s.class_pixels) total += p;
  std::printf("class pixel shares:\n");
  for (int k = 0; k < sirs::kNumClasses; ++k)
    std::printf("  %2d %-14s %6.2f%%\n", k, sirs::kClassNames[k],
                total > 0 ? 100.0 * double(s.class_pixels[size_t(k)]) / double(total) : 0.0);
  std::printf("training configuration: %s\n", cfg_path.c_str());
  return 0;
}

}  // namespace

SIRS_COMMAND("synth", "write the synthetic dataset and a demo training config", cmd_synth);
