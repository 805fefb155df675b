// Image decode/encode: TIFF through libtiff (strip and tile paths read with
// TIFFReadEncodedStrip/Tile, so the sample layout is ours to check and no
// orientation flip happens behind our back), PNG/JPEG through stb_image
// (libstb, linked with -lstb), PNG out through stb_image_write.
//
// libtiff reports problems through handlers; each open installs per-handle
// handlers (TIFFOpenExt, libtiff >= 4.5) that store the first error message so
// it ends up in the IOError, and drop warnings (unknown tags are common).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='ImageIO*'
#include "data/image_io.h"

#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <memory>
#include <mutex>

#include <stb_image.h>
#include <stb_image_write.h>

#include "tensor/error.h"

namespace sirs {

namespace {

struct TiffMessages {
  std::string first_error;
};

int tiff_error_handler(TIFF*, void* user, const char* module, const char* fmt, va_list ap) {
  auto* msgs = static_cast<TiffMessages*>(user);
  if (msgs != nullptr && msgs->first_error.empty()) {
    char buf[512];
    std::vsnprintf(buf, sizeof buf, fmt, ap);
    msgs->first_error = str_cat(module != nullptr ? module : "libtiff", ": ", buf);
  }
  return 1;  // handled: the global handler is not called
}

int tiff_warning_handler(TIFF*, void*, const char*, const char*, va_list) { return 1; }

// The per-handle handlers cover every message of an opened file; the global
// ones are silenced too so nothing libtiff says can reach stderr.
void silence_global_tiff_handlers() {
  static std::once_flag once;
  std::call_once(once, [] {
    TIFFSetErrorHandler(nullptr);
    TIFFSetWarningHandler(nullptr);
  });
}

struct TiffCloser {
  void operator()(TIFF* t) const { TIFFClose(t); }
};
using TiffPtr = std::unique_ptr<TIFF, TiffCloser>;

TiffPtr open_tiff(const std::string& path, const char* mode, TiffMessages* msgs) {
  silence_global_tiff_handlers();
  TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
  TIFFOpenOptionsSetErrorHandlerExtR(opts, tiff_error_handler, msgs);
  TIFFOpenOptionsSetWarningHandlerExtR(opts, tiff_warning_handler, nullptr);
  TIFF* t = TIFFOpenExt(path.c_str(), mode, opts);
  TIFFOpenOptionsFree(opts);
  return TiffPtr(t);
}

[[noreturn]] void tiff_fail(const std::string& path, const std::string& what,
                            const TiffMessages& msgs) {
  throw IOError(str_cat("read_tiff: ", path, ": ", what,
                        msgs.first_error.empty() ? "" : " (libtiff: " + msgs.first_error + ")"));
}

bool has_tiff_ext(const std::string& path) {
  auto dot = path.find_last_of('.');
  if (dot == std::string::npos) return false;
  std::string ext = path.substr(dot + 1);
  for (auto& ch : ext) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return ext == "tif" || ext == "tiff";
}

}  // namespace

Image read_tiff(const std::string& path) {
  TiffMessages msgs;
  TiffPtr t = open_tiff(path, "r", &msgs);
  if (!t) tiff_fail(path, "cannot open or not a TIFF file", msgs);
  TIFF* tif = t.get();

  uint32_t w = 0, h = 0;
  uint16_t spp = 1, bps = 1, planar = PLANARCONFIG_CONTIG, orient = ORIENTATION_TOPLEFT;
  uint16_t photometric = 0, sample_format = SAMPLEFORMAT_UINT;
  if (!TIFFGetField(tif, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif, TIFFTAG_IMAGELENGTH, &h))
    tiff_fail(path, "missing image width/length tags", msgs);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLESPERPIXEL, &spp);
  TIFFGetFieldDefaulted(tif, TIFFTAG_BITSPERSAMPLE, &bps);
  TIFFGetFieldDefaulted(tif, TIFFTAG_PLANARCONFIG, &planar);
  TIFFGetFieldDefaulted(tif, TIFFTAG_ORIENTATION, &orient);
  TIFFGetFieldDefaulted(tif, TIFFTAG_SAMPLEFORMAT, &sample_format);
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric))
    photometric = spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;

  // A damaged header can claim any size; refuse before allocating.
  if (w == 0 || h == 0 || uint64_t(w) * h * spp > kMaxImageBytes)
    tiff_fail(path, str_cat("unsupported size ", h, "x", w, "x", spp, " (limit ", kMaxImageBytes,
                            " bytes)"), msgs);
  if (bps != 8 || sample_format != SAMPLEFORMAT_UINT)
    tiff_fail(path, str_cat("only 8-bit unsigned samples are supported, got ", bps,
                            "-bit (sample format ", sample_format, ")"), msgs);
  if (spp < 1 || spp > 4)
    tiff_fail(path, str_cat("unsupported samples per pixel ", spp, " (expected 1..4)"), msgs);
  if (planar != PLANARCONFIG_CONTIG)
    tiff_fail(path, "separate sample planes are not supported (contiguous only)", msgs);
  if (orient != ORIENTATION_TOPLEFT)
    tiff_fail(path, str_cat("orientation ", orient, " is not supported (top-left only)"), msgs);
  bool gray = photometric == PHOTOMETRIC_MINISBLACK || photometric == PHOTOMETRIC_MINISWHITE;
  if (!(gray && spp <= 2) && !(photometric == PHOTOMETRIC_RGB && spp >= 3))
    tiff_fail(path, str_cat("unsupported photometric interpretation ", photometric, " with ", spp,
                            " samples per pixel"), msgs);

  Image img{int(h), int(w), int(spp)};
  const size_t row_bytes = size_t(w) * spp;
  if (TIFFIsTiled(tif)) {
    uint32_t tw = 0, th = 0;
    if (!TIFFGetField(tif, TIFFTAG_TILEWIDTH, &tw) || !TIFFGetField(tif, TIFFTAG_TILELENGTH, &th) ||
        tw == 0 || th == 0)
      tiff_fail(path, "tiled file without a valid tile size", msgs);
    const tmsize_t tile_bytes = TIFFTileSize(tif);
    if (tile_bytes != tmsize_t(size_t(tw) * th * spp))
      tiff_fail(path, str_cat("unexpected tile size ", tile_bytes, " bytes"), msgs);
    std::vector<uint8_t> buf(static_cast<size_t>(tile_bytes));
    for (uint32_t y0 = 0; y0 < h; y0 += th) {
      for (uint32_t x0 = 0; x0 < w; x0 += tw) {
        ttile_t tile = TIFFComputeTile(tif, x0, y0, 0, 0);
        if (TIFFReadEncodedTile(tif, tile, buf.data(), tile_bytes) != tile_bytes)
          tiff_fail(path, str_cat("cannot decode tile ", tile, " at (", y0, ", ", x0, ")"), msgs);
        uint32_t rows = std::min(th, h - y0), cols = std::min(tw, w - x0);
        for (uint32_t r = 0; r < rows; ++r)
          std::memcpy(&img.data[(size_t(y0 + r) * w + x0) * spp], &buf[size_t(r) * tw * spp],
                      size_t(cols) * spp);
      }
    }
  } else {
    uint32_t rps = 0;
    TIFFGetFieldDefaulted(tif, TIFFTAG_ROWSPERSTRIP, &rps);
    if (rps == 0 || rps > h) rps = h;
    const uint32_t nstrips = TIFFNumberOfStrips(tif);
    const uint32_t expected = (h + rps - 1) / rps;
    if (nstrips != expected)
      tiff_fail(path, str_cat("has ", nstrips, " strips, expected ", expected), msgs);
    for (uint32_t s = 0; s < nstrips; ++s) {
      uint32_t rows = std::min(rps, h - s * rps);
      tmsize_t want = tmsize_t(rows * row_bytes);
      if (TIFFReadEncodedStrip(tif, s, &img.data[size_t(s) * rps * row_bytes], want) != want)
        tiff_fail(path, str_cat("cannot decode strip ", s, " of ", nstrips), msgs);
    }
  }
  // A decoder may report an error and still return data (e.g. a short
  // PackBits run); any error message means the pixels are not trustworthy.
  if (!msgs.first_error.empty()) tiff_fail(path, "decode error", msgs);

  if (photometric == PHOTOMETRIC_MINISWHITE)
    for (size_t i = 0; i < img.data.size(); i += spp) img.data[i] = uint8_t(255 - img.data[i]);
  return img;
}

void write_tiff(const std::string& path, const Image& img, const TiffWriteOptions& opt) {
  SIRS_CHECK(img.h > 0 && img.w > 0 && img.c >= 1 && img.c <= 4 &&
                 img.data.size() == size_t(img.h) * img.w * img.c,
             ValueError, "write_tiff: ", path, ": bad image ", img.h, "x", img.w, "x", img.c,
             " with ", img.data.size(), " bytes");
  SIRS_CHECK(!opt.tiled || (opt.tile_size > 0 && opt.tile_size % 16 == 0), ValueError,
             "write_tiff: tile_size must be a positive multiple of 16, got ", opt.tile_size);
  TiffMessages msgs;
  TiffPtr t = open_tiff(path, "w", &msgs);
  auto fail = [&](const std::string& what) {
    throw IOError(str_cat("write_tiff: ", path, ": ", what,
                          msgs.first_error.empty() ? "" : " (libtiff: " + msgs.first_error + ")"));
  };
  if (!t) fail("cannot create file");
  TIFF* tif = t.get();
  uint16_t compression = COMPRESSION_NONE;
  switch (opt.compression) {
    case TiffCompression::kNone: compression = COMPRESSION_NONE; break;
    case TiffCompression::kPackBits: compression = COMPRESSION_PACKBITS; break;
    case TiffCompression::kLZW: compression = COMPRESSION_LZW; break;
    case TiffCompression::kDeflate: compression = COMPRESSION_ADOBE_DEFLATE; break;
  }
  const uint32_t w = uint32_t(img.w), h = uint32_t(img.h);
  const uint16_t spp = uint16_t(img.c);
  TIFFSetField(tif, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(tif, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(tif, TIFFTAG_SAMPLESPERPIXEL, spp);
  TIFFSetField(tif, TIFFTAG_BITSPERSAMPLE, uint16_t(8));
  TIFFSetField(tif, TIFFTAG_PLANARCONFIG, uint16_t(PLANARCONFIG_CONTIG));
  TIFFSetField(tif, TIFFTAG_ORIENTATION, uint16_t(ORIENTATION_TOPLEFT));
  TIFFSetField(tif, TIFFTAG_PHOTOMETRIC,
               uint16_t(spp >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK));
  if (spp == 2 || spp == 4) {
    uint16_t extra = EXTRASAMPLE_UNASSALPHA;
    TIFFSetField(tif, TIFFTAG_EXTRASAMPLES, uint16_t(1), &extra);
  }
  if (!TIFFSetField(tif, TIFFTAG_COMPRESSION, compression)) fail("compression not available");
  const size_t row_bytes = size_t(w) * spp;
  if (opt.tiled) {
    const uint32_t ts = uint32_t(opt.tile_size);
    TIFFSetField(tif, TIFFTAG_TILEWIDTH, ts);
    TIFFSetField(tif, TIFFTAG_TILELENGTH, ts);
    std::vector<uint8_t> buf(size_t(ts) * ts * spp);
    for (uint32_t y0 = 0; y0 < h; y0 += ts) {
      for (uint32_t x0 = 0; x0 < w; x0 += ts) {
        std::fill(buf.begin(), buf.end(), uint8_t(0));
        uint32_t rows = std::min(ts, h - y0), cols = std::min(ts, w - x0);
        for (uint32_t r = 0; r < rows; ++r)
          std::memcpy(&buf[size_t(r) * ts * spp], &img.data[(size_t(y0 + r) * w + x0) * spp],
                      size_t(cols) * spp);
        ttile_t tile = TIFFComputeTile(tif, x0, y0, 0, 0);
        if (TIFFWriteEncodedTile(tif, tile, buf.data(), tmsize_t(buf.size())) < 0)
          fail(str_cat("cannot write tile ", tile));
      }
    }
  } else {
    uint32_t rps = opt.rows_per_strip > 0 ? uint32_t(opt.rows_per_strip)
                                          : TIFFDefaultStripSize(tif, 0);
    rps = std::max(1u, std::min(rps, h));
    TIFFSetField(tif, TIFFTAG_ROWSPERSTRIP, rps);
    std::vector<uint8_t> strip(size_t(rps) * row_bytes);
    for (uint32_t y0 = 0, s = 0; y0 < h; y0 += rps, ++s) {
      uint32_t rows = std::min(rps, h - y0);
      // libtiff may modify the buffer it encodes (byte swapping, predictor):
      // encode a copy, never the caller's image.
      std::memcpy(strip.data(), &img.data[size_t(y0) * row_bytes], rows * row_bytes);
      if (TIFFWriteEncodedStrip(tif, s, strip.data(), tmsize_t(rows * row_bytes)) < 0)
        fail(str_cat("cannot write strip ", s));
    }
  }
  if (!TIFFFlush(tif)) fail("cannot flush");
  if (!msgs.first_error.empty()) fail("encode error");
}

Image read_stb(const std::string& path, int desired_channels) {
  SIRS_CHECK(desired_channels >= 0 && desired_channels <= 4, ValueError, "read_stb: ", path,
             ": desired_channels must be 0..4, got ", desired_channels);
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (f == nullptr) throw IOError(str_cat("read_image: ", path, ": cannot open file"));
  int w = 0, h = 0, c = 0;
  uint8_t* px = stbi_load_from_file(f, &w, &h, &c, desired_channels);
  std::fclose(f);
  if (px == nullptr)
    throw IOError(str_cat("read_image: ", path, ": cannot decode (stb_image: ",
                          stbi_failure_reason() ? stbi_failure_reason() : "unknown", ")"));
  int ch = desired_channels > 0 ? desired_channels : c;
  Image img(h, w, ch);
  std::memcpy(img.data.data(), px, img.data.size());
  stbi_image_free(px);
  return img;
}

void write_png(const std::string& path, const Image& img) {
  SIRS_CHECK(img.h > 0 && img.w > 0 && img.c >= 1 && img.c <= 4 &&
                 img.data.size() == size_t(img.h) * img.w * img.c,
             ValueError, "write_png: ", path, ": bad image ", img.h, "x", img.w, "x", img.c,
             " with ", img.data.size(), " bytes");
  if (!stbi_write_png(path.c_str(), img.w, img.h, img.c, img.data.data(), img.w * img.c))
    throw IOError(str_cat("write_png: ", path, ": cannot write file"));
}

Image to_rgb(const Image& img) {
  if (img.c == 3) return img;
  SIRS_CHECK(img.c >= 1 && img.c <= 4, ValueError, "to_rgb: unsupported channel count ", img.c);
  Image out(img.h, img.w, 3);
  const size_t n = size_t(img.h) * img.w;
  for (size_t i = 0; i < n; ++i) {
    const uint8_t* p = &img.data[i * img.c];
    if (img.c <= 2) {
      out.data[3 * i] = out.data[3 * i + 1] = out.data[3 * i + 2] = p[0];
    } else {
      out.data[3 * i] = p[0], out.data[3 * i + 1] = p[1], out.data[3 * i + 2] = p[2];
    }
  }
  return out;
}

Image read_image_rgb(const std::string& path) {
  return to_rgb(has_tiff_ext(path) ? read_tiff(path) : read_stb(path, 0));
}

}  // namespace sirs
