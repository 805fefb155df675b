// apps/config: the YAML schema, --set overrides, relative paths and the
// error messages (key and file named).
#include <gtest/gtest.h>

#include <fstream>

#include "apps/config.h"
#include "tensor/device.h"
#include "test_util.h"

namespace sirs::app {
namespace {

using test::expect_error;
using test::TempDir;

std::string write(const std::string& dir, const std::string& name, const std::string& text) {
  std::string p = dir + "/" + name;
  std::ofstream(p) << text;
  return p;
}

TEST(Config, DefaultsAreTheReferenceValues) {
  RunConfig c = parse_config("", "x.yaml", "/base");
  EXPECT_EQ(c.model.backbone, "resnet18");
  EXPECT_EQ(c.model.embed_dim, 512);
  EXPECT_EQ(c.model.word_dim, 620);
  EXPECT_EQ(c.model.hidden_dim, 2400);
  EXPECT_TRUE(c.model.ssa);
  EXPECT_TRUE(c.model.vfm);
  EXPECT_DOUBLE_EQ(c.lr, 2e-4);
  EXPECT_DOUBLE_EQ(c.lr_decay_param, 0.7);
  EXPECT_EQ(c.lr_update_epoch, 20);
  EXPECT_EQ(c.epochs, 35);
  EXPECT_DOUBLE_EQ(c.loss_weight.ss, 80);
  EXPECT_DOUBLE_EQ(c.loss_weight.ir, 20);
  EXPECT_DOUBLE_EQ(c.margin, 0.2);
  EXPECT_EQ(c.device, cuda_available() ? "cuda" : "cpu");
  EXPECT_EQ(c.ckpt_save_path, "/base/checkpoint");
  EXPECT_EQ(c.k_fold_nums, 1);
}

// The reference family's option files (this is the shape of xiaoyuan1996's
// RSITMD option files, SIRS's sibling projects, minus their model-specific
// keys) load unchanged: `data_split:` with no value keeps the default,
// `resume: False` means no checkpoint, 0/1 are booleans.
TEST(Config, ReferenceStyleOptionFileLoads) {
  RunConfig c = parse_config(
      "model:\n    seq2vec:\n        arch: skipthoughts\n        dir_st: seq2vec/\n"
      "        type: BayesianUniSkip\n        dropout: 0.25\n        fixed_emb: False\n"
      "    embed:\n        embed_dim: 512\n    name: SIRS\n"
      "dataset:\n    datatype: rsitmd\n    data_split:\n    data_path: 'data/rsitmd_precomp/'\n"
      "    image_path: '/mnt/rsitmd_images/'\n    vocab_path: 'vocab/rsitmd_splits_vocab.json'\n"
      "    batch_size: 100\n    batch_size_val: 70\n    workers: 3\n"
      "optim:\n    epochs: 70\n    lr: 0.0002\n    lr_decay_param: 0.7\n    lr_update_epoch: 20\n"
      "    grad_clip: 0\n    max_violation: 0\n    margin: 0.2\n    resume: False\n"
      "logs:\n    eval_step: 1\n    print_freq: 10\n    ckpt_save_path: \"checkpoint/\"\n"
      "    logger_name: 'logs/'\n"
      "k_fold:\n    experiment_name: 'rsitmd_sirs'\n    nums: 1\n    current_num: 0\n",
      "ref.yaml", "/opt");
  EXPECT_EQ(c.data_split, "scene");  // the default
  EXPECT_EQ(c.resume, "");
  EXPECT_FALSE(c.max_violation);
  EXPECT_EQ(c.epochs, 70);
  EXPECT_EQ(c.batch_size, 100);
  EXPECT_EQ(c.data_path, "/opt/data/rsitmd_precomp/");
  EXPECT_EQ(c.image_path, "/mnt/rsitmd_images/");
  EXPECT_EQ(c.experiment_name, "rsitmd_sirs");
}

TEST(Config, EveryKeyKindParses) {
  RunConfig c = parse_config(
      "model:\n  name: SIRS\n  backbone: resnet50\n  resnet_width: 8\n  num_classes: 5\n"
      "  embed:\n    embed_dim: 32\n  decoder: true\n"
      "  SSA:\n    use: true\n    downsample: maxPooling\n    normalization: groupNorm\n"
      "  VFM: false\n"
      "  seq2vec:\n    arch: skipthoughts\n    dropout: 0\n    word_dim: 16\n    hidden_dim: 24\n"
      "  image_size: 64\n  init: w/init.safetensors\n"
      "dataset:\n  data_split: trainval\n  data_path: data/precomp\n  image_path: /abs/images\n"
      "  batch_size: 8\n  batch_size_val: 4\n  workers: 0\n  augment: no\n  shuffle: off\n"
      "optim:\n  epochs: 3\n  lr: 1.5e-3\n  grad_clip: 2.5\n  max_violation: true\n"
      "  margin: 0.1\n  loss_weight: [1, 2]\n  lr_update_epoch: 5\n  lr_decay_param: 0.5\n"
      "logs:\n  eval_step: 2\n  print_freq: 3\n  ckpt_save_path: runs\n"
      "k_fold:\n  experiment_name: demo\n  nums: 2\n  current_num: 1\n"
      "runtime:\n  device: cpu\n  threads: 2\n  seed: 7\n  precision: tf32\n",
      "/cfg/run.yaml", "/cfg");
  EXPECT_EQ(c.model.backbone, "resnet50");
  EXPECT_EQ(c.model.resnet_width, 8);
  EXPECT_EQ(c.model.num_classes, 5);
  EXPECT_EQ(c.model.embed_dim, 32);
  EXPECT_TRUE(c.model.ssa);
  EXPECT_EQ(c.model.ssa_downsample, "maxPooling");
  EXPECT_EQ(c.model.ssa_normalization, "groupNorm");
  EXPECT_FALSE(c.model.vfm);
  EXPECT_EQ(c.model.gru_dropout, 0);
  EXPECT_EQ(c.model.word_dim, 16);
  EXPECT_EQ(c.model.hidden_dim, 24);
  EXPECT_EQ(c.model.image_size, 64);
  EXPECT_EQ(c.init, "/cfg/w/init.safetensors");
  EXPECT_EQ(c.data_split, "trainval");
  EXPECT_EQ(c.data_path, "/cfg/data/precomp");
  EXPECT_EQ(c.image_path, "/abs/images");
  EXPECT_EQ(c.batch_size, 8);
  EXPECT_EQ(c.batch_size_val, 4);
  EXPECT_EQ(c.workers, 0);
  EXPECT_FALSE(c.augment);
  EXPECT_FALSE(c.shuffle);
  EXPECT_EQ(c.epochs, 3);
  EXPECT_DOUBLE_EQ(c.lr, 1.5e-3);
  EXPECT_DOUBLE_EQ(c.grad_clip, 2.5);
  EXPECT_TRUE(c.max_violation);
  EXPECT_DOUBLE_EQ(c.margin, 0.1);
  EXPECT_DOUBLE_EQ(c.loss_weight.ss, 1);
  EXPECT_DOUBLE_EQ(c.loss_weight.ir, 2);
  EXPECT_EQ(c.lr_update_epoch, 5);
  EXPECT_EQ(c.eval_step, 2);
  EXPECT_EQ(c.ckpt_save_path, "/cfg/runs");
  EXPECT_EQ(c.experiment_name, "demo");
  EXPECT_EQ(c.k_fold_nums, 2);
  EXPECT_EQ(c.k_fold_current_num, 1);
  EXPECT_EQ(c.device, "cpu");
  EXPECT_EQ(c.threads, 2);
  EXPECT_EQ(c.seed, 7u);
  EXPECT_EQ(c.precision, "tf32");
}

TEST(Config, SetOverridesAnyKeyAndResolvesAgainstTheWorkingFolder) {
  RunConfig c = parse_config("optim:\n  lr: 0.1\n", "/cfg/a.yaml", "/cfg",
                             {"optim.lr=0.5", "optim.loss_weight=[3, 4]", "model.SSA=false",
                              "dataset.data_path=/x/y", "runtime.seed=9"});
  EXPECT_DOUBLE_EQ(c.lr, 0.5);
  EXPECT_DOUBLE_EQ(c.loss_weight.ss, 3);
  EXPECT_FALSE(c.model.ssa);
  EXPECT_EQ(c.data_path, "/x/y");
  EXPECT_EQ(c.seed, 9u);
}

TEST(Config, LoadsFromFileAndResolvesRelativePaths) {
  TempDir t{"config_test"};
  std::string p = write(t.path.string(), "c.yaml", "dataset:\n  vocab_path: v/vocab.json\n");
  RunConfig c = load_config(p);
  EXPECT_EQ(c.vocab_path, t.path.string() + "/v/vocab.json");
  EXPECT_EQ(c.source, p);
}

TEST(Config, UnknownKeysAndBadValuesNameTheKeyAndTheFile) {
  expect_error<Error>([] { parse_config("optim:\n  lrr: 1\n", "f.yaml", "."); },
               {"f.yaml", "unknown key", "optim.lrr"});
  expect_error<Error>([] { parse_config("nosuch:\n  a: 1\n", "f.yaml", "."); },
               {"f.yaml", "unknown section", "nosuch"});
  expect_error<Error>([] { parse_config("optim:\n  epochs: many\n", "f.yaml", "."); },
               {"f.yaml", "optim.epochs", "integer", "many"});
  expect_error<Error>([] { parse_config("optim:\n  epochs: 0\n", "f.yaml", "."); },
               {"f.yaml", "optim.epochs", ">= 1"});
  expect_error<Error>([] { parse_config("optim:\n  lr: -1\n", "f.yaml", "."); },
               {"f.yaml", "optim.lr", ">= 0"});
  expect_error<Error>([] { parse_config("dataset:\n  augment: maybe\n", "f.yaml", "."); },
               {"f.yaml", "dataset.augment", "true or false"});
  expect_error<Error>([] { parse_config("model:\n  backbone: vgg\n", "f.yaml", "."); },
               {"f.yaml", "model.backbone", "resnet18|resnet50", "vgg"});
  expect_error<Error>([] { parse_config("optim:\n  loss_weight: 3\n", "f.yaml", "."); },
               {"f.yaml", "optim.loss_weight"});
  expect_error<Error>([] { parse_config("runtime:\n  precision: fp8\n", "f.yaml", "."); },
               {"f.yaml", "runtime.precision", "fp8"});
  expect_error<Error>([] { parse_config("optim: [1\n", "f.yaml", "."); }, {"f.yaml", "YAML"});
  expect_error<Error>([] { parse_config("", "f.yaml", ".", {"optim.nope=1"}); },
               {"--set", "optim.nope", "unknown key"});
  expect_error<Error>([] { parse_config("", "f.yaml", ".", {"optim.lr"}); }, {"--set", "key=value"});
  expect_error<Error>([] { parse_config("", "f.yaml", ".", {"optim.lr=abc"}); },
               {"--set optim.lr=abc", "optim.lr", "number"});
  expect_error<Error>([] { load_config("/nonexistent/c.yaml"); }, {"/nonexistent/c.yaml"});
}

TEST(Config, CudaWithoutAGpuIsAnError) {
  if (cuda_available()) GTEST_SKIP() << "a GPU is usable here";
  expect_error<Error>([] { parse_config("runtime:\n  device: cuda\n", "f.yaml", "."); },
               {"f.yaml", "runtime.device", "cuda"});
}

TEST(Config, EffectiveConfigurationRoundTrips) {
  TempDir t{"config_test"};
  RunConfig a = parse_config("optim:\n  lr: 0.003\nmodel:\n  VFM:\n    sample: max\n", "a.yaml",
                             t.path.string(), {"k_fold.nums=3"});
  std::string p = t.path.string() + "/config.yaml";
  save_config(a, p);
  RunConfig b = load_config(p);
  EXPECT_EQ(a.yaml, b.yaml);
  EXPECT_EQ(a.hash, b.hash);
  EXPECT_DOUBLE_EQ(b.lr, 0.003);
  EXPECT_EQ(b.model.vfm_sample, "max");
  EXPECT_EQ(b.k_fold_nums, 3);
  RunConfig c = parse_config("optim:\n  lr: 0.004\n", "a.yaml", t.path.string());
  EXPECT_NE(a.hash, c.hash);
  // The runtime section does not change the hash.
  RunConfig d = parse_config("optim:\n  lr: 0.003\nmodel:\n  VFM:\n    sample: max\n", "a.yaml",
                             t.path.string(), {"k_fold.nums=3", "runtime.threads=3"});
  EXPECT_EQ(a.hash, d.hash);
}

}  // namespace
}  // namespace sirs::app
