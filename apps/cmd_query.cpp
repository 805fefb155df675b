// sirs query: ranks the images of an index (`sirs index`) for a text by one
// matrix-vector product (apps/search_index.h) and prints rank, score, name;
// --out DIR writes DIR/index.html, a contact sheet of the overlays.
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "apps/args.h"
#include "apps/command.h"
#include "apps/eval_common.h"
#include "apps/report.h"
#include "apps/search_index.h"
#include "apps/train.h"
#include "data/vocab.h"

namespace sirs::app {
namespace {

int cmd_query(int argc, char** argv) {
  Args a("query",
         "Ranks the images of an index for a text: the text is tokenised with the config's "
         "vocabulary and encoded, and the scores are one matrix-vector product with the "
         "image descriptors.");
  a.required("config", "FILE", "run configuration (YAML)");
  a.required("weights", "CKPT", "model checkpoint (safetensors)");
  a.required("index", "INDEX", "index written by `sirs index`");
  a.required("text", "TEXT", "the query caption");
  a.integer("topk", "K", "images to show", 10, 1, 1000000);
  a.value("out", "DIR", "write DIR/index.html, a contact sheet of the top images");
  a.repeated("set", "KEY=VALUE", "override a configuration key");
  if (auto rc = a.parse(argc, argv)) return *rc;

  RunConfig cfg = load_config(a.get("config"), a.get_all("set"));
  apply_runtime(cfg);
  SearchIndex idx = load_index(a.get("index"));
  auto it = idx.metadata.find("config_hash");
  if (it != idx.metadata.end() && it->second != cfg.hash)
    std::fprintf(stderr, "sirs query: warning: the index was built with another configuration\n");
  auto model = load_model_for_eval(cfg, a.get("weights"));
  SIRS_CHECK(idx.embed_dim == cfg.model.embed_dim, ValueError, "index ", a.get("index"), " holds ",
             idx.embed_dim, "-d descriptors but the model embeds in ", cfg.model.embed_dim);
  Vocab vocab = Vocab::load_json(cfg.vocab_path);
  Tensor t = embed_captions(*model, vocab, {a.get("text")}, 1);
  std::vector<float> q(t.data<float>(), t.data<float>() + t.numel());
  double norm = 0;
  for (float v : q) norm += double(v) * v;
  norm = std::sqrt(norm);
  if (norm > 0)
    for (float& v : q) v = float(v / norm);
  std::vector<Hit> hits = rank_descriptors(idx.descriptors.data(), idx.size(), idx.embed_dim,
                                           q.data(), a.get_int("topk"));
  for (size_t r = 0; r < hits.size(); ++r)
    std::printf("%zu\t%.6f\t%s\n", r + 1, double(hits[r].score),
                idx.names[size_t(hits[r].index)].c_str());

  if (a.given("out")) {
    namespace fs = std::filesystem;
    const std::string dir = a.get("out");
    std::error_code ec;
    fs::create_directories(dir + "/overlay", ec);
    SIRS_CHECK(!ec, IOError, "cannot create ", dir, ": ", ec.message());
    std::string mdir = idx.metadata.count("mask_dir") ? idx.metadata["mask_dir"] : "";
    std::string idir = idx.metadata.count("image_dir") ? idx.metadata["image_dir"] : "";
    std::vector<SheetEntry> sheet;
    for (const Hit& h : hits) {
      const std::string& name = idx.names[size_t(h.index)];
      const std::string png = png_name_for(name);
      fs::path src = mdir.empty() ? fs::path() : fs::path(mdir) / "overlay" / png;
      if (src.empty() || !fs::exists(src)) src = fs::path(idir) / name;  // no mask: the image
      std::string dst = "overlay/" + (src.extension() == ".png" ? png : name);
      fs::copy_file(src, fs::path(dir) / dst, fs::copy_options::overwrite_existing, ec);
      if (ec) {
        std::fprintf(stderr, "sirs query: warning: no picture for %s (%s)\n", name.c_str(),
                     ec.message().c_str());
        ec.clear();
      }
      sheet.push_back({name, dst, h.score});
    }
    const std::string html = dir + "/index.html";
    std::ofstream f(html);
    f << render_contact_sheet(a.get("text"), sheet);
    SIRS_CHECK(f.good(), IOError, "cannot write ", html);
    std::fprintf(stderr, "contact sheet: %s\n", html.c_str());
  }
  return 0;
}

}  // namespace

SIRS_COMMAND("query", "rank the images of an index for a text", cmd_query);

}  // namespace sirs::app

