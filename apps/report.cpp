// HTML pages of `sirs infer` and `sirs query` (see apps/report.h).
#include "apps/report.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <functional>
#include <numeric>
#include <sstream>

#include "data/mask.h"
#include "data/palette.h"

namespace sirs::app {

std::string html_escape(const std::string& s) {
  std::string o;
  o.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': o += "&amp;"; break;
      case '<': o += "&lt;"; break;
      case '>': o += "&gt;"; break;
      case '"': o += "&quot;"; break;
      case '\'': o += "&#39;"; break;
      default: o += c;
    }
  }
  return o;
}

std::string url_path(const std::string& s) {
  static const char* hex = "0123456789ABCDEF";
  std::string o;
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '.' || c == '_' || c == '~' || c == '/' || c == '-') {
      o += char(c);
    } else {
      o += '%';
      o += hex[c >> 4];
      o += hex[c & 15];
    }
  }
  return o;
}

std::string png_name_for(const std::string& image_name) {
  size_t dot = image_name.rfind('.');
  return (dot == std::string::npos ? image_name : image_name.substr(0, dot)) + ".png";
}

namespace {

const char* kStyle = R"(<style>
body{font-family:sans-serif;margin:20px;background:#fafafa;color:#222}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ccc}
.q{margin:14px 0 4px 0;font-weight:bold}
.row{display:flex;flex-wrap:wrap;gap:8px}
.card{width:150px;font-size:12px;background:#fff;border:3px solid #ddd;padding:3px}
.card img{width:150px;height:150px;object-fit:cover;display:block}
.ok{border-color:#2a9d3a}.ok .mark{color:#2a9d3a;font-weight:bold}
.img{display:flex;gap:12px;margin:10px 0;background:#fff;padding:6px;border:1px solid #ddd}
.img img{width:180px;height:180px;object-fit:cover}
ol{margin:0;padding-left:22px;font-size:14px}li.ok{color:#2a9d3a;font-weight:bold}
.muted{color:#777;font-size:12px}
</style>)";

std::string fmt_score(float v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", double(v));
  return buf;
}

// k evenly spread indices of [0, n).
std::vector<int64_t> spread(int64_t n, int64_t k) {
  std::vector<int64_t> out;
  k = std::min(k, n);
  for (int64_t i = 0; i < k; ++i) out.push_back(i * n / k);
  return out;
}

std::vector<int64_t> top(int64_t n, int64_t k, const std::function<float(int64_t)>& score) {
  std::vector<int64_t> idx(static_cast<size_t>(n));
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, n);
  std::partial_sort(idx.begin(), idx.begin() + k, idx.end(), [&](int64_t a, int64_t b) {
    float sa = score(a), sb = score(b);
    return sa > sb || (sa == sb && a < b);
  });
  idx.resize(size_t(k));
  return idx;
}

}  // namespace

std::string render_retrieval_report(const RetrievalReport& r) {
  const int64_t n = int64_t(r.image_names.size()), m = int64_t(r.captions.size());
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" << html_escape(r.title)
    << "</title>" << kStyle << "</head><body>\n<h1>" << html_escape(r.title) << "</h1>\n";
  if (!r.summary.empty()) h << "<p>" << html_escape(r.summary) << "</p>\n";
  h << "<p class=\"muted\">" << n << " images, " << m << " captions; top " << r.topk
    << " shown; a green frame (&#10004;) marks a ground-truth match.</p>\n";
  auto overlay = [&](int64_t i) {
    return url_path(r.overlay_dir + "/" + png_name_for(r.image_names[size_t(i)]));
  };

  h << "<h2>Text &rarr; image</h2>\n";
  for (int64_t j : spread(m, r.samples)) {
    const int64_t truth = j / r.captions_per_image;
    h << "<div class=\"q\">&ldquo;" << html_escape(r.captions[size_t(j)])
      << "&rdquo; <span class=\"muted\">(caption " << j << ", of "
      << html_escape(r.image_names[size_t(truth)]) << ")</span></div>\n<div class=\"row\">\n";
    auto best = top(n, r.topk, [&](int64_t i) { return r.sims[i * m + j]; });
    for (size_t rank = 0; rank < best.size(); ++rank) {
      const int64_t i = best[rank];
      const bool ok = i == truth;
      h << "<div class=\"card" << (ok ? " ok" : "") << "\"><img src=\"" << overlay(i)
        << "\" alt=\"\"><span class=\"mark\">" << (ok ? "&#10004; " : "") << "#" << rank + 1
        << "</span> " << html_escape(r.image_names[size_t(i)]) << "<br>"
        << fmt_score(r.sims[i * m + j]) << "</div>\n";
    }
    h << "</div>\n";
  }

  h << "<h2>Image &rarr; text</h2>\n";
  for (int64_t i : spread(n, r.samples)) {
    h << "<div class=\"img\"><img src=\"" << overlay(i) << "\" alt=\"\"><div><b>"
      << html_escape(r.image_names[size_t(i)]) << "</b><ol>\n";
    auto best = top(m, r.topk, [&](int64_t j) { return r.sims[i * m + j]; });
    for (int64_t j : best) {
      const bool ok = j / r.captions_per_image == i;
      h << "<li" << (ok ? " class=\"ok\"" : "") << ">" << (ok ? "&#10004; " : "")
        << html_escape(r.captions[size_t(j)]) << " <span class=\"muted\">"
        << fmt_score(r.sims[i * m + j]) << "</span></li>\n";
    }
    h << "</ol></div></div>\n";
  }
  h << "</body></html>\n";
  return h.str();
}

std::string render_contact_sheet(const std::string& query, const std::vector<SheetEntry>& hits) {
  std::ostringstream h;
  h << "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>sirs query</title>" << kStyle
    << "</head><body>\n<h1>&ldquo;" << html_escape(query) << "&rdquo;</h1>\n<div class=\"row\">\n";
  for (size_t k = 0; k < hits.size(); ++k)
    h << "<div class=\"card\"><img src=\"" << url_path(hits[k].image) << "\" alt=\"\">#" << k + 1
      << " " << html_escape(hits[k].name) << "<br>" << fmt_score(hits[k].score) << "</div>\n";
  h << "</div>\n</body></html>\n";
  return h.str();
}

}  // namespace sirs::app

namespace sirs::app {

void write_prediction_pictures(const Image& image, int h, int w, const std::vector<uint8_t>& labels,
                               const std::string& label_png, const std::string& seg_png,
                               const std::string& overlay_png) {
  Mask m;
  m.h = h;
  m.w = w;
  m.labels = labels;
  if (!label_png.empty()) write_mask(label_png, m);
  if (!seg_png.empty()) write_png(seg_png, colorize_mask(m));
  if (!overlay_png.empty()) write_png(overlay_png, overlay(image, m, 0.3));
}

}  // namespace sirs::app
