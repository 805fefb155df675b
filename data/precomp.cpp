// Precomp dataset reader (see data/precomp.h for the layout).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Data*'
#include "data/precomp.h"

#include <sys/stat.h>

#include <fstream>
#include <sstream>

#include "tensor/error.h"

namespace sirs {

namespace {

constexpr size_t kMaxListedMissing = 20;

bool is_space(char ch) {
  return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\f' || ch == '\v';
}

std::string strip(const std::string& s) {
  size_t b = 0, e = s.size();
  while (b < e && is_space(s[b])) ++b;
  while (e > b && is_space(s[e - 1])) --e;
  return s.substr(b, e - b);
}

bool is_file(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

// Describes the missing paths (at most kMaxListedMissing, then a count);
// empty when all exist.
std::string describe_missing(const std::vector<std::string>& paths, const char* what,
                             const std::string& listed_in) {
  std::vector<std::string> missing;
  for (const auto& p : paths)
    if (!is_file(p)) missing.push_back(p);
  if (missing.empty()) return "";
  std::ostringstream os;
  os << missing.size() << " of " << paths.size() << " " << what << " files named in "
     << listed_in << " are missing:";
  for (size_t i = 0; i < missing.size() && i < kMaxListedMissing; ++i) os << "\n  " << missing[i];
  if (missing.size() > kMaxListedMissing)
    os << "\n  ... and " << missing.size() - kMaxListedMissing << " more";
  return os.str();
}

}  // namespace

int64_t find_invalid_utf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    unsigned char b = p[i];
    if (b < 0x80) { ++i; continue; }
    int len = 0;
    uint32_t cp = 0, min_cp = 0;
    if ((b & 0xE0) == 0xC0) len = 2, cp = b & 0x1F, min_cp = 0x80;
    else if ((b & 0xF0) == 0xE0) len = 3, cp = b & 0x0F, min_cp = 0x800;
    else if ((b & 0xF8) == 0xF0) len = 4, cp = b & 0x07, min_cp = 0x10000;
    else return int64_t(i);
    if (i + len > n) return int64_t(i);
    for (int k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) return int64_t(i);
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min_cp || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return int64_t(i);
    i += len;
  }
  return -1;
}

std::vector<std::string> read_text_lines(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IOError(str_cat("read_text_lines: cannot open ", path));
  std::vector<std::string> lines;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    int64_t bad = find_invalid_utf8(line);
    if (bad >= 0)
      throw ValueError(str_cat("read_text_lines: ", path, ": line ", lines.size() + 1,
                               ": invalid UTF-8 at byte ", bad + 1, " (byte value 0x", std::hex,
                               int(static_cast<unsigned char>(line[size_t(bad)])), ")"));
    lines.push_back(std::move(line));
    line.clear();
  }
  if (in.bad()) throw IOError(str_cat("read_text_lines: read error on ", path));
  return lines;
}

std::string mask_name_for(const std::string& image_name) {
  auto slash = image_name.find_last_of('/');
  std::string base = slash == std::string::npos ? image_name : image_name.substr(slash + 1);
  auto dot = base.find_last_of('.');
  std::string stem = dot == std::string::npos || dot == 0 ? base : base.substr(0, dot);
  return "mask_" + stem + ".png";
}

std::string join_path(const std::string& dir, const std::string& name) {
  if (dir.empty()) return name;
  if (dir.back() == '/') return dir + name;
  return dir + "/" + name;
}

PrecompSplit read_precomp(const std::string& precomp_dir, const std::string& split,
                          const PrecompOptions& opt) {
  SIRS_CHECK(opt.captions_per_image >= 1, ValueError,
             "read_precomp: captions_per_image must be >= 1, got ", opt.captions_per_image);
  const int k = opt.captions_per_image;
  const std::string caps_file = join_path(precomp_dir, split + "_caps.txt");
  const std::string names_file = join_path(precomp_dir, split + "_filename.txt");

  PrecompSplit out;
  out.split = split;
  out.captions_per_image = k;

  std::vector<std::string> caps = read_text_lines(caps_file);
  std::vector<std::string> names = read_text_lines(names_file);
  SIRS_CHECK(!caps.empty(), ValueError, "read_precomp: ", caps_file, " has no captions");

  std::vector<size_t> empty_lines;
  out.captions.reserve(caps.size());
  for (size_t i = 0; i < caps.size(); ++i) {
    out.captions.push_back(strip(caps[i]));
    if (out.captions.back().empty()) empty_lines.push_back(i + 1);
  }
  if (!empty_lines.empty() && !opt.allow_empty_captions) {
    std::ostringstream os;
    os << "read_precomp: " << caps_file << ": " << empty_lines.size()
       << " empty caption line(s), line";
    for (size_t i = 0; i < empty_lines.size() && i < kMaxListedMissing; ++i)
      os << (i == 0 ? " " : ", ") << empty_lines[i];
    if (empty_lines.size() > kMaxListedMissing) os << ", ...";
    os << " (set PrecompOptions::allow_empty_captions to keep them as length-1 captions)";
    throw ValueError(os.str());
  }

  const size_t n_caps = caps.size(), n_names = names.size();
  SIRS_CHECK(n_caps % size_t(k) == 0, ValueError, "read_precomp: ", caps_file, " has ", n_caps,
             " captions, not a multiple of ", k, " captions per image");
  const size_t n_img = n_caps / size_t(k);
  if (n_names == n_caps && k > 1) {
    out.names_per_image = k;
  } else if (n_names == n_img) {
    out.names_per_image = 1;
  } else {
    throw ValueError(str_cat("read_precomp: ", names_file, " has ", n_names, " names but ",
                             caps_file, " has ", n_caps, " captions; expected ", n_img,
                             " (one per image) or ", n_caps, " (one per caption)"));
  }
  out.image_names.reserve(n_img);
  for (size_t i = 0; i < n_img; ++i) {
    const size_t line = i * size_t(out.names_per_image);
    std::string name = strip(names[line]);
    SIRS_CHECK(!name.empty(), ValueError, "read_precomp: ", names_file, ": line ", line + 1,
               ": empty file name");
    for (int j = 1; j < out.names_per_image; ++j) {
      std::string other = strip(names[line + size_t(j)]);
      SIRS_CHECK(other == name, ValueError, "read_precomp: ", names_file, ": line ",
                 line + size_t(j) + 1, ": name '", other, "' differs from '", name, "' on line ",
                 line + 1, " (names repeated per caption must agree within an image's ", k,
                 " lines)");
    }
    out.image_names.push_back(std::move(name));
  }

  std::string missing;
  if (!opt.image_dir.empty()) {
    for (const auto& n : out.image_names) out.image_paths.push_back(join_path(opt.image_dir, n));
    if (opt.check_files) missing = describe_missing(out.image_paths, "image", names_file);
  }
  if (!opt.mask_dir.empty()) {
    for (const auto& n : out.image_names)
      out.mask_paths.push_back(join_path(opt.mask_dir, mask_name_for(n)));
    if (opt.check_files) {
      std::string m = describe_missing(out.mask_paths, "mask", names_file);
      if (!m.empty()) missing += (missing.empty() ? "" : "\n") + m;
    }
  }
  if (!missing.empty()) throw IOError("read_precomp: " + missing);
  return out;
}

}  // namespace sirs
