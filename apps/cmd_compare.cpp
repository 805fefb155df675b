// sirs compare: how many of each image's top-k retrieved captions are its
// own (ground-truth) captions, from the i2t.yaml that `sirs infer` writes:
//
//   <image name>:
//     - {caption: "...", score: 0.83, caption_index: 17}
//     - ...
//
// caption_index is the line of the caption in DIR/test_caps.txt (0-based);
// image i owns lines 5i .. 5i+4. When an entry has no caption_index its
// caption text is looked up among the image's captions instead. An entry
// whose caption_index and caption disagree with the ground truth folder is an
// error (the folder is not the one the predictions were made on).
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdio>
#include <string>
#include <unordered_map>
#include <vector>

#include "apps/args.h"
#include "apps/command.h"
#include "data/precomp.h"
#include "tensor/error.h"

namespace {

std::string strip(const std::string& s) {
  const char* ws = " \t\r\n\v\f";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string::npos) return "";
  return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

int cmd_compare(int argc, char** argv) {
  sirs::app::Args a("compare",
                    "Per image, how many of its top-k retrieved captions (i2t.yaml of `sirs infer`) are\n"
                    "its own ground-truth captions, then a summary line. DIR is the precomp folder of the\n"
                    "split the predictions were made on.");
  a.required("pred", "FILE", "i2t.yaml: image name -> list of {caption, score, caption_index}")
      .required("gt", "DIR", "precomp folder with <split>_caps.txt and <split>_filename.txt")
      .value("split", "NAME", "split of the ground truth", "test")
      .integer("topk", "K", "captions per image to look at (0: all listed)", 0, 0)
      .flag("quiet", "print the summary line only");
  if (auto rc = a.parse(argc, argv)) return *rc;
  const std::string pred_path = a.get("pred");
  sirs::app::check_path("pred", pred_path);
  sirs::app::check_path("gt", a.get("gt"), true);
  sirs::PrecompOptions popt;
  popt.check_files = false;
  const sirs::PrecompSplit gt = sirs::read_precomp(a.get("gt"), a.get("split"), popt);
  const int cpi = gt.captions_per_image;
  std::unordered_map<std::string, int64_t> index_of;
  for (int64_t i = 0; i < gt.num_images(); ++i) index_of.emplace(gt.image_names[size_t(i)], i);

  YAML::Node root;
  try {
    root = YAML::LoadFile(pred_path);
  } catch (const YAML::BadFile&) {
    throw sirs::IOError(sirs::str_cat("cannot read ", pred_path));
  } catch (const YAML::Exception& e) {
    throw sirs::ValueError(sirs::str_cat("", pred_path, " is not valid YAML: ", e.what()));
  }
  SIRS_CHECK(root.IsMap(), ValueError, "", pred_path,
             " must map image names to lists of {caption, score, caption_index}");
  const int64_t topk = a.get_int("topk");
  const bool quiet = a.get_flag("quiet");

  int64_t images = 0, hits_total = 0, looked_total = 0, with_hit = 0;
  for (const auto& kv : root) {
    std::string name;
    try {
      name = kv.first.as<std::string>();
    } catch (const YAML::Exception&) {
      throw sirs::ValueError(sirs::str_cat("", pred_path, ": an image key is not a string"));
    }
    auto it = index_of.find(name);
    SIRS_CHECK(it != index_of.end(), ValueError, "", pred_path, ": image '", name,
               "' is not in the ", gt.split, " split of ", a.get("gt"));
    const YAML::Node& list = kv.second;
    SIRS_CHECK(list.IsSequence(), ValueError, "", pred_path, ": image '", name,
               "' must hold a list of captions");
    const int64_t img = it->second;
    const int64_t n = topk > 0 ? std::min<int64_t>(topk, int64_t(list.size())) : int64_t(list.size());
    int64_t hits = 0;
    for (int64_t r = 0; r < n; ++r) {
      const YAML::Node& e = list[size_t(r)];
      SIRS_CHECK(e.IsMap(), ValueError, "", pred_path, ": image '", name, "' entry ", r,
                 " must be a map {caption, score, caption_index}");
      std::string caption;
      bool has_caption = false, hit = false;
      try {
        if (e["caption"]) {
          caption = strip(e["caption"].as<std::string>());
          has_caption = true;
        }
        if (e["caption_index"]) {
          const int64_t c = e["caption_index"].as<int64_t>();
          SIRS_CHECK(c >= 0 && c < gt.num_captions(), ValueError, "", pred_path, ": image '", name,
                     "' entry ", r, ": caption_index ", c, " is outside 0..", gt.num_captions() - 1);
          SIRS_CHECK(!has_caption || gt.captions[size_t(c)] == caption, ValueError, "", pred_path,
                     ": image '", name, "' entry ", r, ": caption_index ", c, " is \"", gt.captions[size_t(c)],
                     "\" in ", a.get("gt"), " but the prediction says \"", caption, "\"");
          hit = gt.image_of_caption(c) == img;
        } else {
          SIRS_CHECK(has_caption, ValueError, "", pred_path, ": image '", name, "' entry ", r,
                     " has neither caption_index nor caption");
          for (int k = 0; k < cpi; ++k) hit = hit || gt.captions[size_t(img * cpi + k)] == caption;
        }
      } catch (const YAML::Exception& ex) {
        throw sirs::ValueError(sirs::str_cat("", pred_path, ": image '", name, "' entry ", r, ": ",
                                             ex.what()));
      }
      hits += hit ? 1 : 0;
    }
    if (!quiet) std::printf("%s\t%lld/%lld\n", name.c_str(), static_cast<long long>(hits), static_cast<long long>(n));
    ++images;
    hits_total += hits;
    looked_total += n;
    with_hit += hits > 0 ? 1 : 0;
  }
  SIRS_CHECK(images > 0, ValueError, "", pred_path, " lists no image");
  std::printf(
      "%lld images: %lld of %lld top captions are ground truth (%.2f%%, %.2f per image); "
      "%lld images (%.2f%%) have at least one\n",
      static_cast<long long>(images), static_cast<long long>(hits_total), static_cast<long long>(looked_total),
      looked_total > 0 ? 100.0 * double(hits_total) / double(looked_total) : 0.0,
      double(hits_total) / double(images), static_cast<long long>(with_hit),
      100.0 * double(with_hit) / double(images));
  return 0;
}

}  // namespace

SIRS_COMMAND("compare", "count ground-truth captions among each image's top-k (i2t.yaml)", cmd_compare);
