// Image decode/encode for the datasets: TIFF through libtiff, PNG/JPEG through
// stb_image, PNG written with stb_image_write.
//
// Image layout: `Image` holds 8-bit samples in HWC order (row-major, the C
// channels of one pixel adjacent), c in {1, 2, 3, 4} = gray, gray+alpha,
// RGB, RGBA. A plain byte vector rather than a uint8 Tensor: decoding and
// augmentation work on bytes and only the final HWC->CHW float step creates
// a Tensor.
//
// Every failure (missing, truncated or garbage file, unsupported layout) is
// a sirs::IOError whose message names the file and the decoder's own reason;
// libtiff's messages are captured per handle, never printed.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='ImageIO*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=tiff
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace sirs {

struct Image {
  int h = 0, w = 0, c = 0;
  std::vector<uint8_t> data;  // [H, W, C]

  Image() = default;
  Image(int h_, int w_, int c_) : h(h_), w(w_), c(c_), data(size_t(h_) * w_ * c_, 0) {}
  uint8_t& at(int y, int x, int ch) { return data[(size_t(y) * w + x) * c + ch]; }
  uint8_t at(int y, int x, int ch) const { return data[(size_t(y) * w + x) * c + ch]; }
};

// Largest decoded TIFF accepted (H * W * C bytes), so a damaged header cannot
// make the reader allocate gigabytes.
constexpr uint64_t kMaxImageBytes = uint64_t(1) << 30;

// TIFF compression schemes write_tiff can produce.
enum class TiffCompression { kNone, kPackBits, kLZW, kDeflate };

struct TiffWriteOptions {
  TiffCompression compression = TiffCompression::kPackBits;
  bool tiled = false;        // tiles instead of strips
  int tile_size = 16;        // tile edge (libtiff needs a multiple of 16)
  int rows_per_strip = 0;    // 0: libtiff's default
};

// Reads an 8-bit TIFF: strips or tiles, contiguous planes, 1 (gray, also
// min-is-white, inverted to min-is-black), 2 (gray+alpha), 3 (RGB) or
// 4 (RGBA) samples, any compression this libtiff decodes (none, PackBits,
// LZW, Deflate, with or without predictor). Orientation must be top-left.
Image read_tiff(const std::string& path);
void write_tiff(const std::string& path, const Image& img, const TiffWriteOptions& opt = {});

// PNG, JPEG (and the other formats stb_image knows), native channel count
// (desired_channels = 0) or forced to 1..4 channels.
Image read_stb(const std::string& path, int desired_channels = 0);
void write_png(const std::string& path, const Image& img);

// Picks the decoder from the extension (.tif/.tiff: libtiff, else stb_image)
// and converts to 3-channel RGB (gray replicated, alpha dropped).
Image read_image_rgb(const std::string& path);

// Converts any 1..4 channel image to RGB (gray replicated, alpha dropped).
Image to_rgb(const Image& img);

}  // namespace sirs
