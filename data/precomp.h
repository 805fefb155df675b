// The "precomp" dataset layout of RSITMD / RSICD / UCM-captions (DESIGN §2):
//   <precomp_dir>/{split}_caps.txt      one caption per line, 5 per image
//   <precomp_dir>/{split}_filename.txt  one name per image, or one per caption
//   <image_dir>/<name>                  the images
//   <mask_dir>/mask_<stem>.png          optional RSITMD-SS masks (stem = name
//                                       without its extension)
// Lines may end in LF or CRLF, the last one may lack its newline; each line
// is stripped of surrounding ASCII whitespace as the reference does.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Data*'
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sirs {

struct PrecompOptions {
  std::string image_dir;  // folder with the images; empty: paths are not built or checked
  std::string mask_dir;   // folder with mask_<stem>.png; empty: no masks
  int captions_per_image = 5;
  bool check_files = true;  // every image (and mask) must exist; all missing ones are listed
  // The public RSITMD train split has four images whose five captions are all
  // empty (train_caps.txt lines 9631-9635, 14011-14015, 19576-19580 and
  // 20916-20920). The reference
  // keeps them as captions of length 1 (a single padding id); by default we
  // refuse them with the line numbers, set this to keep them.
  bool allow_empty_captions = false;
};

struct PrecompSplit {
  std::string split;
  std::vector<std::string> captions;     // [N_cap], stripped
  std::vector<std::string> image_names;  // [N_img], N_cap = N_img * captions_per_image
  std::vector<std::string> image_paths;  // [N_img] image_dir/name (empty without image_dir)
  std::vector<std::string> mask_paths;   // [N_img] mask_dir/mask_<stem>.png, or empty
  int captions_per_image = 5;
  // 1 when the filename file has one name per image, captions_per_image when it
  // repeats the name for every caption (the reference's "im_div").
  int names_per_image = 1;

  int64_t num_images() const { return int64_t(image_names.size()); }
  int64_t num_captions() const { return int64_t(captions.size()); }
  int64_t image_of_caption(int64_t caption) const { return caption / captions_per_image; }
};

// Reads {split}_caps.txt and {split}_filename.txt from precomp_dir. Throws
// IOError for unreadable/missing files (all missing images and masks listed,
// capped at 20 names plus a count) and ValueError for contents: invalid
// UTF-8 or an empty caption (file and line), a name/caption count ratio that
// is neither 1 nor captions_per_image (both files and counts), a caption
// count that is not a multiple of captions_per_image, names that differ
// inside one image's group of repeated names.
PrecompSplit read_precomp(const std::string& precomp_dir, const std::string& split,
                          const PrecompOptions& opt = {});

// The lines of a text file: LF or CRLF endings, no final newline needed, every
// line checked to be valid UTF-8 (ValueError naming the file, line and byte).
// Lines are not stripped.
std::vector<std::string> read_text_lines(const std::string& path);

// Offset of the first byte that is not part of a well-formed UTF-8 sequence
// (no overlongs, no surrogates, at most U+10FFFF), or -1 when s is valid.
int64_t find_invalid_utf8(const std::string& s);

// "airport_4691.tif" -> "mask_airport_4691.png".
std::string mask_name_for(const std::string& image_name);

// Joins a folder and a file name with one '/'.
std::string join_path(const std::string& dir, const std::string& name);

}  // namespace sirs
