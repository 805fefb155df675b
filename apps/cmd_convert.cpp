// sirs convert: pretrained and reference weights -> one safetensors file with
// the reference names of DESIGN §6 (models/import.h), and export of a sirs
// training checkpoint's model tensors. Several inputs combine into one output
// (e.g. a torchvision ResNet and the skip-thoughts text encoder); two inputs
// giving the same tensor name is an error naming both.
#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "apps/args.h"
#include "apps/command.h"
#include "data/vocab.h"
#include "layers/safetensors.h"
#include "models/import.h"
#include "tensor/error.h"

namespace {

// Optimizer state in a sirs checkpoint lives under this prefix (apps/checkpoint.h).
constexpr const char* kOptimPrefix = "optim.";

struct Source {
  std::string what;  // "--torchvision resnet18.pth"
  sirs::NamedTensors tensors;
};

void print_notices(const std::string& what, const sirs::ImportResult& r) {
  for (const std::string& n : r.notices) std::printf("%s: %s\n", what.c_str(), n.c_str());
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int cmd_convert(int argc, char** argv) {
  sirs::app::Args a("convert",
                    "Converts weights into one safetensors file with the reference tensor names, ready\n"
                    "for model.init: a torchvision ImageNet ResNet-18/-50 (.pth or safetensors), a\n"
                    "checkpoint of the PyTorch SIRS code (.pth.tar), the skip-thoughts uni-skip release\n"
                    "(dictionary.txt, utable.npy, uni_skip.npz in one folder, with the vocabulary whose\n"
                    "ids the embedding rows follow), or the model tensors of a sirs training checkpoint\n"
                    "(--export: optimizer state and run metadata left out). Inputs may be combined;\n"
                    "tensor names must not collide.");
  a.value("torchvision", "FILE", "torchvision ResNet weights (.pth or .safetensors)")
      .value("reference", "FILE", "reference SIRS checkpoint (.pth.tar)")
      .value("skipthoughts", "DIR", "skip-thoughts uni-skip folder (needs --vocab)")
      .value("vocab", "FILE", "vocabulary JSON for --skipthoughts")
      .value("export", "CKPT", "sirs checkpoint (.safetensors) whose model tensors to keep")
      .required("out", "FILE.safetensors", "output file (written atomically)");
  a.epilog(
      "examples:\n"
      "  sirs convert --torchvision resnet18-f37072fd.pth --skipthoughts skip-thoughts/ \\\n"
      "               --vocab vocab/rsitmd_splits_vocab.json --out init.safetensors\n"
      "  sirs convert --reference SIRS_rsitmd.pth.tar --out sirs_rsitmd.safetensors\n"
      "  sirs convert --export runs/synthetic/fold0/best.safetensors --out weights.safetensors");
  if (auto rc = a.parse(argc, argv)) return *rc;
  if (!a.given("torchvision") && !a.given("reference") && !a.given("skipthoughts") && !a.given("export"))
    return a.usage_error("nothing to convert: give --torchvision, --reference, --skipthoughts or --export");
  if (a.given("skipthoughts") != a.given("vocab"))
    return a.usage_error(a.given("skipthoughts") ? "--skipthoughts needs --vocab FILE"
                                                 : "--vocab is only used with --skipthoughts");
  const std::string out = a.get("out");
  if (!ends_with(out, ".safetensors"))
    return a.usage_error("--out must name a .safetensors file, got '" + out + "'");

  for (const char* o : {"torchvision", "reference", "vocab", "export"})
    if (a.given(o)) sirs::app::check_path(o, a.get(o));
  if (a.given("skipthoughts")) sirs::app::check_path("skipthoughts", a.get("skipthoughts"), true);
  std::vector<Source> sources;
  if (a.given("torchvision")) {
    const std::string what = "--torchvision " + a.get("torchvision");
    sirs::ImportResult r = sirs::import_torchvision_resnet(a.get("torchvision"));
    print_notices(what, r);
    sources.push_back({what, std::move(r.tensors)});
  }
  if (a.given("reference")) {
    const std::string what = "--reference " + a.get("reference");
    sirs::ReferenceCheckpoint ck = sirs::load_reference_checkpoint(a.get("reference"));
    print_notices(what, ck.weights);
    if (ck.epoch >= 0) std::printf("%s: saved after epoch %lld\n", what.c_str(), static_cast<long long>(ck.epoch));
    sources.push_back({what, std::move(ck.weights.tensors)});
  }
  if (a.given("skipthoughts")) {
    const std::string what = "--skipthoughts " + a.get("skipthoughts");
    sirs::Vocab vocab = sirs::Vocab::load_json(a.get("vocab"));
    sirs::ImportResult r = sirs::import_skipthoughts(sirs::skipthoughts_files(a.get("skipthoughts")), vocab);
    print_notices(what, r);
    sources.push_back({what, std::move(r.tensors)});
  }
  if (a.given("export")) {
    const std::string what = "--export " + a.get("export");
    sirs::SafetensorsFile f = sirs::load_safetensors(a.get("export"));
    Source s{what, {}};
    int64_t dropped = 0;
    for (auto& nt : f.tensors) {
      if (nt.first.compare(0, std::string(kOptimPrefix).size(), kOptimPrefix) == 0) {
        ++dropped;
        continue;
      }
      s.tensors.push_back(std::move(nt));
    }
    std::printf("%s: %zu model tensors kept, %lld optimizer tensors and %zu metadata entries left out\n",
                what.c_str(), s.tensors.size(), static_cast<long long>(dropped), f.metadata.size());
    sources.push_back(std::move(s));
  }

  sirs::NamedTensors all;
  std::map<std::string, std::string> owner;  // name -> source
  for (Source& s : sources) {
    for (auto& nt : s.tensors) {
      auto [it, fresh] = owner.emplace(nt.first, s.what);
      if (!fresh)
        throw sirs::ValueError(sirs::str_cat("tensor '", nt.first, "' comes from both ", it->second,
                                             " and ", s.what, "; convert them separately"));
      all.push_back(std::move(nt));
    }
  }
  SIRS_CHECK(!all.empty(), ValueError, "the inputs hold no tensor");
  sirs::save_safetensors(out, all, {{"format", "sirs-weights-1"}});
  int64_t values = 0;
  for (const auto& nt : all) values += nt.second.numel();
  std::printf("wrote %s: %zu tensors, %lld values\n", out.c_str(), all.size(), static_cast<long long>(values));
  return 0;
}

}  // namespace

SIRS_COMMAND("convert", "import torchvision / reference / skip-thoughts weights; export a checkpoint", cmd_convert);
