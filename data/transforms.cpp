// Image/mask transforms: see data/transforms.h for the conventions.
//
// Resize precomputes one table of taps per axis (PIL's precompute_coeffs),
// so the inner loops are integer multiply-adds; rotate_crop walks output
// rows with the source point advancing by (cos, sin) per pixel.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Transforms*'
#include "data/transforms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <vector>

#include "tensor/error.h"

namespace sirs {

namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // PIL's fixed point for 8-bit resampling

void check_size(const char* op, int in_h, int in_w, int out_h, int out_w) {
  SIRS_CHECK(in_h > 0 && in_w > 0, ValueError, op, ": empty input image ", in_h, "x", in_w);
  SIRS_CHECK(out_h > 0 && out_w > 0, ValueError, op, ": output size must be positive, got ", out_h,
             "x", out_w, " (input ", in_h, "x", in_w, ")");
}

// Taps of one output sample: in[start .. start + count) with fixed-point weights.
struct Taps {
  int ksize = 0;                 // stride of `weights`
  std::vector<int> start;        // [out]
  std::vector<int> count;        // [out]
  std::vector<int32_t> weights;  // [out, ksize]
};

// PIL's bilinear (triangle) coefficients for resizing `in` samples to `out`.
Taps bilinear_taps(int in, int out) {
  const double scale = double(in) / out;
  const double filterscale = std::max(scale, 1.0);
  const double support = 1.0 * filterscale;
  Taps t;
  t.ksize = int(std::ceil(support)) * 2 + 1;
  t.start.resize(out);
  t.count.resize(out);
  t.weights.assign(size_t(out) * t.ksize, 0);
  std::vector<double> k(t.ksize);
  for (int i = 0; i < out; ++i) {
    const double center = (i + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = int(center - support + 0.5);  // truncation, as PIL
    if (xmin < 0) xmin = 0;
    int xmax = int(center + support + 0.5);
    if (xmax > in) xmax = in;
    xmax -= xmin;
    double ww = 0;
    for (int x = 0; x < xmax; ++x) {
      double w = std::fabs((x + xmin - center + 0.5) * ss);
      w = w < 1.0 ? 1.0 - w : 0.0;
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      t.weights[size_t(i) * t.ksize + x] =
          int32_t(w < 0 ? -0.5 + w * (1 << kPrecisionBits) : 0.5 + w * (1 << kPrecisionBits));
    }
    t.start[i] = xmin;
    t.count[i] = xmax;
  }
  return t;
}

inline uint8_t clip8(int64_t acc) {
  if (acc >= (int64_t(256) << kPrecisionBits)) return 255;
  if (acc <= 0) return 0;
  return uint8_t(acc >> kPrecisionBits);
}

// src: [h, in_w, c] -> dst: [h, out_w, c]. Sums stay below
// 2^21 + 255 * 2^22 < 2^31 (non-negative weights summing to ~2^22): int32.
template <int C>
void resample_horizontal_c(const uint8_t* src, int h, int in_w, int c_rt, const Taps& t, int out_w,
                           uint8_t* dst) {
  const int c = C > 0 ? C : c_rt;
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = src + size_t(y) * in_w * c;
    uint8_t* orow = dst + size_t(y) * out_w * c;
    for (int x = 0; x < out_w; ++x) {
      const int32_t* k = &t.weights[size_t(x) * t.ksize];
      const uint8_t* p = row + size_t(t.start[x]) * c;
      const int n = t.count[x];
      int32_t acc[4] = {1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1),
                        1 << (kPrecisionBits - 1), 1 << (kPrecisionBits - 1)};
      for (int j = 0; j < n; ++j)
        for (int ch = 0; ch < c; ++ch) acc[ch] += int32_t(p[j * c + ch]) * k[j];
      for (int ch = 0; ch < c; ++ch) orow[x * c + ch] = clip8(acc[ch]);
    }
  }
}

// Upscaling RGB (the training resize 256 -> 278): every output has at most
// three taps; padded to exactly three (zero weights, window shifted inside
// the row) the loop unrolls completely. Same sums as the generic loop.
void resample_horizontal_rgb3(const uint8_t* src, int h, int in_w, const Taps& t, int out_w,
                              uint8_t* dst) {
  std::vector<int> start(out_w);
  std::vector<int32_t> w(size_t(out_w) * 3, 0);
  for (int x = 0; x < out_w; ++x) {
    const int s = std::min(t.start[x], in_w - 3);  // window [s, s + 3) holds the taps
    start[x] = s;
    for (int j = 0; j < t.count[x]; ++j)
      w[size_t(x) * 3 + (t.start[x] - s) + j] = t.weights[size_t(x) * t.ksize + j];
  }
  for (int y = 0; y < h; ++y) {
    const uint8_t* row = src + size_t(y) * in_w * 3;
    uint8_t* orow = dst + size_t(y) * out_w * 3;
    for (int x = 0; x < out_w; ++x) {
      const uint8_t* p = row + size_t(start[x]) * 3;
      const int32_t* k = &w[size_t(x) * 3];
      for (int ch = 0; ch < 3; ++ch) {
        const int32_t acc =
            (1 << (kPrecisionBits - 1)) + p[ch] * k[0] + p[3 + ch] * k[1] + p[6 + ch] * k[2];
        const int32_t v = acc >> kPrecisionBits;
        orow[x * 3 + ch] = uint8_t(v > 255 ? 255 : v);
      }
    }
  }
}

void resample_horizontal(const uint8_t* src, int h, int in_w, int c, const Taps& t, int out_w,
                         uint8_t* dst) {
  bool fits3 = c == 3 && in_w >= 3;
  for (int x = 0; fits3 && x < out_w; ++x) fits3 = t.count[x] <= 3;
  if (fits3)
    resample_horizontal_rgb3(src, h, in_w, t, out_w, dst);
  else if (c == 3)
    resample_horizontal_c<3>(src, h, in_w, c, t, out_w, dst);
  else if (c == 1)
    resample_horizontal_c<1>(src, h, in_w, c, t, out_w, dst);
  else
    resample_horizontal_c<0>(src, h, in_w, c, t, out_w, dst);
}

// src: [in_h, w * c] -> dst: [out_h, w * c]
void resample_vertical(const uint8_t* src, int in_h, int row_len, const Taps& t, int out_h,
                       uint8_t* dst) {
  (void)in_h;
  std::vector<int32_t> acc(row_len);
  for (int y = 0; y < out_h; ++y) {
    const int32_t* k = &t.weights[size_t(y) * t.ksize];
    std::fill(acc.begin(), acc.end(), int32_t(1) << (kPrecisionBits - 1));
    // The triangle's weights are non-negative and sum to ~2^22, so a sum stays
    // below 2^21 + 255 * 2^22 < 2^31.
    for (int j = 0; j < t.count[y]; ++j) {
      const uint8_t* row = src + size_t(t.start[y] + j) * row_len;
      const int32_t w = k[j];
      for (int i = 0; i < row_len; ++i) acc[i] += int32_t(row[i]) * w;
    }
    uint8_t* orow = dst + size_t(y) * row_len;
    for (int i = 0; i < row_len; ++i) {
      const int32_t v = acc[i] >> kPrecisionBits;  // acc >= 0: no negative clamp needed
      orow[i] = uint8_t(v > 255 ? 255 : v);
    }
  }
}

}  // namespace

std::vector<int> detail::nearest_index_table(int in, int out) {
  std::vector<int> tab(out);
  const double scale = double(in) / out;
  double pos = scale * 0.5;
  for (int i = 0; i < out; ++i) {
    int s = pos < 0 ? -1 : int(pos);
    tab[i] = std::min(std::max(s, 0), in - 1);
    pos += scale;
  }
  return tab;
}

namespace {

// src: [in_h, in_w, c] -> dst: [out_h, out_w, c]
void resize_nearest_raw(const uint8_t* src, int in_h, int in_w, int c, int out_h, int out_w,
                        uint8_t* dst) {
  const std::vector<int> tx = detail::nearest_index_table(in_w, out_w),
                         ty = detail::nearest_index_table(in_h, out_h);
  for (int y = 0; y < out_h; ++y) {
    const uint8_t* row = src + size_t(ty[y]) * in_w * c;
    uint8_t* orow = dst + size_t(y) * out_w * c;
    if (c == 1) {
      for (int x = 0; x < out_w; ++x) orow[x] = row[tx[x]];
    } else {
      for (int x = 0; x < out_w; ++x) std::memcpy(orow + size_t(x) * c, row + size_t(tx[x]) * c, c);
    }
  }
}

void check_crop(const char* op, int src_h, int src_w, int x, int y, int w, int h) {
  SIRS_CHECK(w > 0 && h > 0, ValueError, op, ": crop size must be positive, got w=", w, " h=", h);
  SIRS_CHECK(x >= 0 && y >= 0 && int64_t(x) + w <= src_w && int64_t(y) + h <= src_h, ValueError, op,
             ": crop window x=", x, " y=", y, " w=", w, " h=", h, " leaves the ", src_w, "x", src_h,
             " (WxH) image");
}

// The shared resampler: out [g.h, g.w, c] from src [sh, sw, c].
void rotate_crop_raw(const uint8_t* src, int sh, int sw, int c, const RotateCrop& g, Interp interp,
                     uint8_t fill, uint8_t* out) {
  const size_t row_bytes = size_t(g.w) * c;
  double cs, sn;
  detail::rotation_cos_sin(g.degrees, &cs, &sn);
  if (cs == 1.0 && sn == 0.0) {  // a plain (possibly mirrored) crop
    for (int oy = 0; oy < g.h; ++oy) {
      const int ry = g.y + (g.vflip ? g.h - 1 - oy : oy);
      const uint8_t* irow = src + (size_t(ry) * sw + g.x) * c;
      uint8_t* orow = out + size_t(oy) * row_bytes;
      if (!g.hflip) {
        std::memcpy(orow, irow, row_bytes);
      } else {
        for (int ox = 0; ox < g.w; ++ox)
          std::memcpy(orow + size_t(ox) * c, irow + size_t(g.w - 1 - ox) * c, c);
      }
    }
    return;
  }
  detail::rotate_crop_points(sh, sw, g, [&](int ox, int oy, double xin, double yin) {
    uint8_t* o = out + size_t(oy) * row_bytes + size_t(ox) * c;
    if (!(xin >= 0.0 && xin < sw && yin >= 0.0 && yin < sh)) {
      std::memset(o, fill, c);
      return;
    }
    if (interp == Interp::kNearest) {
      const uint8_t* p = src + (size_t(int(yin)) * sw + int(xin)) * c;
      for (int ch = 0; ch < c; ++ch) o[ch] = p[ch];
      return;
    }
    const double fx = xin - 0.5, fy = yin - 0.5;
    const int x0 = int(std::floor(fx)), y0 = int(std::floor(fy));
    const double ax = fx - x0, ay = fy - y0;
    const int xa = std::max(x0, 0), xb = std::min(x0 + 1, sw - 1);
    const int ya = std::max(y0, 0), yb = std::min(y0 + 1, sh - 1);
    const uint8_t* r0 = src + size_t(ya) * sw * c;
    const uint8_t* r1 = src + size_t(yb) * sw * c;
    for (int ch = 0; ch < c; ++ch) {
      const double top = r0[xa * c + ch] + (r0[xb * c + ch] - r0[xa * c + ch]) * ax;
      const double bot = r1[xa * c + ch] + (r1[xb * c + ch] - r1[xa * c + ch]) * ax;
      const double v = top + (bot - top) * ay;
      o[ch] = uint8_t(std::min(255.0, std::max(0.0, v)));  // truncated, as PIL
    }
  });
}

void check_rotate_crop(const char* op, int sh, int sw, const RotateCrop& g) {
  SIRS_CHECK(sh > 0 && sw > 0, ValueError, op, ": empty input image ", sh, "x", sw);
  SIRS_CHECK(std::isfinite(g.degrees), ValueError, op, ": angle must be finite, got ", g.degrees);
  check_crop(op, sh, sw, g.x, g.y, g.w, g.h);
}

}  // namespace

void detail::rotation_cos_sin(double degrees, double* cs, double* sn) {
  const double r = degrees * (M_PI / 180.0);
  auto snap = [](double v) {
    if (std::fabs(v) < 1e-15) return 0.0;
    if (std::fabs(v - 1) < 1e-15) return 1.0;
    if (std::fabs(v + 1) < 1e-15) return -1.0;
    return v;
  };
  *cs = snap(std::cos(r));
  *sn = snap(std::sin(r));
}

Image resize_bilinear(const Image& src, int out_h, int out_w) {
  check_size("resize_bilinear", src.h, src.w, out_h, out_w);
  const int c = src.c;
  const bool need_h = out_w != src.w, need_v = out_h != src.h;
  if (!need_h && !need_v) return src;
  Image mid;
  const Image* cur = &src;
  if (need_h) {
    mid = Image(src.h, out_w, c);
    resample_horizontal(src.data.data(), src.h, src.w, c, bilinear_taps(src.w, out_w), out_w,
                        mid.data.data());
    cur = &mid;
  }
  if (!need_v) return mid;
  Image out(out_h, out_w, c);
  resample_vertical(cur->data.data(), cur->h, out_w * c, bilinear_taps(cur->h, out_h), out_h,
                    out.data.data());
  return out;
}

Image resize_nearest(const Image& src, int out_h, int out_w) {
  check_size("resize_nearest", src.h, src.w, out_h, out_w);
  Image out(out_h, out_w, src.c);
  resize_nearest_raw(src.data.data(), src.h, src.w, src.c, out_h, out_w, out.data.data());
  return out;
}

Mask resize_nearest(const Mask& src, int out_h, int out_w) {
  check_size("resize_nearest (mask)", src.h, src.w, out_h, out_w);
  Mask out;
  out.h = out_h;
  out.w = out_w;
  out.labels.resize(size_t(out_h) * out_w);
  resize_nearest_raw(src.labels.data(), src.h, src.w, 1, out_h, out_w, out.labels.data());
  return out;
}

void rotate_crop_into(const Image& src, const RotateCrop& g, Interp interp, uint8_t fill,
                      uint8_t* out) {
  check_rotate_crop("rotate_crop", src.h, src.w, g);
  rotate_crop_raw(src.data.data(), src.h, src.w, src.c, g, interp, fill, out);
}

void rotate_crop_into(const Mask& src, const RotateCrop& g, uint8_t fill, uint8_t* out) {
  check_rotate_crop("rotate_crop (mask)", src.h, src.w, g);
  rotate_crop_raw(src.labels.data(), src.h, src.w, 1, g, Interp::kNearest, fill, out);
}

Image rotate_crop(const Image& src, const RotateCrop& g, Interp interp, uint8_t fill) {
  check_rotate_crop("rotate_crop", src.h, src.w, g);
  Image out(g.h, g.w, src.c);
  rotate_crop_raw(src.data.data(), src.h, src.w, src.c, g, interp, fill, out.data.data());
  return out;
}

Mask rotate_crop(const Mask& src, const RotateCrop& g, uint8_t fill) {
  check_rotate_crop("rotate_crop (mask)", src.h, src.w, g);
  Mask out;
  out.h = g.h;
  out.w = g.w;
  out.labels.resize(size_t(g.h) * g.w);
  rotate_crop_raw(src.labels.data(), src.h, src.w, 1, g, Interp::kNearest, fill, out.labels.data());
  return out;
}

Image rotate(const Image& src, double degrees, Interp interp, uint8_t fill) {
  RotateCrop g;
  g.degrees = degrees;
  g.w = src.w;
  g.h = src.h;
  return rotate_crop(src, g, interp, fill);
}

Mask rotate(const Mask& src, double degrees, uint8_t fill) {
  RotateCrop g;
  g.degrees = degrees;
  g.w = src.w;
  g.h = src.h;
  return rotate_crop(src, g, fill);
}

Image crop(const Image& src, int x, int y, int w, int h) {
  check_crop("crop", src.h, src.w, x, y, w, h);
  RotateCrop g;
  g.x = x, g.y = y, g.w = w, g.h = h;
  return rotate_crop(src, g, Interp::kNearest);
}

Mask crop(const Mask& src, int x, int y, int w, int h) {
  check_crop("crop (mask)", src.h, src.w, x, y, w, h);
  RotateCrop g;
  g.x = x, g.y = y, g.w = w, g.h = h;
  return rotate_crop(src, g);
}

Image hflip(const Image& src) {
  RotateCrop g;
  g.w = src.w, g.h = src.h, g.hflip = true;
  return rotate_crop(src, g, Interp::kNearest);
}
Image vflip(const Image& src) {
  RotateCrop g;
  g.w = src.w, g.h = src.h, g.vflip = true;
  return rotate_crop(src, g, Interp::kNearest);
}
Mask hflip(const Mask& src) {
  RotateCrop g;
  g.w = src.w, g.h = src.h, g.hflip = true;
  return rotate_crop(src, g);
}
Mask vflip(const Mask& src) {
  RotateCrop g;
  g.w = src.w, g.h = src.h, g.vflip = true;
  return rotate_crop(src, g);
}

void to_chw_normalized(const Image& img, const std::array<float, 3>& mean,
                       const std::array<float, 3>& std, float* out) {
  SIRS_CHECK(img.c == 3, ValueError, "to_chw_normalized: expected a 3-channel (RGB) image, got ",
             img.c, " channels (", img.h, "x", img.w, ")");
  SIRS_CHECK(img.data.size() == size_t(img.h) * img.w * 3, ValueError,
             "to_chw_normalized: image buffer holds ", img.data.size(), " bytes, expected ",
             size_t(img.h) * img.w * 3, " for ", img.h, "x", img.w, "x3");
  for (int ch = 0; ch < 3; ++ch)
    SIRS_CHECK(std[ch] != 0.0f, ValueError, "to_chw_normalized: std[", ch, "] is zero");
  // 256-entry table per channel, each entry computed as ToTensor (v / 255 in
  // float) then Normalize ((x - mean) / std in float) would.
  float lut[3][256];
  for (int ch = 0; ch < 3; ++ch)
    for (int v = 0; v < 256; ++v) lut[ch][v] = (float(v) / 255.0f - mean[ch]) / std[ch];
  const size_t plane = size_t(img.h) * img.w;
  const uint8_t* p = img.data.data();
  float* o0 = out;
  float* o1 = out + plane;
  float* o2 = out + 2 * plane;
  for (size_t i = 0; i < plane; ++i) {
    o0[i] = lut[0][p[3 * i]];
    o1[i] = lut[1][p[3 * i + 1]];
    o2[i] = lut[2][p[3 * i + 2]];
  }
}

void mask_to_int64(const Mask& mask, int64_t* out) {
  SIRS_CHECK(mask.labels.size() == size_t(mask.h) * mask.w, ValueError,
             "mask_to_int64: mask holds ", mask.labels.size(), " labels, expected ",
             size_t(mask.h) * mask.w, " for ", mask.h, "x", mask.w);
  for (size_t i = 0; i < mask.labels.size(); ++i) out[i] = mask.labels[i];
}

}  // namespace sirs
