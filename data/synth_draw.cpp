// Drawing kit of the synthetic dataset (see data/synth_draw.h): noise, signed
// distances, canvas conversion.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Synth*'
#include "data/synth_draw.h"

namespace sirs {
namespace synth {

uint64_t mix_seed(uint64_t a, uint64_t b, uint64_t c) {
  Rng r(a * 0x9E3779B97F4A7C15ull ^ (b + 0x632BE59BD9B4E019ull) * 0xD1B54A32D192ED03ull ^
        (c + 0x8CB92BA72F3D8DD7ull) * 0xABC98388FB8FAC03ull);
  r.next();
  return r.next();
}

namespace {

// Integer hash of a lattice corner to [0, 1] (a lowbias32-style finaliser).
inline float lattice(int32_t x, int32_t y, uint32_t seed) {
  uint32_t h = uint32_t(x) * 0x8DA6B343u ^ uint32_t(y) * 0xD8163841u ^ seed * 0xCB1AB31Fu;
  h ^= h >> 16;
  h *= 0x7FEB352Du;
  h ^= h >> 15;
  h *= 0x846CA68Bu;
  h ^= h >> 16;
  return float(h >> 8) * (1.f / 16777215.f);
}

}  // namespace

float value_noise(float x, float y, uint32_t seed) {
  const float fx = std::floor(x), fy = std::floor(y);
  const int32_t ix = int32_t(fx), iy = int32_t(fy);
  float tx = x - fx, ty = y - fy;
  tx = tx * tx * (3 - 2 * tx);
  ty = ty * ty * (3 - 2 * ty);
  const float a = lattice(ix, iy, seed), b = lattice(ix + 1, iy, seed);
  const float c = lattice(ix, iy + 1, seed), d = lattice(ix + 1, iy + 1, seed);
  const float top = a + (b - a) * tx, bot = c + (d - c) * tx;
  return top + (bot - top) * ty;
}

float fbm(float x, float y, int octaves, uint32_t seed) {
  float sum = 0, amp = 1, norm = 0;
  for (int o = 0; o < octaves; ++o) {
    // Each octave gets its own lattice and a shifted origin, so the lattice
    // grid never lines up across octaves.
    sum += amp * value_noise(x + 17.3f * o, y - 9.1f * o, seed + 1013u * uint32_t(o));
    norm += amp;
    amp *= 0.5f;
    x *= 2.03f;
    y *= 2.03f;
  }
  return sum / norm;
}

float crowns(float x, float y, float cell, uint32_t seed, float* tint) {
  const float gx = std::floor(x / cell), gy = std::floor(y / cell);
  float best = 1e9f, bx = 0, by = 0, br = 1, bt = 0;
  for (int dy = -1; dy <= 1; ++dy) {
    for (int dx = -1; dx <= 1; ++dx) {
      const int32_t cx = int32_t(gx) + dx, cy = int32_t(gy) + dy;
      const float h1 = lattice(cx, cy, seed), h2 = lattice(cx, cy, seed + 1);
      const float h3 = lattice(cx, cy, seed + 2);
      const float px = (float(cx) + 0.15f + 0.7f * h1) * cell, py = (float(cy) + 0.15f + 0.7f * h2) * cell;
      const float r = cell * (0.55f + 0.4f * h3);
      const float ox = x - px, oy = y - py;
      const float d = std::sqrt(ox * ox + oy * oy) / r;
      if (d < best) best = d, bx = ox / r, by = oy / r, br = r, bt = lattice(cx, cy, seed + 3);
    }
  }
  (void)br;
  if (tint != nullptr) *tint = bt;
  if (best >= 1) return 0.15f;
  // Dome normal (bx, by, sqrt(1 - d^2)) against a light from the top left.
  const float nz = std::sqrt(1 - best * best);
  const float lit = std::clamp(0.35f * nz + 0.45f * (-bx - by) * 0.7f + 0.45f, 0.f, 1.f);
  return 0.3f + 0.7f * lit;
}

float sd_box(Vec2 p, Vec2 c, float hx, float hy, float angle, float rad) {
  const Vec2 q = rotate(p - c, -angle);
  const float dx = std::fabs(q.x) - (hx - rad), dy = std::fabs(q.y) - (hy - rad);
  const float ox = std::max(dx, 0.f), oy = std::max(dy, 0.f);
  return std::sqrt(ox * ox + oy * oy) + std::min(std::max(dx, dy), 0.f) - rad;
}

float sd_ellipse(Vec2 p, Vec2 c, float a, float b, float angle) {
  const Vec2 q = rotate(p - c, -angle);
  const float k = std::sqrt((q.x * q.x) / (a * a) + (q.y * q.y) / (b * b));
  return (k - 1.f) * std::min(a, b);
}

float sd_segment(Vec2 p, Vec2 a, Vec2 b, float r) {
  const Vec2 pa = p - a, ba = b - a;
  const float den = dot(ba, ba);
  const float h = den > 0 ? std::clamp(dot(pa, ba) / den, 0.f, 1.f) : 0.f;
  return length(pa - ba * h) - r;
}

float sd_polygon(Vec2 p, const Vec2* v, int n) {
  // Distance to the nearest edge; the sign from the even-odd crossing rule.
  float d = dot(p - v[0], p - v[0]);
  bool inside = false;
  for (int i = 0, j = n - 1; i < n; j = i, ++i) {
    const Vec2 e = v[j] - v[i], w = p - v[i];
    const float t = std::clamp(dot(w, e) / dot(e, e), 0.f, 1.f);
    const Vec2 b = w - e * t;
    d = std::min(d, dot(b, b));
    if ((v[i].y > p.y) != (v[j].y > p.y) &&
        p.x < (v[j].x - v[i].x) * (p.y - v[i].y) / (v[j].y - v[i].y) + v[i].x)
      inside = !inside;
  }
  return inside ? -std::sqrt(d) : std::sqrt(d);
}

float sd_sector(Vec2 p, Vec2 c, float r, float dir, float half) {
  const Vec2 q = rotate(p - c, -dir);  // the sector opens around +x
  const float d_circle = length(q) - r;
  const Vec2 e1{std::cos(half), std::sin(half)}, e2{std::cos(half), -std::sin(half)};
  if (std::fabs(std::atan2(q.y, q.x)) <= half) {
    // Inside the wedge: the nearer of the arc and the two straight sides.
    const float s1 = std::fabs(q.x * e1.y - q.y * e1.x), s2 = std::fabs(q.x * e2.y - q.y * e2.x);
    return std::max(d_circle, -std::min(s1, s2));
  }
  const float t1 = std::clamp(dot(q, e1), 0.f, r), t2 = std::clamp(dot(q, e2), 0.f, r);
  return std::max(std::min(length(q - e1 * t1), length(q - e2 * t2)), d_circle);
}

Canvas::Canvas(int size, Rgb fill) : n_(size), px_(size_t(size) * size, fill), lab_(size_t(size) * size, 0) {}

std::vector<uint8_t> Canvas::to_bytes() const {
  std::vector<uint8_t> out(px_.size() * 3);
  auto q = [](float v) { return uint8_t(std::clamp(v, 0.f, 1.f) * 255.f + 0.5f); };
  for (size_t i = 0; i < px_.size(); ++i) {
    out[3 * i] = q(px_[i].r);
    out[3 * i + 1] = q(px_[i].g);
    out[3 * i + 2] = q(px_[i].b);
  }
  return out;
}

}  // namespace synth
}  // namespace sirs
