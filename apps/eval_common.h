// Shared steps of `sirs test/infer/index/query`: build the model of a run
// configuration and load its weights, embed images (evaluation pipeline:
// bilinear resize to model.image_size, ImageNet normalisation) and captions
// in batches without a graph, and turn segmentation logits into class maps.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/config.h"
#include "data/image_io.h"
#include "data/mask.h"
#include "data/precomp.h"
#include "models/metrics.h"
#include "tensor/tensor.h"

namespace sirs {
class SirsModel;
class Vocab;
}  // namespace sirs

namespace sirs::app {

// A predicted class map (class index per pixel, [H, W] row-major): the
// same record as a ground-truth mask, so data/transforms.h resizes both.
using ClassMap = Mask;

// The model of cfg (vocab_size taken from dataset.vocab_path when the config
// leaves it 0) in eval mode with the checkpoint's weights: every model tensor
// must be in the file with its shape (IOError naming the checkpoint and the
// offending names; other entries such as optimizer state are ignored).
std::shared_ptr<SirsModel> load_model_for_eval(RunConfig& cfg, const std::string& weights);

struct ImageEmbeddings {
  std::vector<Tensor> vecs;  // per scale v_k [N, E] (float32)
  Tensor descriptors;        // [N, E] mean_k of unit v_k (DESIGN §3)
  // [N] class maps at each image's own size (with want_masks and a decoder)
  std::vector<ClassMap> predicted;
  double seconds = 0;
};

// Called with image i's argmax class map at the model's input size
// (image_size x image_size, where the metrics of DESIGN §5 are taken) and
// the image's own height and width.
using ModelMapFn = std::function<void(int64_t i, const ClassMap& map, int image_h, int image_w)>;

// Embeds the images at `paths` in batches of `batch` (IOError naming a
// missing or corrupt image); with want_masks and a decoder, the argmax class
// map of every image at its own size (resize_nearest, as masks are resized
// for training); with on_map and a decoder, each map at the model's size
// goes to on_map as its batch is done.
ImageEmbeddings embed_images(SirsModel& model, const std::vector<std::string>& paths,
                             int64_t image_size, int64_t batch, bool want_masks,
                             const ModelMapFn& on_map = nullptr);

// [M, E] text vectors of the captions (tokenised with vocab).
Tensor embed_captions(SirsModel& model, const Vocab& vocab,
                      const std::vector<std::string>& captions, int64_t batch);

// A split of the configured dataset, evaluated: every image embedded once,
// every caption once, the score matrix and the metrics of DESIGN §5.
struct SplitEval {
  PrecompSplit split;
  ImageEmbeddings images;
  Tensor text;  // [M, E]
  Tensor sims;  // [N, M] float32, images in split order, captions in file order
  RetrievalMetrics retrieval;
  bool has_seg = false;  // ground-truth masks were found (dataset.mask_path) and a decoder
  // As the validation of `sirs train` (apps/evaluate.h) computes them: each
  // prediction at the model's input size against its mask resized there
  // (nearest), the evaluation pipeline of DESIGN §4.
  SegmentationMetrics seg;
};

// Predicted masks at each image's own size are kept (images.predicted) when
// keep_masks.
SplitEval evaluate_split(const RunConfig& cfg, SirsModel& model, const std::string& split,
                         int64_t batch, bool keep_masks);

// Image names of a folder (files with an image extension: tif, tiff, png,
// jpg, jpeg, bmp), sorted; IOError when the folder is missing or has none.
std::vector<std::string> list_images(const std::string& dir);

// FNV-1a hex of a file's bytes (IOError when unreadable).
std::string file_hash(const std::string& path);

}  // namespace sirs::app

