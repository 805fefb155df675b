// Drawing kit of the synthetic remote-sensing dataset (data/synth.h): a
// seeded random source, value noise / fBm, and a canvas that paints shapes
// given by signed distance functions into an RGB image and a label map at
// the same time.
//
// Exact masks with antialiased edges: a shape is a signed distance d(x, y)
// in pixels (negative inside). Pixel (x, y) is sampled at its centre
// (x + 0.5, y + 0.5); its label becomes the shape's class when d < 0 there
// (the shape covers the centre), and its colour is blended with coverage
// a = clamp(0.5 - d, 0, 1), an estimate of the pixel area inside the shape
// that is > 0.5 exactly when the label changes. The shape painted last wins
// in both the image and the mask. Decorations (shadows, wakes, road marks)
// are painted with label kNoLabel and leave the mask alone.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Synth*'
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

namespace sirs {
namespace synth {

// splitmix64: small, fast and the same on every platform (std:: distributions
// are not), so a seed gives the same bytes everywhere.
class Rng {
 public:
  explicit Rng(uint64_t seed) : s_(seed) {}
  uint64_t next() {
    uint64_t z = (s_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  double uniform() { return double(next() >> 11) * (1.0 / 9007199254740992.0); }  // [0, 1)
  double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
  int randint(int lo, int hi) { return lo + int(next() % uint64_t(hi - lo + 1)); }  // [lo, hi]
  bool chance(double p) { return uniform() < p; }
  template <class T>
  const T& pick(const std::vector<T>& v) { return v[size_t(next() % v.size())]; }
  template <class T>
  void shuffle(std::vector<T>& v) {
    for (size_t i = v.size(); i > 1; --i) std::swap(v[i - 1], v[size_t(next() % i)]);
  }

 private:
  uint64_t s_;
};

// Mixes several words into one seed (per-image and per-layer seeds).
uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c = 0);

// Value noise on the integer lattice (hashed corners, smoothstep blend), in
// [0, 1]; fbm sums `octaves` octaves (frequency x2, amplitude x0.5) and
// renormalises to [0, 1]. x, y in lattice units.
float value_noise(float x, float y, uint32_t seed);
float fbm(float x, float y, int octaves, uint32_t seed);

// Tree crowns seen from above: a jittered grid of discs (cell edge `cell`,
// lattice units) shaded as domes lit from the top left. Returns the
// brightness in [0, 1] (about 0.15 in the gaps between crowns) and the
// crown's own random tint in [0, 1] through *tint.
float crowns(float x, float y, float cell, uint32_t seed, float* tint);

struct Rgb {
  float r = 0, g = 0, b = 0;
};
inline Rgb rgb(int r, int g, int b) { return {r / 255.f, g / 255.f, b / 255.f}; }
inline Rgb scale(Rgb c, float s) { return {c.r * s, c.g * s, c.b * s}; }
inline Rgb lerp(Rgb a, Rgb b, float t) {
  return {a.r + (b.r - a.r) * t, a.g + (b.g - a.g) * t, a.b + (b.b - a.b) * t};
}

struct Vec2 {
  float x = 0, y = 0;
};
inline Vec2 operator+(Vec2 a, Vec2 b) { return {a.x + b.x, a.y + b.y}; }
inline Vec2 operator-(Vec2 a, Vec2 b) { return {a.x - b.x, a.y - b.y}; }
inline Vec2 operator*(Vec2 a, float s) { return {a.x * s, a.y * s}; }
inline float dot(Vec2 a, Vec2 b) { return a.x * b.x + a.y * b.y; }
inline float length(Vec2 a) { return std::sqrt(a.x * a.x + a.y * a.y); }
// Rotates by angle (radians, counter-clockwise in x-right / y-down pixels).
inline Vec2 rotate(Vec2 p, float angle) {
  const float c = std::cos(angle), s = std::sin(angle);
  return {c * p.x - s * p.y, s * p.x + c * p.y};
}

// Axis-aligned bounds of a shape in pixels (x0 <= x < x1).
struct Bounds {
  float x0, y0, x1, y1;
};
inline Bounds around(Vec2 c, float r) { return {c.x - r, c.y - r, c.x + r, c.y + r}; }

// Signed distances (pixels, negative inside).
inline float sd_circle(Vec2 p, Vec2 c, float r) { return length(p - c) - r; }
// Box of half sizes (hx, hy) centred at c, rotated by angle, corners rounded by rad.
float sd_box(Vec2 p, Vec2 c, float hx, float hy, float angle, float rad = 0);
// Ellipse with semi-axes (a, b), rotated by angle (an approximation of the
// distance that is exact on the boundary's sign, which is all the mask needs).
float sd_ellipse(Vec2 p, Vec2 c, float a, float b, float angle);
// Capsule: segment a-b thickened by r.
float sd_segment(Vec2 p, Vec2 a, Vec2 b, float r);
// Simple polygon (any winding), exact distance.
float sd_polygon(Vec2 p, const Vec2* v, int n);
// Circular sector of radius r around c, opening half-angle `half` around `dir`.
float sd_sector(Vec2 p, Vec2 c, float r, float dir, float half);

constexpr int kNoLabel = -1;

class Canvas {
 public:
  Canvas(int size, Rgb fill);
  int size() const { return n_; }
  Rgb get(int x, int y) const { return px_[size_t(y) * n_ + x]; }
  void set(int x, int y, Rgb c) { px_[size_t(y) * n_ + x] = c; }
  uint8_t label(int x, int y) const { return lab_[size_t(y) * n_ + x]; }
  const std::vector<uint8_t>& labels() const { return lab_; }

  // Paints the shape `sd` (pixels) inside bounds `b` with colour paint(p) at
  // pixel centre p, label `cls` (or kNoLabel) on covered pixel centres.
  template <class Sd, class Paint>
  void fill(Bounds b, const Sd& sd, const Paint& paint, int cls) {
    const int x0 = std::max(0, int(std::floor(b.x0)) - 1);
    const int y0 = std::max(0, int(std::floor(b.y0)) - 1);
    const int x1 = std::min(n_, int(std::ceil(b.x1)) + 1);
    const int y1 = std::min(n_, int(std::ceil(b.y1)) + 1);
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const Vec2 p{x + 0.5f, y + 0.5f};
        const float d = sd(p);
        if (d >= 0.5f) continue;
        const float a = std::min(1.f, 0.5f - d);
        Rgb& dst = px_[size_t(y) * n_ + x];
        dst = lerp(dst, paint(p), a);
        if (cls != kNoLabel && d < 0) lab_[size_t(y) * n_ + x] = uint8_t(cls);
      }
    }
  }
  // Multiplies the colour by `factor` where the shape covers (shadows).
  template <class Sd>
  void shade(Bounds b, const Sd& sd, float factor) {
    const int x0 = std::max(0, int(std::floor(b.x0)) - 1);
    const int y0 = std::max(0, int(std::floor(b.y0)) - 1);
    const int x1 = std::min(n_, int(std::ceil(b.x1)) + 1);
    const int y1 = std::min(n_, int(std::ceil(b.y1)) + 1);
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const float d = sd(Vec2{x + 0.5f, y + 0.5f});
        if (d >= 0.5f) continue;
        const float a = std::min(1.f, 0.5f - d);
        Rgb& dst = px_[size_t(y) * n_ + x];
        dst = scale(dst, 1.f - a * (1.f - factor));
      }
    }
  }
  // Blends `colour` with opacity opacity(p) * coverage (foam, wakes, haze);
  // labels untouched.
  template <class Sd, class Opacity>
  void glaze(Bounds b, const Sd& sd, Rgb colour, const Opacity& opacity) {
    const int x0 = std::max(0, int(std::floor(b.x0)) - 1);
    const int y0 = std::max(0, int(std::floor(b.y0)) - 1);
    const int x1 = std::min(n_, int(std::ceil(b.x1)) + 1);
    const int y1 = std::min(n_, int(std::ceil(b.y1)) + 1);
    for (int y = y0; y < y1; ++y) {
      for (int x = x0; x < x1; ++x) {
        const Vec2 p{x + 0.5f, y + 0.5f};
        const float d = sd(p);
        if (d >= 0.5f) continue;
        const float a = std::min(1.f, 0.5f - d) * std::clamp(opacity(p), 0.f, 1.f);
        Rgb& dst = px_[size_t(y) * n_ + x];
        dst = lerp(dst, colour, a);
      }
    }
  }
  // Whole-image pass: colour = paint(p, old colour); labels untouched.
  template <class Paint>
  void map(const Paint& paint) {
    for (int y = 0; y < n_; ++y)
      for (int x = 0; x < n_; ++x) {
        Rgb& dst = px_[size_t(y) * n_ + x];
        dst = paint(Vec2{x + 0.5f, y + 0.5f}, dst);
      }
  }
  // 8-bit RGB, HWC, with clamping and rounding.
  std::vector<uint8_t> to_bytes() const;

 private:
  int n_;
  std::vector<Rgb> px_;     // [S, S]
  std::vector<uint8_t> lab_;  // [S, S] class index
};

}  // namespace synth
}  // namespace sirs
