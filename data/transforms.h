// Geometric and photometric transforms on decoded images (data/image_io.h
// `Image`, HWC uint8, any 1..4 channels) and masks (data/mask.h `Mask`,
// labels), the building blocks of the training/evaluation pipelines
// (data/pipeline.h, DESIGN §4).
//
// Coordinate convention (all ops): pixel (x, y) covers [x, x+1) x [y, y+1)
// and is sampled at its centre (x + 0.5, y + 0.5) — "half-pixel centres",
// as PIL does (the reference applies torchvision transforms to PIL images).
//
// resize_bilinear is PIL's Image.resize(BILINEAR) arithmetic, which is what
// torchvision's Resize does on a PIL image:
//   - separable: a horizontal pass, its result rounded to uint8, then a
//     vertical pass (each pass skipped when that size does not change);
//   - output pixel i samples around centre c = (i + 0.5) * in / out with the
//     triangle filter of support s = max(in / out, 1): when downscaling the
//     filter widens by the scale factor (antialiasing); when upscaling it is
//     plain bilinear interpolation with edge clamping;
//   - weights are normalised over the taps inside the image and held in
//     22-bit fixed point, sums rounded half up and clamped to [0, 255].
//   It differs from torch.nn.functional.interpolate(mode="bilinear",
//   align_corners=False, antialias=False) when downscaling (no antialiasing
//   there) and by at most one grey level elsewhere (float vs fixed point).
// resize_nearest (masks): output i takes input floor((i + 0.5) * in / out)
//   (PIL NEAREST; torch's mode="nearest-exact"), with the source coordinate
//   accumulated in double from the left edge exactly as PIL does.
// rotate / rotate_crop: rotation by `degrees` counter-clockwise about the
//   image centre (W/2, H/2), output the size of the input (PIL
//   Image.rotate(expand=False), which torchvision's RandomRotation calls):
//   output pixel centre p maps to input point R(-degrees)(p - centre) + centre;
//   points outside the input get `fill`. kNearest takes the input pixel
//   containing that point (torchvision's default, InterpolationMode.NEAREST);
//   kBilinear interpolates the four nearest pixel centres (edges clamped),
//   the result truncated to an integer (PIL's rounding). (PIL computes the source point by repeated
//   addition along a row; we multiply, so a point lying exactly on a pixel border can fall on the
//   other side in PIL — never at 0, 90, 180 or 270 degrees.)
//
// Errors: ValueError naming the op and the sizes (empty sizes, a crop that
// leaves the image, a buffer/channel mismatch).
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Transforms*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=loader
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <vector>

#include "data/image_io.h"
#include "data/mask.h"

namespace sirs {

enum class Interp { kNearest, kBilinear };

// ImageNet statistics (DESIGN §3), on values scaled to [0, 1].
constexpr std::array<float, 3> kImageNetMean = {0.485f, 0.456f, 0.406f};
constexpr std::array<float, 3> kImageNetStd = {0.229f, 0.224f, 0.225f};

Image resize_bilinear(const Image& src, int out_h, int out_w);
Image resize_nearest(const Image& src, int out_h, int out_w);
Mask resize_nearest(const Mask& src, int out_h, int out_w);

// Rotation about the centre, same output size (see above).
Image rotate(const Image& src, double degrees, Interp interp = Interp::kNearest, uint8_t fill = 0);
Mask rotate(const Mask& src, double degrees, uint8_t fill = 0);  // nearest

// The window [x, x + w) x [y, y + h); ValueError when it leaves the image.
Image crop(const Image& src, int x, int y, int w, int h);
Mask crop(const Mask& src, int x, int y, int w, int h);

Image hflip(const Image& src);  // mirror left-right
Image vflip(const Image& src);  // mirror top-bottom
Mask hflip(const Mask& src);
Mask vflip(const Mask& src);

// rotate, then crop, then the flips, as one inverse-mapped resample (each
// output pixel is sampled once from `src`; no intermediate image). Equal,
// pixel for pixel, to hflip/vflip(crop(rotate(src, degrees), x, y, w, h)).
struct RotateCrop {
  double degrees = 0;                 // counter-clockwise, about the centre of src
  int x = 0, y = 0;                   // crop origin in the rotated frame (src-sized)
  int w = 0, h = 0;                   // crop (= output) size
  bool hflip = false, vflip = false;  // applied to the crop
};
// out: [g.h, g.w, src.c]
void rotate_crop_into(const Image& src, const RotateCrop& g, Interp interp, uint8_t fill,
                      uint8_t* out);
// out: [g.h, g.w] labels (nearest)
void rotate_crop_into(const Mask& src, const RotateCrop& g, uint8_t fill, uint8_t* out);
Image rotate_crop(const Image& src, const RotateCrop& g, Interp interp, uint8_t fill = 0);
Mask rotate_crop(const Mask& src, const RotateCrop& g, uint8_t fill = 0);

// HWC bytes -> CHW float in the caller's buffer (e.g. one image slot of a
// batch tensor): out[c][y][x] = (v / 255 - mean[c]) / std[c], computed in
// float exactly as torchvision's ToTensor + Normalize. img.c must be 3.
// out: [3, H, W]
void to_chw_normalized(const Image& img, const std::array<float, 3>& mean,
                       const std::array<float, 3>& std, float* out);
// Labels as int64 (255 stays 255 = ignore). out: [H, W]
void mask_to_int64(const Mask& mask, int64_t* out);

namespace detail {

// cos and sin of a rotation by `degrees`, snapped to 0 / ±1 within 1e-15
// (PIL rounds them to 15 decimals), so quarter turns are exact.
void rotation_cos_sin(double degrees, double* cs, double* sn);

// Calls f(ox, oy, xin, yin) for every output pixel (ox, oy) of g, row by
// row: (xin, yin) is the point of the src_w x src_h source (continuous
// coordinates, pixel centres at +0.5) that the pixel samples. Explicit fma
// keeps the arithmetic identical wherever this is inlined (rotate_crop and
// the fused pipeline must agree to the last bit).
template <class F>
inline void rotate_crop_points(int src_h, int src_w, const RotateCrop& g, F&& f) {
  double cs, sn;
  rotation_cos_sin(g.degrees, &cs, &sn);
  const double cx = src_w / 2.0, cy = src_h / 2.0;
  for (int oy = 0; oy < g.h; ++oy) {
    const int ry = g.y + (g.vflip ? g.h - 1 - oy : oy);  // row in the rotated frame
    const double dy = ry + 0.5 - cy;
    // Source point of rotated-frame column rx: (bx + rx * cs, by + rx * sn).
    const double bx = std::fma(cs, 0.5 - cx, std::fma(-sn, dy, cx));
    const double by = std::fma(sn, 0.5 - cx, std::fma(cs, dy, cy));
    for (int ox = 0; ox < g.w; ++ox) {
      const double rx = g.x + (g.hflip ? g.w - 1 - ox : ox);
      f(ox, oy, std::fma(rx, cs, bx), std::fma(rx, sn, by));
    }
  }
}

// PIL's NEAREST resize: the source index of each of `out` samples taken from
// `in` (floor((i + 0.5) * in / out), accumulated in double as PIL does).
std::vector<int> nearest_index_table(int in, int out);

}  // namespace detail

}  // namespace sirs
