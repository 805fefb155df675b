// The HTML pages of `sirs infer` (report.html) and `sirs query --out`
// (index.html): one self-contained offline file each, images referenced by
// relative paths, inline CSS, no scripts, no external resources.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "data/image_io.h"

namespace sirs::app {

// &, <, >, " and ' as entities.
std::string html_escape(const std::string& s);
// A file name as a relative URL: every byte outside [A-Za-z0-9._~/-] as %XX.
std::string url_path(const std::string& s);

struct RetrievalReport {
  std::string title;                     // e.g. "sirs infer: test split"
  std::vector<std::string> image_names;  // [N]
  std::vector<std::string> captions;     // [M], caption j belongs to image j / captions_per_image
  int64_t captions_per_image = 5;
  const float* sims = nullptr;           // [N, M] row-major
  std::string overlay_dir = "overlay";   // relative folder of <stem>.png overlays
  int64_t topk = 5;
  int64_t samples = 12;                  // captions and images shown (spread evenly)
  std::string summary;                   // a line of metrics shown at the top (may be empty)
};

// The infer report: for `samples` captions their top-k images (overlay,
// name, score, a check mark on the right one) and for `samples` images their
// top-k captions (right ones marked).
std::string render_retrieval_report(const RetrievalReport& r);

struct SheetEntry {
  std::string name;   // image name
  std::string image;  // relative path of the picture shown (overlay)
  float score = 0;
};

// The contact sheet of `sirs query --out`: the query text and a grid of the
// ranked images with rank, name and score.
std::string render_contact_sheet(const std::string& query, const std::vector<SheetEntry>& hits);

// The picture file name for an image name: stem + ".png" ("a_1.tif" -> "a_1.png").
std::string png_name_for(const std::string& image_name);

}  // namespace sirs::app

namespace sirs::app {

// Writes the pictures of one predicted class map (labels [h, w], class
// indices) for an RGB image of the same size: label_png in the RSITMD-SS
// mask format (value = 10 x class), seg_png colour-coded with the DESIGN §2
// palette, overlay_png = 0.7 image + 0.3 colour mask. An empty path skips
// that picture. IOError naming the file when it cannot be written.
void write_prediction_pictures(const Image& image, int h, int w, const std::vector<uint8_t>& labels,
                               const std::string& label_png, const std::string& seg_png,
                               const std::string& overlay_png);

}  // namespace sirs::app
