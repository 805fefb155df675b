// sirs index: embeds every image of a folder into a search index (one
// descriptor per image, DESIGN §3; apps/search_index.h) and writes each
// image's predicted mask beside it:
//   INDEX                       the safetensors index
//   INDEX.masks/labels/<stem>.png   class map, value = 10 x class
//   INDEX.masks/overlay/<stem>.png  0.7 image + 0.3 colour mask
#include <cstdio>
#include <filesystem>

#include "apps/args.h"
#include "apps/command.h"
#include "apps/eval_common.h"
#include "apps/report.h"
#include "apps/search_index.h"
#include "apps/train.h"
#include "data/precomp.h"

namespace sirs::app {
namespace {

int cmd_index(int argc, char** argv) {
  Args a("index",
         "Embeds every image of a folder (one embed_dim descriptor per image: the mean of the "
         "unit per-scale vectors, DESIGN section 3) into a safetensors index for `sirs query`; "
         "the predicted masks go to INDEX.masks/{labels,overlay}/.");
  a.required("config", "FILE", "run configuration (YAML)");
  a.required("weights", "CKPT", "model checkpoint (safetensors)");
  a.required("images", "DIR", "folder of images (.tif .png .jpg .bmp)");
  a.required("out", "INDEX", "index file to write");
  a.integer("batch", "N", "images per forward pass", 16, 1, 4096);
  a.flag("no-masks", "do not write the predicted masks");
  a.repeated("set", "KEY=VALUE", "override a configuration key");
  if (auto rc = a.parse(argc, argv)) return *rc;

  RunConfig cfg = load_config(a.get("config"), a.get_all("set"));
  apply_runtime(cfg);
  auto model = load_model_for_eval(cfg, a.get("weights"));
  const std::string dir = a.get("images"), out = a.get("out");
  std::vector<std::string> names = list_images(dir);
  std::vector<std::string> paths;
  for (const auto& n : names) paths.push_back(join_path(dir, n));
  const bool masks = !a.get_flag("no-masks") && cfg.model.decoder;
  ImageEmbeddings emb = embed_images(*model, paths, cfg.model.image_size, a.get_int("batch"), masks);

  SearchIndex idx;
  idx.names = names;
  idx.embed_dim = emb.descriptors.shape()[1];
  const float* d = emb.descriptors.data<float>();
  idx.descriptors.assign(d, d + emb.descriptors.numel());
  namespace fs = std::filesystem;
  idx.metadata["config_hash"] = cfg.hash;
  idx.metadata["config"] = fs::absolute(cfg.source).string();
  idx.metadata["weights"] = fs::absolute(a.get("weights")).string();
  idx.metadata["image_dir"] = fs::absolute(dir).string();
  if (masks) {
    const std::string mdir = out + ".masks";
    std::error_code ec;
    fs::create_directories(mdir + "/labels", ec);
    fs::create_directories(mdir + "/overlay", ec);
    SIRS_CHECK(!ec, IOError, "cannot create ", mdir, ": ", ec.message());
    for (size_t i = 0; i < names.size(); ++i) {
      const ClassMap& m = emb.predicted[i];
      const std::string png = png_name_for(names[i]);
      write_prediction_pictures(read_image_rgb(paths[i]), m.h, m.w, m.labels,
                                mdir + "/labels/" + png, "", mdir + "/overlay/" + png);
    }
    idx.metadata["mask_dir"] = fs::absolute(mdir).string();
  }
  save_index(out, idx);
  std::printf("indexed %zu images (%lld-d descriptors, %.1f images/s) -> %s\n", names.size(),
              static_cast<long long>(idx.embed_dim),
              emb.seconds > 0 ? double(names.size()) / emb.seconds : 0.0, out.c_str());
  return 0;
}

}  // namespace

SIRS_COMMAND("index", "embed a folder of images into a search index", cmd_index);

}  // namespace sirs::app

