// sirs test: the retrieval metrics of DESIGN §5 with the reference's names
// (and the segmentation metrics when the split has masks) of a checkpoint on
// the test (or val) split; --json writes exactly those keys.
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "apps/args.h"
#include "apps/command.h"
#include "apps/eval_common.h"
#include "apps/train.h"

namespace sirs::app {
namespace {

int cmd_test(int argc, char** argv) {
  Args a("test",
         "Evaluates a checkpoint on a split of the configured dataset: image->text and "
         "text->image R@1/5/10, median and mean rank, mR (DESIGN section 5), and Acc, Acc_class, "
         "mIoU, FWIoU, F1 of the segmentation when dataset.mask_path has the masks.");
  a.required("config", "FILE", "run configuration (YAML)");
  a.required("weights", "CKPT", "model checkpoint (safetensors)");
  a.value("split", "NAME", "split to evaluate: test | val", "test");
  a.value("json", "OUT", "also write the metrics as JSON");
  a.integer("batch", "N", "images / captions per forward pass (default dataset.batch_size_val)", 0, 0, 4096);
  a.repeated("set", "KEY=VALUE", "override a configuration key");
  if (auto rc = a.parse(argc, argv)) return *rc;
  const std::string split = a.get("split");
  if (split != "test" && split != "val")
    return a.usage_error("--split must be test or val, got \"" + split + "\"");

  RunConfig cfg = load_config(a.get("config"), a.get_all("set"));
  apply_runtime(cfg);
  auto model = load_model_for_eval(cfg, a.get("weights"));
  const int64_t batch = a.get_int("batch") > 0 ? a.get_int("batch") : cfg.batch_size_val;
  SplitEval ev = evaluate_split(cfg, *model, split, batch, false);
  const RetrievalMetrics& r = ev.retrieval;
  const double ips = ev.images.seconds > 0 ? double(r.n_images) / ev.images.seconds : 0.0;

  std::printf("%s split: %lld images, %lld captions (%.1f images/s)\n", split.c_str(),
              static_cast<long long>(r.n_images), static_cast<long long>(r.n_captions), ips);
  std::printf("image->text  R@1 %.2f  R@5 %.2f  R@10 %.2f  medr %.0f  meanr %.2f\n", r.r1i, r.r5i,
              r.r10i, r.medri, r.meanri);
  std::printf("text->image  R@1 %.2f  R@5 %.2f  R@10 %.2f  medr %.0f  meanr %.2f\n", r.r1t, r.r5t,
              r.r10t, r.medrt, r.meanrt);
  std::printf("mR %.2f\n", r.mR);
  if (ev.has_seg)
    std::printf("segmentation  Acc %.4f  Acc_class %.4f  mIoU %.4f  FWIoU %.4f  F1 %.4f\n", ev.seg.Acc,
                ev.seg.Acc_class, ev.seg.mIoU, ev.seg.FWIoU, ev.seg.F1);

  if (a.given("json")) {
    nlohmann::ordered_json j;
    j["r1i"] = r.r1i;
    j["r5i"] = r.r5i;
    j["r10i"] = r.r10i;
    j["medri"] = r.medri;
    j["meanri"] = r.meanri;
    j["r1t"] = r.r1t;
    j["r5t"] = r.r5t;
    j["r10t"] = r.r10t;
    j["medrt"] = r.medrt;
    j["meanrt"] = r.meanrt;
    j["mR"] = r.mR;
    j["n_images"] = r.n_images;
    j["n_captions"] = r.n_captions;
    j["images_per_s"] = ips;
    if (ev.has_seg)
      j["seg"] = {{"Acc", ev.seg.Acc},
                  {"Acc_class", ev.seg.Acc_class},
                  {"mIoU", ev.seg.mIoU},
                  {"FWIoU", ev.seg.FWIoU},
                  {"F1", ev.seg.F1}};
    const std::string out = a.get("json");
    std::ofstream f(out);
    f << j.dump(2) << "\n";
    SIRS_CHECK(f.good(), IOError, "cannot write ", out);
  }
  return 0;
}

}  // namespace

SIRS_COMMAND("test", "retrieval (and segmentation) metrics of a checkpoint on a split", cmd_test);

}  // namespace sirs::app

