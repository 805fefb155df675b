// sirs infer: scores, top-k lists, predicted masks and an HTML report of a
// checkpoint on a split:
//   DIR/sims.npy               float32 [N_images, N_captions]
//   DIR/i2t.yaml               image name -> [{caption, score, caption_index}] (top k, best first)
//   DIR/t2i.yaml               caption index -> {caption, images: [{image, score}]}
//   DIR/labels/<stem>.png      predicted class map, value = 10 x class
//   DIR/seg/<stem>.png         colour-coded class map (DESIGN §2 palette)
//   DIR/overlay/<stem>.png     0.7 image + 0.3 colour mask
//   DIR/report.html            offline page (apps/report.h)
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apps/args.h"
#include "apps/command.h"
#include "apps/eval_common.h"
#include "apps/report.h"
#include "apps/search_index.h"
#include "apps/train.h"
#include "layers/npy.h"

namespace sirs::app {
namespace {

void write_text(const std::string& path, const std::string& text) {
  std::ofstream f(path, std::ios::binary);
  f << text;
  SIRS_CHECK(f.good(), IOError, "cannot write ", path);
}

int cmd_infer(int argc, char** argv) {
  Args a("infer",
         "Runs a checkpoint over a split and writes the score matrix (sims.npy), the top-k "
         "captions per image (i2t.yaml) and images per caption (t2i.yaml), the predicted masks "
         "(labels/, seg/, overlay/) and report.html.");
  a.required("config", "FILE", "run configuration (YAML)");
  a.required("weights", "CKPT", "model checkpoint (safetensors)");
  a.required("out", "DIR", "output folder (created)");
  a.value("split", "NAME", "split: test | val | train", "test");
  a.integer("topk", "K", "captions per image and images per caption in the lists", 5, 1, 1000000);
  a.integer("samples", "N", "captions and images shown in report.html", 12, 0, 100000);
  a.integer("batch", "N", "images / captions per forward pass (default dataset.batch_size_val)", 0, 0, 4096);
  a.repeated("set", "KEY=VALUE", "override a configuration key");
  if (auto rc = a.parse(argc, argv)) return *rc;

  RunConfig cfg = load_config(a.get("config"), a.get_all("set"));
  apply_runtime(cfg);
  auto model = load_model_for_eval(cfg, a.get("weights"));
  const int64_t batch = a.get_int("batch") > 0 ? a.get_int("batch") : cfg.batch_size_val;
  const std::string dir = a.get("out");
  namespace fs = std::filesystem;
  std::error_code ec;
  for (const char* sub : {"", "/labels", "/seg", "/overlay"}) {
    fs::create_directories(dir + sub, ec);
    SIRS_CHECK(!ec, IOError, "cannot create ", dir + sub, ": ", ec.message());
  }
  SplitEval ev = evaluate_split(cfg, *model, a.get("split"), batch, true);
  const int64_t n = ev.split.num_images(), m = ev.split.num_captions();
  const int64_t k = a.get_int("topk");
  const float* s = ev.sims.data<float>();
  save_npy(dir + "/sims.npy", ev.sims);

  // Top-k lists. Columns of S are strided: copy each caption's column once.
  YAML::Emitter i2t;
  i2t << YAML::BeginMap;
  for (int64_t i = 0; i < n; ++i) {
    // rank_descriptors with the identity "descriptor" picks the k best of row i.
    std::vector<Hit> hits;
    {
      std::vector<int64_t> idx(static_cast<size_t>(m));
      for (int64_t j = 0; j < m; ++j) idx[size_t(j)] = j;
      const int64_t kk = std::min(k, m);
      std::partial_sort(idx.begin(), idx.begin() + kk, idx.end(), [&](int64_t x, int64_t y) {
        return s[i * m + x] > s[i * m + y] || (s[i * m + x] == s[i * m + y] && x < y);
      });
      for (int64_t r = 0; r < kk; ++r) hits.push_back({idx[size_t(r)], s[i * m + idx[size_t(r)]]});
    }
    i2t << YAML::Key << ev.split.image_names[size_t(i)] << YAML::Value << YAML::BeginSeq;
    for (const Hit& h : hits)
      i2t << YAML::BeginMap << YAML::Key << "caption" << YAML::Value
          << ev.split.captions[size_t(h.index)] << YAML::Key << "score" << YAML::Value
          << double(h.score) << YAML::Key << "caption_index" << YAML::Value << h.index
          << YAML::EndMap;
    i2t << YAML::EndSeq;
  }
  i2t << YAML::EndMap;
  write_text(dir + "/i2t.yaml", std::string(i2t.c_str()) + "\n");

  YAML::Emitter t2i;
  t2i << YAML::BeginMap;
  std::vector<float> col(static_cast<size_t>(n));
  for (int64_t j = 0; j < m; ++j) {
    for (int64_t i = 0; i < n; ++i) col[size_t(i)] = s[i * m + j];
    std::vector<int64_t> idx(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) idx[size_t(i)] = i;
    const int64_t kk = std::min(k, n);
    std::partial_sort(idx.begin(), idx.begin() + kk, idx.end(), [&](int64_t x, int64_t y) {
      return col[size_t(x)] > col[size_t(y)] || (col[size_t(x)] == col[size_t(y)] && x < y);
    });
    t2i << YAML::Key << j << YAML::Value << YAML::BeginMap << YAML::Key << "caption" << YAML::Value
        << ev.split.captions[size_t(j)] << YAML::Key << "images" << YAML::Value << YAML::BeginSeq;
    for (int64_t r = 0; r < kk; ++r)
      t2i << YAML::BeginMap << YAML::Key << "image" << YAML::Value
          << ev.split.image_names[size_t(idx[size_t(r)])] << YAML::Key << "score" << YAML::Value
          << double(col[size_t(idx[size_t(r)])]) << YAML::EndMap;
    t2i << YAML::EndSeq << YAML::EndMap;
  }
  t2i << YAML::EndMap;
  write_text(dir + "/t2i.yaml", std::string(t2i.c_str()) + "\n");

  // Masks and overlays.
  const bool have_pred = !ev.images.predicted.empty();
  for (int64_t i = 0; i < n && have_pred; ++i) {
    const std::string png = png_name_for(ev.split.image_names[size_t(i)]);
    const ClassMap& p = ev.images.predicted[size_t(i)];
    write_prediction_pictures(read_image_rgb(ev.split.image_paths[size_t(i)]), p.h, p.w, p.labels,
                              dir + "/labels/" + png, dir + "/seg/" + png, dir + "/overlay/" + png);
  }
  if (!have_pred)  // no decoder: the report shows the images themselves
    for (int64_t i = 0; i < n; ++i)
      write_png(dir + "/overlay/" + png_name_for(ev.split.image_names[size_t(i)]),
                read_image_rgb(ev.split.image_paths[size_t(i)]));

  RetrievalReport rep;
  rep.title = "sirs infer: " + a.get("split") + " split";
  rep.image_names = ev.split.image_names;
  rep.captions = ev.split.captions;
  rep.captions_per_image = ev.split.captions_per_image;
  rep.sims = s;
  rep.topk = k;
  rep.samples = a.get_int("samples");
  const RetrievalMetrics& r = ev.retrieval;
  char line[256];
  std::snprintf(line, sizeof line,
                "mR %.2f | image->text R@1 %.1f R@5 %.1f R@10 %.1f | text->image R@1 %.1f R@5 "
                "%.1f R@10 %.1f",
                r.mR, r.r1i, r.r5i, r.r10i, r.r1t, r.r5t, r.r10t);
  rep.summary = line;
  if (ev.has_seg) {
    std::snprintf(line, sizeof line, " | segmentation mIoU %.3f Acc %.3f", ev.seg.mIoU, ev.seg.Acc);
    rep.summary += line;
  }
  write_text(dir + "/report.html", render_retrieval_report(rep));
  std::printf("%s\nwrote %s/{sims.npy,i2t.yaml,t2i.yaml,labels/,seg/,overlay/,report.html}\n",
              rep.summary.c_str(), dir.c_str());
  return 0;
}

}  // namespace

SIRS_COMMAND("infer", "scores, top-k lists, predicted masks and report.html for a split", cmd_infer);

}  // namespace sirs::app

