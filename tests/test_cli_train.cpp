// End to end through build/sirs: `sirs synth` writes a tiny dataset, `sirs
// train` trains a tiny model on it; checkpoints round trip, resume is exact,
// NaN stops keep the last good checkpoint, bad input gives clear errors.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "apps/checkpoint.h"
#include "apps/config.h"
#include "apps/train.h"
#include "layers/optim.h"
#include "layers/safetensors.h"
#include "test_util.h"

namespace sirs::app {
namespace {

using test::TempDir;


// Tiny model and images: seconds per run.
const char* kTiny =
    " --set model.resnet_width=4 --set model.image_size=32 --set dataset.resize=40"
    " --set model.embed.embed_dim=8 --set model.seq2vec.word_dim=8"
    " --set model.seq2vec.hidden_dim=8 --set dataset.batch_size=16 --set dataset.workers=1"
    " --set dataset.augment=true --set dataset.shuffle=true --set model.seq2vec.dropout=0.2"
    " --set runtime.threads=2 --set runtime.seed=5";

class CliTrain : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new TempDir("cli_train");
    test::SirsRun r = test::run_sirs("synth --out " + data() + " --images 12 --size 64 --seed 2");
    ASSERT_EQ(r.status, 0) << r.out;
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string root() { return dir_->path.string(); }
  static std::string data() { return root() + "/data"; }
  static std::string config() { return data() + "/sirs.yaml"; }
  static std::string train(const std::string& name, const std::string& extra) {
    return "train --config " + config() + kTiny + " --set logs.ckpt_save_path=" + root() +
           "/runs --set k_fold.experiment_name=" + name + " " + extra;
  }
  static TempDir* dir_;
};
TempDir* CliTrain::dir_ = nullptr;

NamedTensors weights_of(const std::string& path) { return load_safetensors(path).tensors; }

void expect_identical(const NamedTensors& a, const NamedTensors& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(a[i].first, b[i].first);
    std::vector<double> x = a[i].second.to_vector(), y = b[i].second.to_vector();
    ASSERT_EQ(x.size(), y.size()) << a[i].first;
    for (size_t j = 0; j < x.size(); ++j)
      ASSERT_EQ(std::memcmp(&x[j], &y[j], sizeof(double)), 0) << a[i].first << "[" << j << "]";
  }
}

TEST_F(CliTrain, TrainsTwoEpochsAndWritesEveryFile) {
  test::SirsRun r = test::run_sirs(train("e2e", "--set optim.epochs=2"));
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string run_dir = root() + "/runs/e2e";
  for (const char* f : {"/config.yaml", "/report.json", "/fold0/last.safetensors",
                        "/fold0/best.safetensors", "/fold0/train.log", "/fold0/metrics.jsonl",
                        "/fold0/config.yaml"})
    EXPECT_TRUE(std::filesystem::exists(run_dir + f)) << f;
  CheckpointMeta m = read_checkpoint_meta(run_dir + "/fold0/last.safetensors");
  EXPECT_EQ(m.epoch, 2);
  EXPECT_EQ(m.batch, 0);
  EXPECT_GT(m.step, 0);
  std::ifstream rep(run_dir + "/report.json");
  std::stringstream ss;
  ss << rep.rdbuf();
  EXPECT_NE(ss.str().find("\"mR\""), std::string::npos) << ss.str();
  EXPECT_NE(ss.str().find("\"mIoU\""), std::string::npos) << ss.str();
  // The effective configuration loads back.
  RunConfig eff = load_config(run_dir + "/config.yaml");
  EXPECT_EQ(eff.epochs, 2);
  EXPECT_EQ(eff.model.resnet_width, 4);
  std::ifstream jl(run_dir + "/fold0/metrics.jsonl");
  std::string line;
  int steps = 0, evals = 0;
  while (std::getline(jl, line)) {
    steps += line.find("\"type\":\"step\"") != std::string::npos;
    evals += line.find("\"type\":\"eval\"") != std::string::npos;
  }
  EXPECT_EQ(steps, m.step);
  EXPECT_EQ(evals, 2);
}

TEST_F(CliTrain, ResumeIsBitExact) {
  ASSERT_EQ(test::run_sirs(train("straight", "--set optim.epochs=2")).status, 0);
  ASSERT_EQ(test::run_sirs(train("split", "--set optim.epochs=1")).status, 0);
  const std::string first = root() + "/runs/split/fold0/last.safetensors";
  const std::string copy = root() + "/epoch1.safetensors";
  std::filesystem::copy_file(first, copy);
  test::SirsRun r = test::run_sirs(train("split", "--set optim.epochs=2 --resume " + copy));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("resuming"), std::string::npos) << r.out;
  expect_identical(weights_of(root() + "/runs/straight/fold0/last.safetensors"),
                   weights_of(root() + "/runs/split/fold0/last.safetensors"));
}

// Number of "step" records in a metrics.jsonl (0 when it does not exist yet).
int count_steps(const std::string& jsonl) {
  std::ifstream in(jsonl);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) n += line.find("\"type\":\"step\"") != std::string::npos;
  return n;
}

// `sirs train` killed with SIGKILL at several moments (mid-epoch, and at
// whatever point of a checkpoint write the timing lands) always leaves a
// last.safetensors that loads, and training resumes from it to the end.
TEST_F(CliTrain, SigkillMidEpochLeavesALoadableCheckpointAndResumes) {
  const std::string run_dir = root() + "/runs/killed/fold0";
  const std::string last = run_dir + "/last.safetensors", jsonl = run_dir + "/metrics.jsonl";
  int64_t epoch_reached = 0;
  for (int round = 0; round < 3; ++round) {
    std::string args = train("killed", "--set optim.epochs=40 --set logs.eval_step=100");
    if (round > 0) args += " --resume " + last;
    const int steps_before = count_steps(jsonl);
    pid_t pid = fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      std::string cmd = "exec " + test::build_dir() + "/sirs " + args + " >/dev/null 2>&1";
      execl("/bin/sh", "sh", "-c", cmd.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
    // Kill after a checkpoint exists and a few more steps ran (mid-epoch:
    // an epoch here is 4 steps); a different number of steps each round.
    const int wait_steps = 5 + 3 * round;
    bool alive = true;
    for (int i = 0; i < 6000; ++i) {  // at most 60 s
      if (std::filesystem::exists(last) && count_steps(jsonl) >= steps_before + wait_steps) break;
      int st = 0;
      if (waitpid(pid, &st, WNOHANG) == pid) {
        alive = false;
        break;
      }
      usleep(10000);
    }
    ASSERT_TRUE(alive) << "training ended before it could be killed (round " << round << ")";
    ASSERT_EQ(kill(pid, SIGKILL), 0);
    int st = 0;
    ASSERT_EQ(waitpid(pid, &st, 0), pid);
    EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL) << "round " << round;
    // The checkpoint left behind is whole.
    ASSERT_TRUE(std::filesystem::exists(last)) << "round " << round;
    CheckpointMeta m = read_checkpoint_meta(last);
    EXPECT_GE(m.epoch, epoch_reached) << "round " << round;
    EXPECT_GT(m.step, 0);
    EXPECT_FALSE(weights_of(last).empty());
    epoch_reached = m.epoch;
  }
  // Resume to the end from what the last kill left.
  test::SirsRun r = test::run_sirs(train("killed", "--set optim.epochs=" + std::to_string(epoch_reached + 1) +
                                   " --set logs.eval_step=100 --resume " + last));
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("resuming"), std::string::npos) << r.out;
  EXPECT_EQ(read_checkpoint_meta(last).epoch, epoch_reached + 1);
}

TEST_F(CliTrain, NanLossStopsAndKeepsTheLastGoodCheckpoint) {
  ASSERT_EQ(test::run_sirs(train("nan", "--set optim.epochs=1")).status, 0);
  const std::string last = root() + "/runs/nan/fold0/last.safetensors";
  NamedTensors before = weights_of(last);
  test::SirsRun r = test::run_sirs(train("nan", "--set optim.epochs=3 --set optim.lr=1e30 --resume " + last));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_TRUE(r.out.find("NaN") != std::string::npos ||
              r.out.find("infinite") != std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("last good checkpoint"), std::string::npos) << r.out;
  expect_identical(before, weights_of(last));
  EXPECT_EQ(read_checkpoint_meta(last).epoch, 1);
}

TEST_F(CliTrain, CorruptOrTruncatedCheckpointsAreClearErrors) {
  ASSERT_EQ(test::run_sirs(train("corrupt", "--set optim.epochs=1")).status, 0);
  const std::string last = root() + "/runs/corrupt/fold0/last.safetensors";
  const auto size = std::filesystem::file_size(last);
  const std::string cut = root() + "/truncated.safetensors";
  std::filesystem::copy_file(last, cut);
  std::filesystem::resize_file(cut, size / 2);
  test::SirsRun r = test::run_sirs(train("corrupt2", "--set optim.epochs=2 --resume " + cut));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("truncated.safetensors"), std::string::npos) << r.out;
  const std::string junk = root() + "/junk.safetensors";
  std::ofstream(junk) << "this is not a checkpoint";
  r = test::run_sirs(train("corrupt2", "--set optim.epochs=2 --resume " + junk));
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("junk.safetensors"), std::string::npos) << r.out;
  test::expect_error<Error>([&] { read_checkpoint_meta(cut); }, {"truncated.safetensors"});
}

TEST_F(CliTrain, BadOptionsAndPathsFailClearly) {
  test::SirsRun r = test::run_sirs("train");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--config"), std::string::npos) << r.out;
  r = test::run_sirs("train --config " + config() + " --bogus");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--bogus"), std::string::npos) << r.out;
  r = test::run_sirs("train --config " + root() + "/missing.yaml");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("missing.yaml"), std::string::npos) << r.out;
  r = test::run_sirs("train --config " + config() + " --set optim.epochs=zero");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("optim.epochs"), std::string::npos) << r.out;
  r = test::run_sirs("train --config " + config() + " --set dataset.nokey=1");
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("dataset.nokey"), std::string::npos) << r.out;
  r = test::run_sirs(train("badpath", "--set dataset.data_path=" + root() + "/nowhere"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("nowhere"), std::string::npos) << r.out;
  r = test::run_sirs(train("badresume", "--resume " + root() + "/nope.safetensors"));
  EXPECT_EQ(r.status, 1);
  EXPECT_NE(r.out.find("nope.safetensors"), std::string::npos) << r.out;
  r = test::run_sirs("train --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_NE(r.out.find("optim.lr_update_epoch"), std::string::npos);
}

TEST(CliTrainLr, ScheduleIsTheReferenceRule) {
  RunConfig c = parse_config("", "x.yaml", ".");
  EXPECT_DOUBLE_EQ(epoch_lr(c, 0), 2e-4);
  EXPECT_DOUBLE_EQ(epoch_lr(c, 18), 2e-4);
  EXPECT_DOUBLE_EQ(epoch_lr(c, 19), 2e-4 * 0.7);
  EXPECT_DOUBLE_EQ(epoch_lr(c, 39), 2e-4 * 0.7 * 0.7);
  EXPECT_DOUBLE_EQ(epoch_lr(c, 19), sirs_epoch_lr(2e-4, 19));
}

}  // namespace
}  // namespace sirs::app

namespace sirs::app {
namespace {

void expect_same_tensors(const NamedTensors& got, const std::string& expected_fixture) {
  NamedTensors want = load_safetensors(test::fixture(expected_fixture)).tensors;
  ASSERT_EQ(got.size(), want.size()) << expected_fixture;
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got[i].first, want[i].first);
    EXPECT_EQ(got[i].second.to_vector(), want[i].second.to_vector()) << want[i].first;
  }
}

// model.init takes each kind of weights file by what it holds.
TEST(CliInit, LoadInitWeightsTellsTheFileKinds) {
  std::vector<std::string> notes;
  expect_same_tensors(load_init_weights(test::fixture("resnet_tv.pth"), &notes),
                      "resnet_expected.safetensors");
  EXPECT_FALSE(notes.empty());  // "fc.* skipped"
  expect_same_tensors(load_init_weights(test::fixture("resnet_tv.safetensors"), nullptr),
                      "resnet_expected.safetensors");
  expect_same_tensors(load_init_weights(test::fixture("reference.pth.tar"), nullptr),
                      "reference_expected.safetensors");
  // Reference names in safetensors (a sirs checkpoint): taken as they are.
  expect_same_tensors(load_init_weights(test::fixture("reference_expected.safetensors"), nullptr),
                      "reference_expected.safetensors");
  test::expect_error<IOError>([] { load_init_weights("/nonexistent/w.pth", nullptr); },
                              {"/nonexistent/w.pth", "model.init"});
}

}  // namespace
}  // namespace sirs::app
