// Image I/O: every TIFF layout the reader supports written with libtiff and
// read back exactly; the real RSITMD sample TIFFs (SIRS_SAMPLES_DIR, skipped
// when absent) against pixel values read with PIL 9.4; PNG and JPEG through
// stb; truncated and garbage files give an IOError naming the file.
//
// make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='ImageIO*'
#include <gtest/gtest.h>
#include <stdlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <sstream>
#include <tuple>

#include <stb_image_write.h>
#include <tiffio.h>

#include "data/image_io.h"
#include "tensor/error.h"
#include "tests/test_util.h"

using namespace sirs;
using namespace sirs::test;
namespace fs = std::filesystem;

namespace {

void spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

// Smooth gradients plus noise-like texture: compresses neither trivially nor
// not at all, and a row/column/channel mix-up changes the values.
Image pattern(int h, int w, int c) {
  Image img(h, w, c);
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int ch = 0; ch < c; ++ch)
        img.at(y, x, ch) = uint8_t((y * 7 + x * 3 + ch * 50 + ((x * y) % 5) * 11) & 0xFF);
  return img;
}

std::string io_error(const std::function<void()>& f) {
  try {
    f();
  } catch (const IOError& e) {
    return e.what();
  }
  ADD_FAILURE() << "no IOError";
  return "";
}

}  // namespace

class ImageIOTiffLayouts
    : public ::testing::TestWithParam<std::tuple<TiffCompression, bool, int>> {};

TEST_P(ImageIOTiffLayouts, RoundTripExact) {
  auto [comp, tiled, c] = GetParam();
  TempDir t{"image_test"};
  // 37 x 45: neither a multiple of the 16-pixel tiles nor of the 8-row strips.
  Image img = pattern(37, 45, c);
  TiffWriteOptions opt;
  opt.compression = comp;
  opt.tiled = tiled;
  opt.rows_per_strip = 8;
  const std::string p = t.file("x.tif");
  write_tiff(p, img, opt);
  Image back = read_tiff(p);
  EXPECT_EQ(back.h, 37);
  EXPECT_EQ(back.w, 45);
  EXPECT_EQ(back.c, c);
  EXPECT_TRUE(back.data == img.data);
}

INSTANTIATE_TEST_SUITE_P(
    AllCombinations, ImageIOTiffLayouts,
    ::testing::Combine(::testing::Values(TiffCompression::kNone, TiffCompression::kPackBits,
                                         TiffCompression::kLZW, TiffCompression::kDeflate),
                       ::testing::Bool(), ::testing::Values(1, 2, 3, 4)));

TEST(ImageIO, RealSampleTiffs) {
  SKIP_WITHOUT_SAMPLES();
  struct Expect {
    const char* name;
    int64_t sum;
    uint8_t p00[3], p0_255[3], p255_0[3], p128_77[3], p255_255[3];
  } cases[] = {
      {"airport_4691.tif", 31831215, {212, 214, 213}, {178, 170, 155}, {114, 107, 105},
       {180, 169, 147}, {97, 98, 84}},  // PackBits
      {"river_3583.tif", 16768690, {68, 90, 67}, {85, 106, 87}, {88, 112, 90}, {70, 91, 72},
       {100, 112, 92}},  // uncompressed
  };
  for (const auto& e : cases) {
    Image img = read_tiff(rsitmd_dir() + "/images/" + e.name);
    ASSERT_EQ(img.h, 256);
    ASSERT_EQ(img.w, 256);
    ASSERT_EQ(img.c, 3);
    int64_t sum = 0;
    for (uint8_t v : img.data) sum += v;
    EXPECT_EQ(sum, e.sum) << e.name;
    for (int ch = 0; ch < 3; ++ch) {
      EXPECT_EQ(img.at(0, 0, ch), e.p00[ch]) << e.name;
      EXPECT_EQ(img.at(0, 255, ch), e.p0_255[ch]) << e.name;
      EXPECT_EQ(img.at(255, 0, ch), e.p255_0[ch]) << e.name;
      EXPECT_EQ(img.at(128, 77, ch), e.p128_77[ch]) << e.name;
      EXPECT_EQ(img.at(255, 255, ch), e.p255_255[ch]) << e.name;
    }
    Image rgb = read_image_rgb(rsitmd_dir() + "/images/" + e.name);
    EXPECT_TRUE(rgb.data == img.data);
  }
}

TEST(ImageIO, PngRoundTripAllChannelCounts) {
  TempDir t{"image_test"};
  for (int c = 1; c <= 4; ++c) {
    Image img = pattern(19, 23, c);
    const std::string p = t.file("x" + std::to_string(c) + ".png");
    write_png(p, img);
    Image back = read_stb(p);
    EXPECT_EQ(back.c, c);
    EXPECT_EQ(back.h, 19);
    EXPECT_EQ(back.w, 23);
    EXPECT_TRUE(back.data == img.data) << c;
  }
  Image rgb = read_image_rgb(t.file("x1.png"));  // gray replicated
  ASSERT_EQ(rgb.c, 3);
  EXPECT_EQ(rgb.at(5, 7, 0), pattern(19, 23, 1).at(5, 7, 0));
  EXPECT_EQ(rgb.at(5, 7, 2), rgb.at(5, 7, 0));
  Image rgba_as_rgb = read_image_rgb(t.file("x4.png"));  // alpha dropped
  EXPECT_EQ(rgba_as_rgb.c, 3);
  EXPECT_EQ(rgba_as_rgb.at(3, 4, 1), pattern(19, 23, 4).at(3, 4, 1));
}

TEST(ImageIO, JpegDecodesCloseToSource) {
  TempDir t{"image_test"};
  Image img(32, 32, 3);
  for (int y = 0; y < 32; ++y)
    for (int x = 0; x < 32; ++x)
      for (int ch = 0; ch < 3; ++ch) img.at(y, x, ch) = uint8_t(40 + 4 * y + 2 * x + 10 * ch);
  const std::string p = t.file("x.jpg");
  ASSERT_NE(stbi_write_jpg(p.c_str(), 32, 32, 3, img.data.data(), 95), 0);
  Image back = read_image_rgb(p);
  ASSERT_EQ(back.h, 32);
  ASSERT_EQ(back.c, 3);
  double err = 0;
  for (size_t i = 0; i < img.data.size(); ++i) err = std::max(err, std::fabs(double(back.data[i]) - img.data[i]));
  EXPECT_LE(err, 12.0);
}

TEST(ImageIO, TruncatedAndGarbageTiff) {
  TempDir t{"image_test"};
  const std::string good = t.file("good.tif");
  TiffWriteOptions opt;
  opt.compression = TiffCompression::kNone;
  write_tiff(good, pattern(64, 64, 3), opt);
  const std::string bytes = slurp(good);
  // Uncompressed data comes first, the directory at the end (libtiff's
  // layout): cut in the middle of the pixels, and keep only the header.
  for (size_t keep : {bytes.size() / 2, size_t(8), size_t(3)}) {
    const std::string p = t.file("cut" + std::to_string(keep) + ".tif");
    spit(p, bytes.substr(0, keep));
    const std::string msg = io_error([&] { read_tiff(p); });
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
  {
    TiffWriteOptions pb;
    pb.compression = TiffCompression::kPackBits;
    const std::string src = t.file("pb.tif");
    write_tiff(src, pattern(64, 64, 3), pb);
    std::string b = slurp(src);
    // Overwrite the first half of the compressed data with garbage runs: the
    // decoder may produce wrong pixels or an error, but never a crash.
    for (size_t i = 8; i < b.size() / 2; ++i) b[i] = char(0x80 + (i % 3));
    const std::string p = t.file("pbgarbage.tif");
    spit(p, b);
    try {
      read_tiff(p);  // may decode to wrong pixels, but must not crash
    } catch (const IOError& e) {
      EXPECT_NE(std::string(e.what()).find(p), std::string::npos);
    }
  }
  const std::string garbage = t.file("garbage.tif");
  spit(garbage, "II*\0this is not a tiff file at all, just text pretending to be one.");
  std::string msg = io_error([&] { read_tiff(garbage); });
  EXPECT_NE(msg.find(garbage), std::string::npos) << msg;
  const std::string text = t.file("text.tif");
  spit(text, "hello");
  msg = io_error([&] { read_tiff(text); });
  EXPECT_NE(msg.find(text), std::string::npos) << msg;
  msg = io_error([&] { read_tiff(t.file("missing.tif")); });
  EXPECT_NE(msg.find("missing.tif"), std::string::npos) << msg;
}

TEST(ImageIO, TruncatedAndGarbagePng) {
  TempDir t{"image_test"};
  const std::string good = t.file("good.png");
  write_png(good, pattern(64, 64, 3));
  const std::string bytes = slurp(good);
  for (size_t keep : {bytes.size() / 2, size_t(40), size_t(4)}) {
    const std::string p = t.file("cut" + std::to_string(keep) + ".png");
    spit(p, bytes.substr(0, keep));
    const std::string msg = io_error([&] { read_stb(p); });
    EXPECT_NE(msg.find(p), std::string::npos) << msg;
  }
  const std::string garbage = t.file("garbage.png");
  spit(garbage, std::string("\x89PNG\r\n\x1a\n", 8) + "garbage garbage garbage garbage");
  std::string msg = io_error([&] { read_image_rgb(garbage); });
  EXPECT_NE(msg.find(garbage), std::string::npos) << msg;
  msg = io_error([&] { read_stb(t.file("missing.png")); });
  EXPECT_NE(msg.find("missing.png"), std::string::npos) << msg;
}

TEST(ImageIO, UnsupportedTiffLayoutsRefused) {
  TempDir t{"image_test"};
  // Tile size must be a multiple of 16 (libtiff's rule), checked before writing.
  TiffWriteOptions opt;
  opt.tiled = true;
  opt.tile_size = 10;
  EXPECT_THROW(write_tiff(t.file("x.tif"), pattern(8, 8, 3), opt), ValueError);
  Image bad(4, 4, 3);
  bad.data.resize(5);
  EXPECT_THROW(write_tiff(t.file("y.tif"), bad), ValueError);
  EXPECT_THROW(write_png(t.file("y.png"), bad), ValueError);
}

namespace {

// Writes a one-strip TIFF with libtiff directly, for layouts write_tiff does
// not produce.
void write_raw_tiff(const std::string& path, uint32_t h, uint32_t w, uint16_t spp, uint16_t bps,
                    uint16_t photometric, uint16_t planar, uint16_t compression, uint16_t predictor,
                    const std::vector<uint8_t>& bytes) {
  TIFF* t = TIFFOpen(path.c_str(), "w");
  ASSERT_NE(t, nullptr);
  TIFFSetField(t, TIFFTAG_IMAGEWIDTH, w);
  TIFFSetField(t, TIFFTAG_IMAGELENGTH, h);
  TIFFSetField(t, TIFFTAG_SAMPLESPERPIXEL, spp);
  TIFFSetField(t, TIFFTAG_BITSPERSAMPLE, bps);
  TIFFSetField(t, TIFFTAG_PHOTOMETRIC, photometric);
  TIFFSetField(t, TIFFTAG_PLANARCONFIG, planar);
  TIFFSetField(t, TIFFTAG_COMPRESSION, compression);
  if (predictor != 1) TIFFSetField(t, TIFFTAG_PREDICTOR, predictor);
  TIFFSetField(t, TIFFTAG_ROWSPERSTRIP, h);
  std::vector<uint8_t> copy = bytes;
  if (planar == PLANARCONFIG_SEPARATE) {
    for (uint16_t s = 0; s < spp; ++s)
      TIFFWriteEncodedStrip(t, s, copy.data() + s * (bytes.size() / spp), tmsize_t(bytes.size() / spp));
  } else {
    ASSERT_GE(TIFFWriteEncodedStrip(t, 0, copy.data(), tmsize_t(copy.size())), 0);
  }
  TIFFClose(t);
}

}  // namespace

TEST(ImageIO, TiffVariantsFromLibtiff) {
  TempDir t{"image_test"};
  Image src = pattern(9, 13, 3);
  // LZW and Deflate with the horizontal-differencing predictor.
  for (uint16_t comp : {uint16_t(COMPRESSION_LZW), uint16_t(COMPRESSION_ADOBE_DEFLATE)}) {
    const std::string p = t.file("pred" + std::to_string(comp) + ".tif");
    write_raw_tiff(p, 9, 13, 3, 8, PHOTOMETRIC_RGB, PLANARCONFIG_CONTIG, comp, 2, src.data);
    EXPECT_TRUE(read_tiff(p).data == src.data) << comp;
  }
  // Min-is-white grayscale comes back as min-is-black.
  Image gray = pattern(9, 13, 1);
  const std::string white = t.file("white.tif");
  write_raw_tiff(white, 9, 13, 1, 8, PHOTOMETRIC_MINISWHITE, PLANARCONFIG_CONTIG,
                 COMPRESSION_NONE, 1, gray.data);
  Image inv = read_tiff(white);
  ASSERT_EQ(inv.c, 1);
  EXPECT_EQ(inv.at(4, 5, 0), 255 - gray.at(4, 5, 0));
  EXPECT_EQ(inv.at(8, 12, 0), 255 - gray.at(8, 12, 0));
}

TEST(ImageIO, UnsupportedTiffSamplesRefusedSilently) {
  TempDir t{"image_test"};
  const std::string p16 = t.file("16bit.tif");
  write_raw_tiff(p16, 4, 4, 1, 16, PHOTOMETRIC_MINISBLACK, PLANARCONFIG_CONTIG, COMPRESSION_NONE,
                 1, std::vector<uint8_t>(32, 7));
  const std::string planes = t.file("planes.tif");
  write_raw_tiff(planes, 4, 4, 3, 8, PHOTOMETRIC_RGB, PLANARCONFIG_SEPARATE, COMPRESSION_NONE, 1,
                 std::vector<uint8_t>(48, 7));
  const std::string garbage = t.file("garbage.tif");
  spit(garbage, std::string("II*\0\x08\0\0\0\xff\xff", 10) + std::string(64, '\x5a'));
  testing::internal::CaptureStderr();
  std::string m16 = io_error([&] { read_tiff(p16); });
  std::string mplanes = io_error([&] { read_tiff(planes); });
  std::string mgarbage = io_error([&] { read_tiff(garbage); });
  const std::string err = testing::internal::GetCapturedStderr();
  EXPECT_NE(m16.find("only 8-bit unsigned samples are supported, got 16-bit"), std::string::npos)
      << m16;
  EXPECT_NE(m16.find(p16), std::string::npos) << m16;
  EXPECT_NE(mplanes.find("separate sample planes"), std::string::npos) << mplanes;
  EXPECT_NE(mgarbage.find(garbage), std::string::npos) << mgarbage;
  EXPECT_NE(mgarbage.find("libtiff: "), std::string::npos) << mgarbage;  // libtiff's reason kept
  EXPECT_EQ(err, "") << "libtiff printed instead of reporting through the IOError";
}

TEST(ImageIO, CorruptedTiffBytesNeverCrash) {
  // Random byte damage anywhere (header, directory, strip data) of files in
  // several layouts: each read either decodes or throws an IOError that names
  // the file.
  TempDir t{"image_test"};
  uint32_t state = 777;
  auto next = [&] { return state = state * 1664525u + 1013904223u; };
  const TiffCompression comps[] = {TiffCompression::kNone, TiffCompression::kPackBits,
                                   TiffCompression::kLZW, TiffCompression::kDeflate};
  int errors = 0;
  for (int f = 0; f < 8; ++f) {
    TiffWriteOptions opt;
    opt.compression = comps[f % 4];
    opt.tiled = f >= 4;
    opt.rows_per_strip = 5;
    const std::string src = t.file("src.tif");
    write_tiff(src, pattern(21, 18, 3), opt);
    const std::string bytes = slurp(src);
    for (int k = 0; k < 25; ++k) {
      std::string b = bytes;
      for (int j = 0; j < 4; ++j) b[(next() >> 8) % b.size()] = char(next() >> 24);
      const std::string p = t.file("bad.tif");
      spit(p, b);
      try {
        read_tiff(p);
      } catch (const IOError& e) {
        ++errors;
        EXPECT_NE(std::string(e.what()).find(p), std::string::npos) << e.what();
      }
    }
  }
  EXPECT_GT(errors, 0);
}
