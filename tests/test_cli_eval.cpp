// End-to-end tests of `sirs test`, `sirs infer`, `sirs index`, `sirs query`
// and `sirs bench` through the real binary (build/sirs) on a tiny synthetic
// dataset (`sirs synth`) with a tiny, freshly initialised model, plus the
// autograd profiler in-process.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='CliEval*'
#include <gtest/gtest.h>
#include <yaml-cpp/yaml.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <algorithm>
#include <map>
#include <set>
#include <sys/wait.h>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "apps/config.h"
#include "apps/eval_common.h"
#include "apps/evaluate.h"
#include "autograd/ops.h"
#include "autograd/profiler.h"
#include "data/image_io.h"
#include "data/vocab.h"
#include "layers/npy.h"
#include "layers/safetensors.h"
#include "models/sirs.h"
#include "tests/test_util.h"

namespace fs = std::filesystem;
using namespace sirs;

namespace {


std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

// The --set overrides that make the synth configuration tiny.
const char* kTiny =
    " --set model.resnet_width=8 --set model.embed.embed_dim=16 --set model.seq2vec.word_dim=8"
    " --set model.seq2vec.hidden_dim=16 --set model.image_size=64 --set runtime.threads=2";

// One dataset (10 images of 64 px, 5 in the test split), its config and a
// checkpoint of a freshly initialised model, shared by the suite.
class CliEval : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new test::TempDir("cli_eval");
    test::SirsRun s = test::run_sirs("synth --out " + data() + " --images 10 --size 64 --seed 3 --test-fraction 0.5");
    ASSERT_EQ(s.status, 0) << s.out;
    SirsConfig c;
    c.resnet_width = 8;
    c.embed_dim = 16;
    c.word_dim = 8;
    c.hidden_dim = 16;
    c.image_size = 64;
    c.vocab_size = Vocab::load_json(data() + "/vocab.json").next_id() - 1;
    Generator g(5);
    SirsModel m(c, &g);
    save_safetensors(ckpt(), m.state_dict());
  }
  static void TearDownTestSuite() {
    delete dir_;
    dir_ = nullptr;
  }
  static std::string root() { return dir_->str(); }
  static std::string data() { return root() + "/data"; }
  static std::string ckpt() { return root() + "/model.safetensors"; }
  static std::string base() {
    return "--config " + data() + "/sirs.yaml --weights " + ckpt() + kTiny;
  }
  static test::TempDir* dir_;
};
test::TempDir* CliEval::dir_ = nullptr;

}  // namespace

TEST_F(CliEval, TestJsonKeysAndRanges) {
  const std::string js = root() + "/test.json";
  test::SirsRun r = test::run_sirs("test " + base() + " --json " + js);
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("mR"), std::string::npos) << r.out;
  nlohmann::json j = nlohmann::json::parse(read_file(js));
  std::set<std::string> keys;
  for (auto it = j.begin(); it != j.end(); ++it) keys.insert(it.key());
  const std::set<std::string> want = {"r1i",  "r5i",    "r10i", "medri",    "meanri",
                                      "r1t",  "r5t",    "r10t", "medrt",    "meanrt",
                                      "mR",   "n_images", "n_captions", "images_per_s", "seg"};
  EXPECT_EQ(keys, want);
  EXPECT_EQ(j["n_images"].get<int>(), 5);
  EXPECT_EQ(j["n_captions"].get<int>(), 25);
  for (const char* k : {"r1i", "r5i", "r10i", "r1t", "r5t", "r10t", "mR"}) {
    EXPECT_GE(j[k].get<double>(), 0.0) << k;
    EXPECT_LE(j[k].get<double>(), 100.0) << k;
  }
  // 5 images: R@5 and R@10 of text->image are 100.
  EXPECT_DOUBLE_EQ(j["r5t"].get<double>(), 100.0);
  EXPECT_DOUBLE_EQ(j["r10t"].get<double>(), 100.0);
  EXPECT_GE(j["medrt"].get<double>(), 1.0);
  EXPECT_LE(j["medrt"].get<double>(), 5.0);
  for (const char* k : {"Acc", "Acc_class", "mIoU", "FWIoU", "F1"}) {
    EXPECT_GE(j["seg"][k].get<double>(), 0.0) << k;
    EXPECT_LE(j["seg"][k].get<double>(), 1.0) << k;
  }
  EXPECT_GT(j["images_per_s"].get<double>(), 0.0);
}

// `sirs train` scores its validation split with apps/evaluate.cpp (images
// through the data loader), `sirs test` / `sirs infer` with
// apps/eval_common.cpp (images read and resized one by one). On the same
// checkpoint and split the two must give the same scores and metrics, or
// the best checkpoint chosen in training and the figures reported for it
// would disagree.
TEST_F(CliEval, TrainingValidationAndTestAgree) {
  app::RunConfig cfg = app::load_config(
      data() + "/sirs.yaml",
      {"model.resnet_width=8", "model.embed.embed_dim=16", "model.seq2vec.word_dim=8",
       "model.seq2vec.hidden_dim=16", "model.image_size=96"});
  std::shared_ptr<SirsModel> model = app::load_model_for_eval(cfg, ckpt());
  const app::SplitEval t = app::evaluate_split(cfg, *model, "test", 3, false);

  PrecompOptions po;
  po.image_dir = cfg.image_path;
  po.mask_dir = cfg.mask_path;
  const PrecompSplit split = read_precomp(cfg.data_path, "test", po);
  app::EvalOptions eo;
  eo.batch_size = 3;
  eo.workers = 1;
  eo.image_size = cfg.model.image_size;
  eo.keep_sims = true;
  const app::EvalResult v =
      app::evaluate(*model, split, Vocab::load_json(cfg.vocab_path), {}, eo);

  ASSERT_EQ(v.sims.shape(), t.sims.shape());
  const std::vector<double> a = v.sims.to_vector(), b = t.sims.to_vector();
  for (size_t i = 0; i < a.size(); ++i) ASSERT_NEAR(a[i], b[i], 1e-5) << "score " << i;
  const RetrievalMetrics &x = v.retrieval, &y = t.retrieval;
  EXPECT_EQ(x.n_images, y.n_images);
  EXPECT_EQ(x.n_captions, y.n_captions);
  for (auto [p, q] : {std::pair{x.r1i, y.r1i}, {x.r5i, y.r5i}, {x.r10i, y.r10i},
                      {x.medri, y.medri}, {x.r1t, y.r1t}, {x.r5t, y.r5t}, {x.r10t, y.r10t},
                      {x.medrt, y.medrt}, {x.mR, y.mR}})
    EXPECT_DOUBLE_EQ(p, q);
  ASSERT_TRUE(v.has_seg);
  ASSERT_TRUE(t.has_seg);
  EXPECT_DOUBLE_EQ(v.seg.Acc, t.seg.Acc);
  EXPECT_DOUBLE_EQ(v.seg.Acc_class, t.seg.Acc_class);
  EXPECT_DOUBLE_EQ(v.seg.mIoU, t.seg.mIoU);
  EXPECT_DOUBLE_EQ(v.seg.FWIoU, t.seg.FWIoU);
  EXPECT_DOUBLE_EQ(v.seg.F1, t.seg.F1);
}

TEST_F(CliEval, InferWritesConsistentFiles) {
  const std::string out = root() + "/infer";
  test::SirsRun r = test::run_sirs("infer " + base() + " --out " + out + " --topk 3");
  ASSERT_EQ(r.status, 0) << r.out;
  Tensor sims = load_npy(out + "/sims.npy");
  ASSERT_EQ(sims.dtype(), DType::F32);
  ASSERT_EQ(sims.shape(), (Shape{5, 25}));
  std::vector<std::string> names;
  {
    std::ifstream f(data() + "/precomp/test_filename.txt");
    std::string line;
    int k = 0;
    while (std::getline(f, line))
      if (k++ % 5 == 0) names.push_back(line);
  }
  ASSERT_EQ(names.size(), 5u);
  YAML::Node i2t = YAML::LoadFile(out + "/i2t.yaml");
  ASSERT_EQ(i2t.size(), 5u);
  for (size_t i = 0; i < names.size(); ++i) {
    YAML::Node list = i2t[names[i]];
    ASSERT_TRUE(list.IsSequence()) << names[i];
    ASSERT_EQ(list.size(), 3u);
    for (size_t r2 = 0; r2 < list.size(); ++r2) {
      const int64_t j = list[r2]["caption_index"].as<int64_t>();
      EXPECT_NEAR(list[r2]["score"].as<double>(), sims.data<float>()[i * 25 + size_t(j)], 1e-5);
      EXPECT_FALSE(list[r2]["caption"].as<std::string>().empty());
      if (r2 > 0) { EXPECT_GE(list[r2 - 1]["score"].as<double>(), list[r2]["score"].as<double>()); }
    }
  }
  YAML::Node t2i = YAML::LoadFile(out + "/t2i.yaml");
  ASSERT_EQ(t2i.size(), 25u);
  YAML::Node imgs = t2i[7]["images"];
  ASSERT_EQ(imgs.size(), 3u);
  EXPECT_GE(imgs[0]["score"].as<double>(), imgs[1]["score"].as<double>());
  for (const auto& n : names) {
    const std::string png = fs::path(n).stem().string() + ".png";
    for (const char* sub : {"labels", "seg", "overlay"})
      ASSERT_TRUE(fs::exists(out + "/" + sub + "/" + png)) << sub << "/" << png;
    Image lab = read_stb(out + "/labels/" + png, 0);
    Image img = read_image_rgb(data() + "/images/" + n);
    EXPECT_EQ(lab.c, 1);
    EXPECT_EQ(lab.h, img.h);
    EXPECT_EQ(lab.w, img.w);
    for (uint8_t v : lab.data) ASSERT_TRUE(v % 10 == 0 && v / 10 < 15) << int(v);
    Image seg = read_stb(out + "/seg/" + png, 0);
    EXPECT_EQ(seg.c, 3);
  }
  const std::string html = read_file(out + "/report.html");
  EXPECT_NE(html.find("overlay/"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // nothing external
  EXPECT_NE(html.find(names[0]), std::string::npos);
}

TEST_F(CliEval, IndexAndQueryMatchInferScores) {
  // Index the test images only: the query score of each must equal infer's
  // score of the same caption (one descriptor per image, DESIGN §3).
  const std::string imgs = root() + "/test_images", idx = root() + "/test.index";
  fs::create_directories(imgs);
  std::vector<std::string> names;
  {
    std::ifstream f(data() + "/precomp/test_filename.txt");
    std::string line;
    int k = 0;
    while (std::getline(f, line))
      if (k++ % 5 == 0) names.push_back(line);
  }
  for (const auto& n : names) fs::copy_file(data() + "/images/" + n, imgs + "/" + n);
  test::SirsRun r = test::run_sirs("index " + base() + " --images " + imgs + " --out " + idx);
  ASSERT_EQ(r.status, 0) << r.out;
  SafetensorsFile f = load_safetensors(idx);
  EXPECT_EQ(f.at("descriptors").shape(), (Shape{5, 16}));
  EXPECT_EQ(f.metadata.at("embed_dim"), "16");
  EXPECT_FALSE(f.metadata.at("config_hash").empty());
  const std::string out = root() + "/infer_q";
  ASSERT_EQ(test::run_sirs("infer " + base() + " --out " + out + " --samples 2").status, 0);
  Tensor sims = load_npy(out + "/sims.npy");
  std::vector<std::string> caps;
  {
    std::ifstream cf(data() + "/precomp/test_caps.txt");
    std::string line;
    while (std::getline(cf, line)) caps.push_back(line);
  }
  const int j = 11;
  test::SirsRun q = test::run_sirs("query " + base() + " --index " + idx + " --topk 5 --out " + root() + "/sheet --text \"" +
              caps[j] + "\"");
  ASSERT_EQ(q.status, 0) << q.out;
  std::istringstream lines(q.out);
  std::string line;
  std::vector<double> got;
  int rank = 0;
  while (std::getline(lines, line)) {
    int rk;
    double score;
    char name[256];
    if (std::sscanf(line.c_str(), "%d\t%lf\t%255s", &rk, &score, name) != 3) continue;
    EXPECT_EQ(rk, ++rank);
    auto it = std::find(names.begin(), names.end(), std::string(name));
    ASSERT_NE(it, names.end()) << name;
    EXPECT_NEAR(score, sims.data<float>()[(it - names.begin()) * 25 + j], 1e-4) << name;
    if (!got.empty()) {
      EXPECT_GE(got.back(), score);
    }
    got.push_back(score);
  }
  EXPECT_EQ(got.size(), 5u) << q.out;
  EXPECT_TRUE(fs::exists(root() + "/sheet/index.html"));
}

TEST_F(CliEval, BenchJson) {
  const std::string js = root() + "/bench.json";
  test::SirsRun r = test::run_sirs("bench --config " + data() + "/sirs.yaml" + kTiny + " --steps 2 --warmup 0 --batch 2 --json " + js);
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json j = nlohmann::json::parse(read_file(js));
  EXPECT_GT(j["ms_per_step"].get<double>(), 0.0);
  EXPECT_GT(j["images_per_s"].get<double>(), 0.0);
  EXPECT_GT(j["peak_bytes"].get<double>(), 0.0);
  ASSERT_TRUE(j["ops"].is_array());
  ASSERT_FALSE(j["ops"].empty());
  bool backward = false;
  for (const auto& e : j["ops"]) {
    EXPECT_GT(e["calls"].get<int>(), 0);
    backward |= e["op"].get<std::string>().find(" backward") != std::string::npos;
  }
  EXPECT_TRUE(backward);
}

TEST_F(CliEval, BadInputsGiveClearErrors) {
  test::SirsRun r = test::run_sirs("test --weights " + ckpt());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("--config"), std::string::npos) << r.out;
  r = test::run_sirs("test " + base() + " --split nonsense");
  EXPECT_EQ(r.status, 2) << r.out;
  r = test::run_sirs("test --config " + data() + "/sirs.yaml --weights " + root() + "/missing.safetensors" + kTiny);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("missing.safetensors"), std::string::npos) << r.out;
  const std::string bad = root() + "/corrupt.safetensors";
  {
    std::string bytes = read_file(ckpt());
    bytes.resize(bytes.size() / 2);
    std::ofstream(bad, std::ios::binary) << bytes;
  }
  r = test::run_sirs("infer --config " + data() + "/sirs.yaml --weights " + bad + " --out " + root() + "/x" + kTiny);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("corrupt.safetensors"), std::string::npos) << r.out;
  // A checkpoint of another model: names the missing tensors.
  const std::string other = root() + "/other.safetensors";
  save_safetensors(other, {{"foo", zeros({2})}});
  r = test::run_sirs("test --config " + data() + "/sirs.yaml --weights " + other + kTiny);
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("missing"), std::string::npos) << r.out;
  r = test::run_sirs("query " + base() + " --index " + ckpt() + " --text \"a plane\"");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("not a sirs index"), std::string::npos) << r.out;
  r = test::run_sirs("index " + base() + " --images " + root() + "/no_such_dir --out " + root() + "/i.index");
  EXPECT_EQ(r.status, 1) << r.out;
  EXPECT_NE(r.out.find("no_such_dir"), std::string::npos) << r.out;
  r = test::run_sirs("bench --config " + data() + "/sirs.yaml --device tpu");
  EXPECT_EQ(r.status, 2) << r.out;
  for (const char* c : {"test", "infer", "index", "query", "bench"}) {
    r = test::run_sirs(std::string(c) + " --help");
    EXPECT_EQ(r.status, 0) << c;
    EXPECT_NE(r.out.find("--config"), std::string::npos) << c;
  }
}

TEST(CliEvalProfiler, ChargesForwardAndBackward) {
  profiler::set_enabled(true);
  profiler::reset();
  Tensor a = test::leaf({4, 5}, 1), b = test::leaf({5, 3}, 2);
  Tensor y = sum(matmul(a, b));
  y.backward();
  profiler::set_enabled(false);
  auto t = profiler::table();
  ASSERT_FALSE(t.empty());
  bool fwd = false, bwd = false;
  for (const auto& e : t) {
    EXPECT_GE(e.ms, 0.0);
    EXPECT_GE(e.calls, 1);
    if (e.op.find(" backward") != std::string::npos) {
      bwd = true;
    } else {
      fwd = true;
    }
  }
  EXPECT_TRUE(fwd);
  EXPECT_TRUE(bwd);
  // Disabled: nothing more is recorded.
  const size_t n = t.size();
  Tensor z = sum(a * a);
  z.backward();
  EXPECT_EQ(profiler::table().size(), n);
}
