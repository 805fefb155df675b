// Synthetic remote-sensing dataset (see data/synth.h): the scene drawers and
// the writer.
//
// Every length is given for a 256-pixel image and multiplied by u = S / 256.
// A scene first places its labelled entities (non-overlapping discs kept in
// Ctx::reserved, with a gap, so counted entities stay separate 4-connected
// regions of the mask), then paints the ground and decorations that avoid the
// reserved discs (houses, trees, roads), then the entities themselves.
//
// Test: make -j2 build/sirs_tests && ./build/sirs_tests --gtest_filter='Synth*'
// Bench: make build/sirs_bench && ./build/sirs_bench --benchmark_filter=synth
#include "data/synth.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "data/precomp.h"
#include "data/synth_captions.h"
#include "data/synth_draw.h"
#include "data/vocab.h"
#include "tensor/error.h"

namespace sirs {

using namespace synth;

namespace {

constexpr float kPi = 3.14159265358979f;

// Classes in DESIGN §2 order.
enum Cls {
  kBackground, kPlane, kBoat, kStorageTank, kPond, kRiver, kBeach, kPlayground,
  kSwimmingPool, kCourt, kBaseballField, kCenter, kChurch, kStadium, kBridge
};

struct Disc {
  Vec2 c;
  float r;
};

struct Named {
  const char* word;
  Rgb colour;
};

// ---------------------------------------------------------------------------
// Ground textures
// ---------------------------------------------------------------------------

enum class GroundKind { kGrass, kForest, kFarmland, kSand, kConcrete, kBare, kWater };

struct Ground {
  GroundKind kind = GroundKind::kGrass;
  Rgb base;
  uint32_t seed = 0;
  float angle = 0;   // farmland strip direction
  float strip = 18;  // farmland strip width (256-pixel units)
  float parcel = 80;
};

Rgb ground_at(const Ground& g, Vec2 p, float u) {
  const float x = p.x / u, y = p.y / u;
  const float fine = value_noise(x / 1.3f, y / 1.3f, g.seed + 7);
  switch (g.kind) {
    case GroundKind::kGrass: {
      const float f = fbm(x / 30, y / 30, 4, g.seed);
      const float dry = fbm(x / 70, y / 70, 2, g.seed + 3);
      Rgb c = scale(g.base, 0.78f + 0.44f * f);
      c = lerp(c, rgb(150, 140, 90), std::clamp((dry - 0.55f) * 2.f, 0.f, 0.6f));
      return scale(c, 0.92f + 0.16f * fine);
    }
    case GroundKind::kForest: {
      float tint = 0;
      const float lit = crowns(x, y, 7.f, g.seed, &tint);
      const float low = fbm(x / 60, y / 60, 2, g.seed + 5);
      Rgb c = scale(g.base, 0.2f + 0.95f * lit);
      c = lerp(c, scale(rgb(95, 110, 50), 0.2f + 0.95f * lit), 0.35f * tint);  // some yellower crowns
      return scale(c, (0.8f + 0.4f * low) * (0.95f + 0.1f * fine));
    }
    case GroundKind::kFarmland: {
      const Vec2 q = rotate(Vec2{x, y}, -g.angle);
      const float wobble = 6 * fbm(q.x / 50, q.y / 50, 2, g.seed + 11);
      const float a = q.x + wobble, b = q.y;
      const float ia = std::floor(a / g.parcel), ib = std::floor(b / g.strip);
      static const Rgb kCrops[] = {rgb(118, 148, 72), rgb(170, 160, 98), rgb(142, 112, 78),
                                   rgb(92, 126, 60),  rgb(186, 176, 132), rgb(135, 150, 90)};
      const uint32_t h = uint32_t(int32_t(ia) * 7919 + int32_t(ib) * 104729) ^ g.seed;
      const uint32_t k = (h * 2654435761u) >> 16;
      Rgb c = kCrops[k % 6];
      const float rows = 0.93f + 0.07f * std::sin(b * 2.4f + (k % 7));
      c = scale(c, rows * (0.9f + 0.15f * fbm(x / 25, y / 25, 3, g.seed + 2)) *
                       (0.95f + 0.1f * fine));
      const float fa = a / g.parcel - ia, fb = b / g.strip - ib;
      if (fb < 0.06f || fa < 0.015f) c = scale(c, 0.78f);  // field boundaries
      return c;
    }
    case GroundKind::kSand: {
      const float f = fbm(x / 40, y / 40, 4, g.seed);
      const float rip = std::sin((x * 0.35f + y * 0.22f) + 8 * fbm(x / 30, y / 30, 2, g.seed + 1));
      return scale(g.base, (0.86f + 0.24f * f) * (0.97f + 0.03f * rip) * (0.96f + 0.08f * fine));
    }
    case GroundKind::kConcrete: {
      const float f = fbm(x / 30, y / 30, 3, g.seed);
      const float jx = std::fmod(x, 24.f), jy = std::fmod(y, 24.f);
      const float joint = (jx < 0.8f || jy < 0.8f) ? 0.92f : 1.f;
      return scale(g.base, (0.88f + 0.18f * f) * (0.94f + 0.12f * fine) * joint);
    }
    case GroundKind::kBare: {
      const float f = fbm(x / 35, y / 35, 4, g.seed);
      return scale(g.base, (0.8f + 0.35f * f) * (0.93f + 0.14f * fine));
    }
    case GroundKind::kWater: {
      const float f = fbm(x / 45, y / 45, 3, g.seed);
      const float rip = value_noise(x / 2.5f, y / 7.f, g.seed + 9);
      return scale(g.base, (0.88f + 0.22f * f) * (0.97f + 0.06f * rip));
    }
  }
  return g.base;
}

// ---------------------------------------------------------------------------
// Scene context
// ---------------------------------------------------------------------------

struct Ctx {
  int S;
  float u;
  Canvas cv;
  Rng rng;
  SceneFacts f;
  std::vector<Disc> reserved;
  std::vector<Vec2> entity_centres;  // of the counted entities (for the place phrase)

  Ctx(int size, uint64_t seed) : S(size), u(size / 256.f), cv(size, Rgb{}), rng(seed) {}
  uint32_t seed32() { return uint32_t(rng.next()); }
  float uni(float a, float b) { return float(rng.uniform(a, b)); }
  Vec2 centre() const { return {S * 0.5f, S * 0.5f}; }

  // At least 3 pixels between discs whatever the size, so separate entities
  // never touch in the mask, even after the 0.75 px growth of thin shapes.
  bool is_free(Vec2 c, float r, float gap) const {
    gap = std::max(gap, 3.f);
    for (const Disc& d : reserved)
      if (length(c - d.c) < r + d.r + gap) return false;
    return true;
  }
  bool inside(Vec2 c, float margin) const {
    return c.x >= margin && c.y >= margin && c.x <= S - margin && c.y <= S - margin;
  }
  // Tries random positions in [lo, hi]^2 (fractions of S) for a disc of radius
  // r fully inside the image and clear of reserved discs.
  bool place(float r, float gap, Vec2& out, float lo = 0.f, float hi = 1.f, int tries = 200) {
    for (int t = 0; t < tries; ++t) {
      Vec2 c{uni(lo, hi) * S, uni(lo, hi) * S};
      if (inside(c, r + 1) && is_free(c, r, gap)) {
        out = c;
        return true;
      }
    }
    return false;
  }

  void ground(const Ground& g) {
    cv.map([&](Vec2 p, Rgb) { return ground_at(g, p, u); });
  }
  template <class Sd>
  void ground_region(const Ground& g, Bounds b, const Sd& sd) {
    cv.fill(b, sd, [&](Vec2 p) { return ground_at(g, p, u); }, kNoLabel);
  }
};

Bounds full(const Ctx& c) { return {0, 0, float(c.S), float(c.S)}; }

Ground make_ground(Ctx& c, GroundKind k) {
  Ground g;
  g.kind = k;
  g.seed = c.seed32();
  switch (k) {
    case GroundKind::kGrass:
      g.base = c.rng.pick(std::vector<Rgb>{rgb(86, 118, 58), rgb(110, 130, 66), rgb(72, 104, 52)});
      break;
    case GroundKind::kForest: g.base = rgb(int(c.uni(48, 62)), int(c.uni(78, 92)), 44); break;
    case GroundKind::kFarmland:
      g.angle = c.uni(-0.6f, 0.6f) + (c.rng.chance(0.5) ? kPi / 2 : 0);
      g.strip = c.uni(12, 26);
      g.parcel = c.uni(60, 140);
      break;
    case GroundKind::kSand: g.base = rgb(int(c.uni(200, 222)), int(c.uni(180, 198)), int(c.uni(130, 150))); break;
    case GroundKind::kConcrete: {
      const int v = int(c.uni(140, 172));
      g.base = rgb(v, v, v - 4);
      break;
    }
    case GroundKind::kBare: g.base = rgb(int(c.uni(150, 176)), int(c.uni(122, 140)), int(c.uni(96, 110))); break;
    case GroundKind::kWater: g.base = rgb(36, 62, 80); break;
  }
  return g;
}

// Land around an entity: one of grass, farmland, forest, bare land, with its
// caption phrase.
Ground random_land(Ctx& c, std::string& phrase, bool allow_forest = true) {
  const int k = c.rng.randint(0, allow_forest ? 3 : 2);
  if (k == 0) {
    phrase = c.rng.pick(std::vector<std::string>{"green grass", "a green lawn", "green meadow"});
    return make_ground(c, GroundKind::kGrass);
  }
  if (k == 1) {
    phrase = c.rng.pick(std::vector<std::string>{"farmland", "green and yellow farmland", "a piece of farmland"});
    return make_ground(c, GroundKind::kFarmland);
  }
  if (k == 2) {
    phrase = c.rng.pick(std::vector<std::string>{"bare land", "brown bare land", "a piece of bareland"});
    return make_ground(c, GroundKind::kBare);
  }
  phrase = c.rng.pick(std::vector<std::string>{"dense forest", "a lush forest", "a dense green forest"});
  return make_ground(c, GroundKind::kForest);
}

// ---------------------------------------------------------------------------
// Decorations (no label)
// ---------------------------------------------------------------------------

void draw_dashes(Ctx& c, Vec2 a, Vec2 b);

void draw_road(Ctx& c, Vec2 a, Vec2 b, float width, bool centre_line) {
  const float r = width * 0.5f;
  const Bounds bb{std::min(a.x, b.x) - r, std::min(a.y, b.y) - r, std::max(a.x, b.x) + r,
                  std::max(a.y, b.y) + r};
  const uint32_t s = c.seed32();
  const float u = c.u;
  c.cv.fill(bb, [&](Vec2 p) { return sd_segment(p, a, b, r); },
            [&](Vec2 p) {
              return scale(rgb(104, 104, 106), 0.9f + 0.2f * value_noise(p.x / (2 * u), p.y / (2 * u), s));
            },
            kNoLabel);
  if (centre_line) draw_dashes(c, a, b);
}

// Dashed white centre line of a road or runway.
void draw_dashes(Ctx& c, Vec2 a, Vec2 b) {
  const Bounds bb{std::min(a.x, b.x) - 2, std::min(a.y, b.y) - 2, std::max(a.x, b.x) + 2,
                  std::max(a.y, b.y) + 2};
  const Vec2 d = b - a;
  const float len = length(d);
  const Vec2 dir = d * (1.f / len);
  c.cv.fill(bb, [&](Vec2 p) {
              const float t = dot(p - a, dir);
              const float dash = std::fabs(std::fmod(t / c.u + 1000.f, 10.f) - 5.f) - 2.5f;  // dashes
              return std::max(sd_segment(p, a, b, 0.6f * c.u), dash * c.u);
            },
            [](Vec2) { return rgb(225, 222, 200); }, kNoLabel);
}

void draw_tree(Ctx& c, Vec2 p0, float r) {
  const Vec2 sh{0.45f * r, 0.45f * r};
  c.cv.shade(around(p0 + sh, r + 1), [&](Vec2 p) { return sd_circle(p, p0 + sh, r); }, 0.6f);
  const Rgb base = rgb(int(c.uni(40, 70)), int(c.uni(75, 100)), int(c.uni(35, 50)));
  const uint32_t s = c.seed32();
  c.cv.fill(around(p0, r + 1),
            [&](Vec2 p) { return sd_circle(p, p0, r * (0.85f + 0.3f * value_noise(p.x, p.y, s))); },
            [&](Vec2 p) {
              const float lit = std::clamp(0.5f - dot(p - p0, Vec2{0.7f, 0.7f}) / (2 * r), 0.f, 1.f);
              return scale(base, 0.75f + 0.6f * lit);
            },
            kNoLabel);
}

// Scatters trees where keep(p) is true and no reserved disc is near.
template <class Keep>
void draw_trees(Ctx& c, int n, const Keep& keep) {
  for (int i = 0; i < n; ++i) {
    const Vec2 p{c.uni(0, float(c.S)), c.uni(0, float(c.S))};
    const float r = c.uni(2.5f, 5.5f) * c.u;
    if (keep(p) && c.is_free(p, r * 1.5f, 2 * c.u)) draw_tree(c, p, r);
  }
}

const std::vector<Rgb>& roof_colours() {
  static const std::vector<Rgb> k = {rgb(150, 70, 55), rgb(120, 118, 116), rgb(90, 88, 92),
                                     rgb(185, 120, 80), rgb(210, 208, 200), rgb(140, 100, 80)};
  return k;
}

// A gabled roof: two halves on either side of the ridge, one lit, one dark,
// with a drop shadow; no label.
void draw_house(Ctx& c, Vec2 p0, float hx, float hy, float ang, Rgb roof) {
  const Vec2 sh = Vec2{1.f, 1.f} * (1.8f * c.u);
  c.cv.shade(around(p0 + sh, std::max(hx, hy) * 1.5f),
             [&](Vec2 p) { return sd_box(p, p0 + sh, hx, hy, ang); }, 0.55f);
  c.cv.fill(around(p0, std::max(hx, hy) * 1.5f), [&](Vec2 p) { return sd_box(p, p0, hx, hy, ang); },
            [&](Vec2 p) {
              const Vec2 q = rotate(p - p0, -ang);
              return scale(roof, q.y < 0 ? 1.1f : 0.8f);
            },
            kNoLabel);
}

// Houses on a rotated grid where keep(p) holds and the house clears the
// reserved discs; roads between the rows when `roads`.
template <class Keep>
void draw_houses(Ctx& c, float spacing, float fill_prob, const Keep& keep, bool roads) {
  const float ang = c.uni(-0.4f, 0.4f);
  const float sp = spacing * c.u;
  const Vec2 o = c.centre();
  const int n = int(c.S * 1.5f / sp) + 2;
  if (roads) {
    for (int i = -n / 2; i <= n / 2; i += 2) {
      const Vec2 a = o + rotate(Vec2{-c.S * 1.f, (i + 0.5f) * sp}, ang);
      const Vec2 b = o + rotate(Vec2{c.S * 1.f, (i + 0.5f) * sp}, ang);
      // Only where the road's middle is kept; roads are not clipped finely.
      if (keep(o + rotate(Vec2{0, (i + 0.5f) * sp}, ang))) draw_road(c, a, b, 5 * c.u, false);
    }
  }
  for (int i = -n / 2; i <= n / 2; ++i) {
    for (int j = -n / 2; j <= n / 2; ++j) {
      if (!c.rng.chance(fill_prob)) continue;
      const Vec2 p = o + rotate(Vec2{(j + c.uni(-0.1f, 0.1f)) * sp, i * sp}, ang);
      const float hx = c.uni(0.28f, 0.4f) * sp, hy = c.uni(0.2f, 0.3f) * sp;
      if (!keep(p) || !c.inside(p, -hx) || !c.is_free(p, hx * 1.3f, 2 * c.u)) continue;
      draw_house(c, p, hx, hy, ang, c.rng.pick(roof_colours()));
    }
  }
}

// Place phrase of the counted entities from their mean position.
std::string place_phrase(const Ctx& c) {
  if (c.entity_centres.empty()) return "";
  Vec2 m{};
  for (const Vec2& p : c.entity_centres) m = m + p;
  m = m * (1.f / (c.entity_centres.size() * c.S));
  const char* h = m.x < 0.4f ? "left" : m.x > 0.6f ? "right" : "";
  const char* v = m.y < 0.4f ? "top" : m.y > 0.6f ? "bottom" : "";
  if (*h && *v) return str_cat("in the ", v, " ", h, " corner");
  if (*h) return str_cat("on the ", h, " side");
  if (*v) return str_cat("at the ", v);
  return "in the middle";
}

// Antialiased fill with a flat colour scaled by low-contrast noise.
auto textured(Rgb base, uint32_t seed, float u, float amount = 0.08f) {
  return [=](Vec2 p) {
    return scale(base, 1.f - amount + 2 * amount * value_noise(p.x / (1.7f * u), p.y / (1.7f * u), seed));
  };
}

// ---------------------------------------------------------------------------
// Entities
// ---------------------------------------------------------------------------

// Plane seen from above, nose along +x, unit length.
const Vec2 kWing[] = {{0.16f, 0.05f},  {-0.10f, 0.50f}, {-0.19f, 0.50f}, {-0.06f, 0.05f},
                      {-0.06f, -0.05f}, {-0.19f, -0.50f}, {-0.10f, -0.50f}, {0.16f, -0.05f}};
const Vec2 kTail[] = {{-0.36f, 0.03f}, {-0.47f, 0.19f}, {-0.53f, 0.19f}, {-0.47f, 0.0f},
                      {-0.53f, -0.19f}, {-0.47f, -0.19f}, {-0.36f, -0.03f}};

float sd_plane(Vec2 p, Vec2 c, float len, float ang) {
  const Vec2 q = rotate(p - c, -ang) * (1.f / len);
  float d = sd_segment(q, {-0.47f, 0}, {0.45f, 0}, 0.055f);
  d = std::min(d, sd_polygon(q, kWing, 8));
  d = std::min(d, sd_polygon(q, kTail, 7));
  // Grown by 0.75 px so thin tips and tails stay 4-connected at any size.
  return d * len - 0.75f;
}

void draw_plane(Ctx& c, Vec2 p0, float len, float ang, Rgb col) {
  const Vec2 sh = Vec2{0.05f, 0.06f} * len;
  const Bounds b = around(p0, 0.6f * len);
  c.cv.shade(around(p0 + sh, 0.6f * len), [&](Vec2 p) { return sd_plane(p, p0 + sh, len, ang); }, 0.5f);
  c.cv.fill(b, [&](Vec2 p) { return sd_plane(p, p0, len, ang); },
            [&](Vec2 p) {
              const Vec2 q = rotate(p - p0, -ang) * (1.f / len);
              // Rounded fuselage: lit along its spine, darker towards the wing tips.
              return scale(col, 1.05f - 0.25f * std::min(1.f, std::fabs(q.y) * 2.5f));
            },
            kPlane);
  for (float s : {-1.f, 1.f}) {  // engines under the wings
    const Vec2 e0 = p0 + rotate(Vec2{0.02f, 0.2f * s} * len, ang);
    const Vec2 e1 = p0 + rotate(Vec2{0.1f, 0.2f * s} * len, ang);
    c.cv.fill(around(e0, 0.15f * len), [&](Vec2 p) { return sd_segment(p, e0, e1, 0.028f * len); },
              [&](Vec2) { return scale(col, 0.6f); }, kPlane);
  }
}

const Vec2 kHull[] = {{0.5f, 0.f}, {0.3f, 0.14f}, {-0.48f, 0.13f}, {-0.5f, 0.f}, {-0.48f, -0.13f}, {0.3f, -0.14f}};

float sd_boat(Vec2 p, Vec2 c, float len, float ang) {
  const Vec2 q = rotate(p - c, -ang) * (1.f / len);
  return sd_polygon(q, kHull, 6) * len - 0.75f;  // see sd_plane
}

void draw_wake(Ctx& c, Vec2 p0, float len, float ang) {
  const uint32_t s = c.seed32();
  const float u = c.u;
  const Vec2 stern = p0 + rotate(Vec2{-0.5f * len, 0}, ang);
  const Rgb foam = rgb(225, 232, 235);
  for (float side : {-1.f, 1.f}) {
    const Vec2 end = p0 + rotate(Vec2{-2.2f * len, side * 0.7f * len}, ang);
    c.cv.glaze(around(stern, 2.3f * len), [&](Vec2 p) { return sd_segment(p, stern, end, 0.9f * u); }, foam,
               [&](Vec2 p) {
                 return 0.55f * (1 - length(p - stern) / (2.4f * len)) *
                        (0.5f + value_noise(p.x / (2 * u), p.y / (2 * u), s));
               });
  }
  const Vec2 trail = p0 + rotate(Vec2{-1.8f * len, 0}, ang);
  c.cv.glaze(around(stern, 1.9f * len), [&](Vec2 p) { return sd_segment(p, stern, trail, 0.1f * len + u); },
             foam, [&](Vec2 p) {
               return 0.7f * (1 - length(p - stern) / (1.9f * len)) *
                      value_noise(p.x / (1.5f * u), p.y / (1.5f * u), s + 1);
             });
}

void draw_boat(Ctx& c, Vec2 p0, float len, float ang, Rgb col) {
  const Vec2 sh = Vec2{0.05f, 0.06f} * len;
  c.cv.shade(around(p0 + sh, 0.6f * len), [&](Vec2 p) { return sd_boat(p, p0 + sh, len, ang); }, 0.5f);
  c.cv.fill(around(p0, 0.6f * len), [&](Vec2 p) { return sd_boat(p, p0, len, ang); },
            [&](Vec2 p) {
              const Vec2 q = rotate(p - p0, -ang) * (1.f / len);
              return scale(col, std::fabs(q.y) > 0.1f ? 0.8f : 1.f);  // gunwale
            },
            kBoat);
  const Vec2 cab = p0 + rotate(Vec2{-0.12f * len, 0}, ang);
  c.cv.fill(around(cab, 0.25f * len), [&](Vec2 p) { return sd_box(p, cab, 0.16f * len, 0.075f * len, ang, 0.5f * c.u); },
            [&](Vec2) { return rgb(238, 238, 236); }, kBoat);
}

void draw_tank(Ctx& c, Vec2 p0, float r, Rgb col) {
  const Vec2 sh = Vec2{0.3f, 0.3f} * r;
  c.cv.shade(around(p0 + sh, r + 1), [&](Vec2 p) { return sd_circle(p, p0 + sh, r); }, 0.45f);
  c.cv.fill(around(p0, r + 1), [&](Vec2 p) { return sd_circle(p, p0, r); },
            [&](Vec2 p) {
              const float d = length(p - p0) / r;
              const float ring = (d > 0.85f) ? 0.78f : 1.f;  // rim
              const float lit = 1.f - 0.18f * dot(p - p0, Vec2{0.7f, 0.7f}) / r;
              return scale(col, ring * lit * (d < 0.12f ? 0.8f : 1.f));
            },
            kStorageTank);
}

// Up to n sailing boats (wakes, then hulls) at candidate poses from
// sample(p, angle); returns "a white boat is sailing" / "two red boats are
// sailing", or "" when none fitted.
template <class Sample>
std::string add_sailing_boats(Ctx& c, int n, float len, const Sample& sample) {
  const Named col = c.rng.pick(std::vector<Named>{{"white", rgb(236, 236, 232)}, {"red", rgb(175, 60, 50)},
                                                  {"yellow", rgb(215, 185, 60)}});
  std::vector<std::pair<Vec2, float>> boats;
  for (int t = 0; t < 40 * n && int(boats.size()) < n; ++t) {
    Vec2 p;
    float ang;
    if (!sample(p, ang) || !c.inside(p, 0.56f * len + 1) || !c.is_free(p, 0.56f * len, 3 * c.u)) continue;
    c.reserved.push_back({p, 0.56f * len});
    boats.push_back({p, ang});
  }
  for (const auto& b : boats) draw_wake(c, b.first, len, b.second);
  for (const auto& b : boats) draw_boat(c, b.first, len, b.second, col.colour);
  if (boats.empty()) return "";
  if (boats.size() == 1) return str_cat("a ", col.word, " boat is sailing");
  return str_cat(count_word(int(boats.size())), " ", col.word, " boats are sailing");
}

// Irregular blob: radius modulated by periodic noise around the angle.
float sd_blob(Vec2 p, Vec2 c, float r, float wobble, uint32_t seed) {
  const Vec2 q = p - c;
  const float a = std::atan2(q.y, q.x) / (2 * kPi) + 0.5f;  // [0, 1]
  // Periodic noise: blend the lattice value at a and at a - 1.
  const float n = value_noise(a * 6, 0.5f, seed) * (1 - a) + value_noise(a * 6 - 6, 0.5f, seed) * a;
  return (length(q) - r * (1 + wobble * (n - 0.5f) * 2)) * 0.8f;
}

// ---------------------------------------------------------------------------
// Scenes
// ---------------------------------------------------------------------------

const std::vector<Named> kWhiteGray = {{"white", rgb(235, 235, 230)}, {"gray", rgb(150, 152, 156)}};

void scene_airport(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "plane";
  f.nouns = "planes";
  f.main_class = kPlane;
  const Named col = c.rng.pick(std::vector<Named>{{"white", rgb(236, 236, 232)}, {"white", rgb(228, 230, 232)},
                                                  {"gray", rgb(160, 163, 168)}, {"blue", rgb(95, 125, 175)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const float len = (large ? c.uni(44, 56) : c.uni(26, 34)) * c.u;
  // Runway along one edge (rotated by a quarter turn k times).
  const int side = c.rng.randint(0, 3);
  const float rw_w = c.uni(22, 30) * c.u, rw_off = c.uni(8, 30) * c.u + rw_w / 2;
  auto to_img = [&](Vec2 q) {  // frame with the runway along the top edge
    const Vec2 o = c.centre();
    return o + rotate(q - o, side * kPi / 2);
  };
  const float apron_end = rw_off + rw_w / 2 + c.uni(20, 60) * c.u + 1.4f * len;
  std::string land;
  Ground g = random_land(c, land, false);
  c.ground(g);
  f.ground = land;
  Ground concrete = make_ground(c, GroundKind::kConcrete);
  // Apron: concrete band between the runway and apron_end.
  const Vec2 ac = to_img(Vec2{c.S * 0.5f, apron_end / 2});
  c.ground_region(concrete, full(c), [&](Vec2 p) {
    const Vec2 q = rotate(p - ac, -side * kPi / 2);
    return std::max(std::fabs(q.y) - apron_end / 2, std::fabs(q.x) - c.S * 0.45f);
  });
  // Runway: dark asphalt, white edge lines, dashed centre line.
  const Vec2 ra = to_img(Vec2{-10.f, rw_off}), rb = to_img(Vec2{c.S + 10.f, rw_off});
  c.cv.fill(full(c), [&](Vec2 p) { return sd_segment(p, ra, rb, rw_w / 2); },
            textured(rgb(72, 72, 76), c.seed32(), c.u, 0.1f), kNoLabel);
  for (float s : {-1.f, 1.f}) {
    const Vec2 o = to_img(Vec2{0, rw_off + s * (rw_w / 2 - 2.5f * c.u)}) - to_img(Vec2{0, rw_off});
    c.cv.fill(full(c), [&](Vec2 p) { return sd_segment(p, ra + o, rb + o, 0.6f * c.u); },
              [](Vec2) { return rgb(220, 220, 214); }, kNoLabel);
  }
  draw_dashes(c, ra, rb);
  f.detail = c.rng.pick(std::vector<std::string>{"the gray runway", "a long runway", "the runway"});
  // Planes parked in a row along the apron (noses to the runway) or scattered.
  const int n = c.rng.randint(1, large ? 4 : 7);
  const bool row = c.rng.chance(0.6);
  f.layout = row ? c.rng.pick(std::vector<std::string>{"in a row", "side by side", "neatly arranged"})
                 : "scattered";
  const float ry = rw_off + rw_w / 2 + c.uni(6, 12) * c.u + 0.56f * len;
  float x = c.uni(0.56f * len + 4 * c.u, c.S * 0.25f);
  const float step = 1.12f * len + c.uni(2, 8) * c.u;
  int placed = 0;
  std::vector<std::pair<Vec2, float>> planes;
  for (int i = 0; i < n * 30 && placed < n; ++i) {
    Vec2 p;
    float ang;
    if (row) {
      if (x > c.S - 0.56f * len - 2) break;
      p = to_img(Vec2{x, ry});
      ang = -kPi / 2 + side * kPi / 2;
      x += step;
    } else {
      const Vec2 q{c.uni(0.56f * len + 2, c.S - 0.56f * len - 2), c.uni(ry, std::max(ry, apron_end - 0.3f * len))};
      p = to_img(q);
      ang = c.uni(0, 2 * kPi);
    }
    if (!c.inside(p, 0.56f * len + 1) || !c.is_free(p, 0.56f * len, 3 * c.u)) continue;
    c.reserved.push_back({p, 0.56f * len});
    planes.push_back({p, ang});
    ++placed;
  }
  for (const auto& pl : planes) {
    draw_plane(c, pl.first, len, pl.second, scale(col.colour, c.uni(0.95f, 1.05f)));
    c.entity_centres.push_back(pl.first);
  }
  f.count = placed;
  f.detail2 = c.rng.pick(std::vector<std::string>{"the apron", "the gray apron", "the concrete apron"});
  f.templates = {
      "{NP} {be} parked beside {D}",
      "{NP} {be} parked {L} on {D2}",
      "{n} {c} {N} {be} parked near {D} of the airport",
      "there {be} {NP} next to {D} surrounded by {G}",
      "{D} is next to {n} {s} {N}",
      "at the airport {NP} {be} {L} {P}",
      "{n} {s} {N} stand {L} on {D2} beside {D}",
      "{NP} {be} on {D2} {P}",
      "the airport has {D} and {n} {c} {N}",
  };
}

void scene_port(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "boat";
  f.nouns = c.rng.chance(0.5) ? "boats" : "ships";
  if (f.nouns == "ships") f.noun = "ship";
  f.main_class = kBoat;
  const Named col = c.rng.pick(std::vector<Named>{{"white", rgb(236, 236, 232)}, {"red", rgb(175, 60, 50)},
                                                  {"blue", rgb(60, 90, 160)}, {"green", rgb(60, 130, 80)},
                                                  {"yellow", rgb(215, 185, 60)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const float len = (large ? c.uni(42, 56) : c.uni(26, 36)) * c.u;
  // Water fills all but a dock strip along one side.
  const int side = c.rng.randint(0, 3);
  auto to_img = [&](Vec2 q) { return c.centre() + rotate(q - c.centre(), side * kPi / 2); };
  const Named water = c.rng.pick(std::vector<Named>{{"dark", rgb(30, 52, 68)}, {"dark green", rgb(38, 70, 62)},
                                                    {"blue", rgb(45, 80, 120)}});
  Ground wg = make_ground(c, GroundKind::kWater);
  wg.base = water.colour;
  c.ground(wg);
  const float dock = c.uni(30, 60) * c.u;
  Ground con = make_ground(c, GroundKind::kConcrete);
  const Vec2 dc = to_img(Vec2{c.S * 0.5f, dock / 2});
  c.ground_region(con, full(c), [&](Vec2 p) {
    const Vec2 q = rotate(p - dc, -side * kPi / 2);
    return std::fabs(q.y) - dock / 2;
  });
  // Warehouses on the dock.
  for (float x = c.uni(5, 20) * c.u; x < c.S; x += c.uni(40, 70) * c.u) {
    const Vec2 p = to_img(Vec2{x + 15 * c.u, dock * 0.45f});
    draw_house(c, p, c.uni(12, 20) * c.u, std::min(dock * 0.35f, 14 * c.u), side * kPi / 2,
               c.rng.pick(std::vector<Rgb>{rgb(90, 120, 160), rgb(170, 170, 168), rgb(150, 80, 60)}));
  }
  const bool moored = c.rng.chance(0.5);
  f.layout = moored ? c.rng.pick(std::vector<std::string>{"moored in a row", "docked side by side"})
                    : c.rng.pick(std::vector<std::string>{"sailing", "scattered"});
  const int n = c.rng.randint(1, large ? 5 : 8);
  std::vector<std::pair<Vec2, float>> boats;
  float x = c.uni(0.6f * len, c.S * 0.2f);
  for (int i = 0; i < n * 40 && int(boats.size()) < n; ++i) {
    Vec2 p;
    float ang;
    if (moored) {
      // Bow towards the dock, side by side.
      const float w = 0.3f * len;
      if (x > c.S - w - 2) break;
      p = to_img(Vec2{x, dock + 0.56f * len + 2 * c.u});
      ang = -kPi / 2 + side * kPi / 2;
      x += 2 * w + c.uni(3, 9) * c.u;
      if (!c.inside(p, 0.56f * len + 1)) continue;
      c.reserved.push_back({p, w});
    } else {
      p = to_img(Vec2{c.uni(0, float(c.S)), c.uni(dock + 0.6f * len, float(c.S))});
      ang = c.uni(0, 2 * kPi);
      if (!c.inside(p, 0.56f * len + 1) || !c.is_free(p, 0.56f * len, 3 * c.u)) continue;
      c.reserved.push_back({p, 0.56f * len});
    }
    boats.push_back({p, ang});
  }
  if (!moored)
    for (const auto& b : boats) draw_wake(c, b.first, len, b.second);
  for (const auto& b : boats) {
    draw_boat(c, b.first, len, b.second, scale(col.colour, c.uni(0.92f, 1.05f)));
    c.entity_centres.push_back(b.first);
  }
  f.count = int(boats.size());
  f.detail = str_cat("the ", water.word, " water");
  f.detail2 = c.rng.pick(std::vector<std::string>{"the dock", "the harbor", "the port"});
  f.ground = "the dock";
  f.templates = {
      "{NP} {be} {L} on {D}",
      "{NP} {be} {L} near {D2}",
      "there {be} {n} {c} {N} in {D2}",
      "{n} {s} {N} {be} {L} {P}",
      "{D2} with {n} {c} {N} is next to {D}",
      "{NP} {be} in {D} beside some buildings",
      "in {D} there {be} {NP} {L}",
      "{D} contains {n} {c} {N} {P}",
  };
}

void scene_storagetanks(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "storage tank";
  f.nouns = c.rng.chance(0.5) ? "storage tanks" : "tanks";
  if (f.nouns == "tanks") f.noun = "tank";
  f.main_class = kStorageTank;
  const Named col = c.rng.pick(std::vector<Named>{{"white", rgb(232, 232, 226)}, {"gray", rgb(150, 152, 150)},
                                                  {"green", rgb(110, 140, 105)}, {"white", rgb(225, 226, 222)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const bool concrete = c.rng.chance(0.5);
  Ground g = make_ground(c, concrete ? GroundKind::kConcrete : GroundKind::kBare);
  f.ground = concrete ? "gray concrete" : "bare land";
  c.ground(g);
  const int n = c.rng.randint(1, large ? 4 : 9);
  const float r0 = (large ? c.uni(20, 28) : c.uni(9, 14)) * c.u;
  const bool grid = c.rng.chance(0.5);
  f.layout = grid ? (n <= 3 ? "in a row" : "neatly arranged") : "scattered";
  std::vector<std::pair<Vec2, float>> tanks;
  if (grid) {
    const int cols = n <= 3 ? n : int(std::ceil(std::sqrt(double(n))));
    const float step = 2 * r0 + c.uni(6, 14) * c.u;
    const int rows = (n + cols - 1) / cols;
    const Vec2 o{c.uni(r0 + 4 * c.u, std::max(r0 + 4 * c.u, c.S - cols * step)),
                 c.uni(r0 + 4 * c.u, std::max(r0 + 4 * c.u, c.S - rows * step))};
    for (int i = 0; i < n; ++i) {
      const Vec2 p = o + Vec2{(i % cols) * step, (i / cols) * step};
      if (!c.inside(p, r0 + 1) || !c.is_free(p, r0, 3 * c.u)) continue;
      tanks.push_back({p, r0});
      c.reserved.push_back({p, r0 * 1.35f});
    }
  } else {
    for (int i = 0; i < n; ++i) {
      const float r = r0 * c.uni(0.85f, 1.1f);
      Vec2 p;
      if (!c.place(r * 1.35f, 3 * c.u, p)) continue;
      tanks.push_back({p, r});
      c.reserved.push_back({p, r * 1.35f});
    }
  }
  // Pipes, a road and small buildings around the tanks.
  draw_road(c, Vec2{-5, c.uni(0.1f, 0.9f) * c.S}, Vec2{c.S + 5.f, c.uni(0.1f, 0.9f) * c.S}, 7 * c.u, false);
  for (int i = 0; i < 6; ++i) {
    Vec2 p;
    const float hx = c.uni(8, 16) * c.u, hy = c.uni(6, 10) * c.u;
    if (c.place(hx * 1.3f, 3 * c.u, p)) draw_house(c, p, hx, hy, 0, c.rng.pick(roof_colours()));
  }
  for (const auto& t : tanks) {
    draw_tank(c, t.first, t.second, scale(col.colour, c.uni(0.95f, 1.04f)));
    c.entity_centres.push_back(t.first);
  }
  f.count = int(tanks.size());
  f.detail = "some small buildings";
  f.templates = {
      "there {be} {NP} on {G}",
      "{NP} {be} {L} {P}",
      "{n} {s} round {N} {be} {L}",
      "{n} {c} {N} stand on {G} near a road",
      "{NP} with shadows {be} next to {D}",
      "{G} has {n} {c} {N} {L}",
      "{n} {c} circular {N} {be} {P}",
      "an industrial area with {NP} {L}",
  };
}

void scene_pond(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "pond";
  f.nouns = "ponds";
  f.main_class = kPond;
  std::string land;
  Ground g = random_land(c, land);
  c.ground(g);
  f.ground = land;
  const Named col = c.rng.pick(std::vector<Named>{{"dark blue", rgb(28, 48, 72)}, {"green", rgb(56, 88, 62)},
                                                  {"dark", rgb(30, 38, 40)}, {"blue", rgb(55, 95, 135)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const int n = c.rng.randint(1, large ? 2 : 4);
  struct P {
    Vec2 c;
    float r;
    uint32_t s;
  };
  std::vector<P> ponds;
  for (int i = 0; i < n; ++i) {
    const float r = (large ? c.uni(34, 52) : c.uni(14, 24)) * c.u;
    Vec2 p;
    if (!c.place(r * 1.35f + 6 * c.u, 4 * c.u, p)) continue;
    ponds.push_back({p, r, c.seed32()});
    c.reserved.push_back({p, r * 1.35f + 2 * c.u});
  }
  const bool trees = c.rng.chance(0.5) && g.kind != GroundKind::kForest;
  if (trees) {
    for (const P& p : ponds)  // a ring of trees on the bank
      for (int k = 0; k < 40; ++k) {
        const float a = c.uni(0, 2 * kPi);
        const float rr = p.r * c.uni(1.4f, 1.8f) + 6 * c.u;
        const Vec2 q = p.c + Vec2{std::cos(a), std::sin(a)} * rr;
        draw_tree(c, q, c.uni(3, 5) * c.u);
      }
  }
  if (c.rng.chance(0.5)) draw_road(c, Vec2{c.uni(0, 1) * c.S, -5}, Vec2{c.uni(0, 1) * c.S, c.S + 5.f}, 6 * c.u, false);
  for (const P& p : ponds) {
    const float wob = 0.28f;
    // Muddy bank first (no label), then the water.
    c.cv.fill(around(p.c, p.r * 1.4f + 3 * c.u), [&](Vec2 q) { return sd_blob(q, p.c, p.r + 2.5f * c.u, wob, p.s); },
              textured(rgb(120, 110, 85), p.s, c.u), kNoLabel);
    Ground w = make_ground(c, GroundKind::kWater);
    w.base = col.colour;
    c.cv.fill(around(p.c, p.r * 1.4f), [&](Vec2 q) { return sd_blob(q, p.c, p.r, wob, p.s); },
              [&](Vec2 q) { return ground_at(w, q, c.u); }, kPond);
    c.entity_centres.push_back(p.c);
  }
  // Reserved discs were padded for the bank; the blob stays inside r * 1.3.
  f.count = int(ponds.size());
  f.layout = "";
  f.extra = trees ? "green trees" : "";
  f.templates = {
      "{NP} {be} surrounded by {G}",
      "there {be} {NP} {P}",
      "{n} {c} {N} {be} lined with {X}",
      "{G} is around {n} {s} {c} {N}",
      "{NP} {be} {P} of {G}",
      "{n} {s} {N} with {c} water {be} in {G}",
      "{X} surround {n} {c} {N}",
      "the {c} {N} {be} {P} and {G} is around",
  };
}

// A meandering band across the image: centre line v = amp sin(k u + ph) in a
// frame rotated by `ang`; returns the signed distance to the band edge.
struct Band {
  Vec2 o;
  float ang, amp, k, ph, half;
  float sd(Vec2 p) const {
    const Vec2 q = rotate(p - o, -ang);
    const float v = amp * std::sin(k * q.x + ph);
    const float slope = amp * k * std::cos(k * q.x + ph);
    return (std::fabs(q.y - v) - half) / std::sqrt(1 + slope * slope);
  }
  Vec2 at(float t) const {  // point on the centre line
    return o + rotate(Vec2{t, amp * std::sin(k * t + ph)}, ang);
  }
  float dir(float t) const {
    return ang + std::atan(amp * k * std::cos(k * t + ph));
  }
};

Band random_band(Ctx& c, float half) {
  Band b;
  b.o = c.centre() + Vec2{c.uni(-0.15f, 0.15f) * c.S, c.uni(-0.15f, 0.15f) * c.S};
  b.ang = c.rng.pick(std::vector<float>{0.f, kPi / 2, kPi / 4, -kPi / 4}) + c.uni(-0.25f, 0.25f);
  b.amp = c.uni(0, 22) * c.u;
  b.k = c.uni(0.01f, 0.03f) / c.u;
  b.ph = c.uni(0, 2 * kPi);
  b.half = half;
  return b;
}

std::string band_direction(const Band& b) {
  float a = std::fmod(b.ang + 2 * kPi, kPi);  // [0, pi)
  if (a < kPi / 8 || a > 7 * kPi / 8) return "from left to right";
  if (std::fabs(a - kPi / 2) < kPi / 8) return "vertically";
  return "in a diagonal direction";
}

// River: band + labelled water, green banks.
void draw_river(Ctx& c, const Band& b, Rgb water) {
  Ground w = make_ground(c, GroundKind::kWater);
  w.base = water;
  c.cv.fill(full(c), [&](Vec2 p) { return b.sd(p) - 3 * c.u; }, textured(rgb(115, 112, 82), c.seed32(), c.u),
            kNoLabel);  // bank
  c.cv.fill(full(c), [&](Vec2 p) { return b.sd(p); }, [&](Vec2 p) { return ground_at(w, p, c.u); }, kRiver);
}

void scene_river(Ctx& c) {
  SceneFacts& f = c.f;
  std::string land;
  Ground g = random_land(c, land);
  c.ground(g);
  f.ground = land;
  const Named col = c.rng.pick(std::vector<Named>{{"dark", rgb(30, 44, 52)}, {"green", rgb(58, 92, 70)},
                                                  {"blue", rgb(50, 88, 128)}, {"dark green", rgb(36, 66, 58)}});
  const bool wide = c.rng.chance(0.5);
  const Band b = random_band(c, (wide ? c.uni(20, 32) : c.uni(8, 13)) * c.u);
  f.colour = col.word;
  f.size = wide ? "wide" : "narrow";
  f.layout = b.amp > 12 * c.u ? "winding" : "straight";
  f.detail = band_direction(b);
  const bool trees = g.kind != GroundKind::kForest && c.rng.chance(0.6);
  if (c.rng.chance(0.4)) {
    draw_houses(c, 22, 0.5f, [&](Vec2 p) { return b.sd(p) > 25 * c.u && p.x < c.S * 0.5f; }, false);
    f.extra = "some houses";
  }
  if (trees) draw_trees(c, 160, [&](Vec2 p) { return b.sd(p) > 2 * c.u && b.sd(p) < 14 * c.u; });
  draw_river(c, b, col.colour);
  if (wide && c.rng.chance(0.5)) {
    const float len = std::min(c.uni(22, 32) * c.u, (2 * b.half - 4 * c.u) / 0.3f);
    f.extra2 = add_sailing_boats(c, c.rng.randint(1, 3), len, [&](Vec2& p, float& ang) {
      const float t = c.uni(-0.45f, 0.45f) * c.S;
      p = b.at(t);
      ang = b.dir(t) + (c.rng.chance(0.5) ? kPi : 0.f);
      return true;
    });
  }
  f.detail2 = trees ? "green trees" : "";
  f.count = 0;
  f.templates = {
      "a {s} {L} river with {c} water flows {D} through {G}",
      "a {c} river runs {D} across {G}",
      "the {s} {c} river is lined with {D2}",
      "{G} is on both sides of a {L} river",
      "a {L} {c} river passes {D} through the scene",
      "{X} are near a {s} {c} river",
      "the river is {s} and {L} with {G} on both sides",
      "{D2} grow on both banks of the {c} river",
      "a {c} {L} river divides {G} into two parts",
      "{X2} on the {s} {c} river",
      "on the {L} river {X2} through {G}",
  };
}

void scene_beach(Ctx& c) {
  SceneFacts& f = c.f;
  const int side = c.rng.randint(0, 3);
  const char* kSide[] = {"top", "right", "bottom", "left"};
  auto frame = [&](Vec2 p) { return rotate(p - c.centre(), -side * kPi / 2); };  // sea towards -y
  const float shore = c.uni(-0.3f, 0.05f) * c.S, width = c.uni(18, 60) * c.u;
  const float amp = c.uni(3, 14) * c.u, k = c.uni(0.015f, 0.04f) / c.u, ph = c.uni(0, 6.28f);
  auto line = [&](float x) { return shore + amp * std::sin(k * x + ph); };
  const Named sand = c.rng.pick(std::vector<Named>{{"yellow", rgb(220, 196, 140)}, {"white", rgb(236, 228, 210)},
                                                   {"golden", rgb(214, 178, 110)}});
  std::string land;
  Ground g = random_land(c, land, true);
  if (g.kind == GroundKind::kBare) g = make_ground(c, GroundKind::kGrass), land = "green grass";
  c.ground(g);
  f.ground = land;
  Ground sea = make_ground(c, GroundKind::kWater);
  sea.base = c.rng.pick(std::vector<Rgb>{rgb(38, 78, 112), rgb(40, 96, 110), rgb(30, 60, 90)});
  // Inland edge of the beach wobbles on its own.
  const uint32_t es = c.seed32();
  auto beach_sd = [&](Vec2 p) {
    const Vec2 q = frame(p);
    const float s = line(q.x);
    const float back = s + width * (0.8f + 0.4f * value_noise(q.x / (30 * c.u), 0.5f, es));
    return std::max(s - q.y, q.y - back);
  };
  Ground sg = make_ground(c, GroundKind::kSand);
  sg.base = sand.colour;
  c.cv.fill(full(c), beach_sd, [&](Vec2 p) { return ground_at(sg, p, c.u); }, kBeach);
  c.cv.fill(full(c), [&](Vec2 p) { return frame(p).y - line(frame(p).x); },
            [&](Vec2 p) {
              // Shallow water is lighter near the shore.
              const float d = line(frame(p).x) - frame(p).y;
              return lerp(rgb(100, 160, 160), ground_at(sea, p, c.u), std::clamp(d / (25 * c.u), 0.f, 1.f));
            },
            kNoLabel);
  // Surf: foam lines parallel to the shore.
  const bool waves = c.rng.chance(0.6);
  if (waves) {
    const uint32_t s = c.seed32();
    for (float off : {2.f, 7.f, 13.f}) {
      c.cv.glaze(full(c), [&](Vec2 p) { return std::fabs(frame(p).y - line(frame(p).x) + off * c.u) - 1.2f * c.u; },
                 rgb(240, 244, 244), [&](Vec2 p) { return 0.9f * value_noise(p.x / (4 * c.u), p.y / (4 * c.u), s) - off / 30; });
    }
  }
  if (c.rng.chance(0.4)) {
    f.extra2 = add_sailing_boats(c, c.rng.randint(1, 3), c.uni(20, 32) * c.u, [&](Vec2& p, float& ang) {
      p = Vec2{c.uni(0, float(c.S)), c.uni(0, float(c.S))};
      ang = c.uni(0, 2 * kPi);
      return frame(p).y < line(frame(p).x) - 22 * c.u;
    });
  }
  f.colour = sand.word;
  f.size = width > 40 * c.u ? "wide" : "narrow";
  f.place = str_cat("at the ", kSide[side]);
  f.detail = waves ? "white waves" : "";
  f.detail2 = "the blue sea";
  f.count = 0;
  f.templates = {
      "a {s} {c} beach lies between {D2} and {G}",
      "{D} beat against the {c} beach",
      "the sea is {P} and a {s} beach is next to {G}",
      "a {c} beach separates {D2} from {G}",
      "the {s} beach is covered with {c} sand",
      "{D} hit a {s} {c} beach",
      "{G} is behind the {c} beach along the sea",
      "{c} sand and {D2} are {P} of the image",
      "{X2} on the sea near the {c} beach",
      "near a {s} {c} beach {X2} on {D2}",
  };
}

void scene_playground(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "playground";
  f.nouns = "playgrounds";
  f.main_class = kPlayground;
  const Named col = c.rng.pick(std::vector<Named>{{"red", rgb(168, 72, 58)}, {"blue", rgb(60, 100, 160)},
                                                  {"green", rgb(70, 130, 80)}, {"red", rgb(185, 85, 65)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const int n = large ? 1 : c.rng.randint(1, 2);
  std::string land;
  Ground g = random_land(c, land, false);
  c.ground(g);
  f.ground = land;
  struct T {
    Vec2 c;
    float hx, hy, ang;
  };
  std::vector<T> tracks;
  for (int i = 0; i < n; ++i) {
    const float hx = (large ? c.uni(70, 90) : c.uni(40, 52)) * c.u, hy = hx * c.uni(0.5f, 0.6f);
    Vec2 p;
    if (!c.place(hx + 2, 6 * c.u, p)) continue;
    tracks.push_back({p, hx, hy, c.uni(0, kPi)});
    c.reserved.push_back({p, hx + 2});
  }
  draw_houses(c, 26, 0.45f, [](Vec2) { return true; }, true);
  draw_trees(c, 60, [](Vec2) { return true; });
  for (const T& t : tracks) {
    auto outer = [&](Vec2 p) { return sd_box(p, t.c, t.hx, t.hy, t.ang, t.hy); };
    const float lane = 0.22f * t.hy;
    c.cv.fill(around(t.c, t.hx + 2), outer, textured(col.colour, c.seed32(), c.u, 0.06f), kPlayground);
    for (int k = 1; k <= 3; ++k) {  // lane lines
      const float inset = k * lane / 3;
      c.cv.fill(around(t.c, t.hx + 2),
                [&](Vec2 p) { return std::fabs(sd_box(p, t.c, t.hx - inset, t.hy - inset, t.ang, t.hy - inset)) - 0.35f * c.u; },
                [](Vec2) { return rgb(225, 222, 215); }, kPlayground);
    }
    const float ix = t.hx - lane - 1.5f * c.u, iy = t.hy - lane - 1.5f * c.u;
    c.cv.fill(around(t.c, t.hx), [&](Vec2 p) { return sd_box(p, t.c, ix, iy, t.ang, iy); },
              [&](Vec2 p) {
                const Vec2 q = rotate(p - t.c, -t.ang);
                const bool stripe = int(std::floor((q.x + 200) / (8 * c.u))) % 2 == 0;  // mowing stripes
                return scale(rgb(80, 138, 70), stripe ? 1.05f : 0.93f);
              },
              kPlayground);
    // Pitch lines: halfway line, centre circle, touch lines.
    const float px = ix - iy * 0.55f, py = iy * 0.75f;
    c.cv.fill(around(t.c, t.hx),
              [&](Vec2 p) {
                const Vec2 q = rotate(p - t.c, -t.ang);
                float d = std::fabs(sd_box(q, {0, 0}, px, py, 0)) - 0.45f * c.u;
                d = std::min(d, std::max(std::fabs(q.x) - 0.45f * c.u, std::fabs(q.y) - py));
                d = std::min(d, std::fabs(length(q) - 0.3f * py) - 0.45f * c.u);
                return d;
              },
              [](Vec2) { return rgb(230, 232, 225); }, kPlayground);
    c.entity_centres.push_back(t.c);
  }
  f.count = int(tracks.size());
  f.layout = f.count > 1 ? "side by side" : "";
  f.detail = "a green football field";
  f.detail2 = "some buildings";
  f.templates = {
      "{NP} with {c} running tracks {be} {P}",
      "{NP} {be} surrounded by {D2} and trees",
      "there {be} {NP} with {D} in the middle",
      "{D} is inside the {c} track of the {s} {N}",
      "{n} {c} {N} {be} {L} near {D2}",
      "{n} {s} {N} {be} {P} next to {D2}",
      "the {c} track of {n} {N} surrounds {D}",
      "{D2} and green trees are around {NP}",
  };
}

void scene_resort(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "swimming pool";
  f.nouns = "swimming pools";
  f.main_class = kSwimmingPool;
  const Named col = c.rng.pick(std::vector<Named>{{"blue", rgb(50, 130, 215)}, {"light blue", rgb(110, 190, 225)},
                                                  {"green", rgb(70, 170, 150)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.4);
  f.size = large ? "large" : "small";
  const bool round = c.rng.chance(0.4);
  Ground g = make_ground(c, GroundKind::kGrass);
  c.ground(g);
  f.ground = "green lawn";
  const int n = c.rng.randint(1, large ? 3 : 6);
  struct Pl {
    Vec2 c;
    float hx, hy, ang;
  };
  std::vector<Pl> pools;
  const float ang = c.uni(-0.4f, 0.4f);
  for (int i = 0; i < n; ++i) {
    const float hx = (large ? c.uni(22, 34) : c.uni(11, 16)) * c.u, hy = hx * c.uni(0.45f, 0.7f);
    Vec2 p;
    if (!c.place(hx + 5 * c.u, 5 * c.u, p)) continue;
    pools.push_back({p, hx, hy, ang});
    c.reserved.push_back({p, hx + 5 * c.u});
  }
  draw_houses(c, 34, 0.6f, [](Vec2) { return true; }, true);
  draw_trees(c, 90, [](Vec2) { return true; });
  for (const Pl& p : pools) {
    auto shape = [&](Vec2 q, float grow) {
      return round ? sd_ellipse(q, p.c, p.hx + grow, p.hy + grow, p.ang)
                   : sd_box(q, p.c, p.hx + grow, p.hy + grow, p.ang, 1.5f * c.u);
    };
    c.cv.fill(around(p.c, p.hx + 6 * c.u), [&](Vec2 q) { return shape(q, 3 * c.u); },
              textured(rgb(215, 208, 195), c.seed32(), c.u), kNoLabel);  // deck
    const uint32_t s = c.seed32();
    c.cv.fill(around(p.c, p.hx + 2), [&](Vec2 q) { return shape(q, 0); },
              [&](Vec2 q) {
                const float rip = value_noise(q.x / (3 * c.u), q.y / (3 * c.u), s);
                return scale(col.colour, 0.9f + 0.2f * rip);
              },
              kSwimmingPool);
    c.entity_centres.push_back(p.c);
  }
  f.count = int(pools.size());
  f.layout = round ? "round" : "rectangular";
  f.detail = "some houses";
  f.detail2 = "green trees";
  f.templates = {
      "{NP} {be} near {D} and {D2}",
      "there {be} {n} {L} {c} {N} {P}",
      "{n} {s} {L} {N} {be} surrounded by {G}",
      "{D} with {n} {c} {N} are among {D2}",
      "{NP} {be} {P} of a resort",
      "a resort has {n} {s} {c} {N} and {D}",
      "{n} {L} {N} {be} beside {D}",
      "{D2} and {D} surround {NP}",
  };
}

void draw_court(Ctx& c, Vec2 p0, float hx, float hy, float ang, bool tennis, Rgb col, Rgb surround) {
  // Surround (run-off area) and the playing surface are both Court.
  c.cv.fill(around(p0, hx * 1.3f + 2), [&](Vec2 p) { return sd_box(p, p0, hx, hy, ang); },
            textured(surround, c.seed32(), c.u, 0.04f), kCourt);
  const float ix = hx * 0.8f, iy = hy * 0.72f;
  c.cv.fill(around(p0, hx * 1.3f + 2), [&](Vec2 p) { return sd_box(p, p0, ix, iy, ang); },
            textured(col, c.seed32(), c.u, 0.04f), kCourt);
  const float w = 0.35f * c.u;
  c.cv.fill(around(p0, hx * 1.3f + 2),
            [&](Vec2 p) {
              const Vec2 q = rotate(p - p0, -ang);
              float d = std::fabs(sd_box(q, {0, 0}, ix, iy, 0)) - w;
              if (tennis) {
                d = std::min(d, std::max(std::fabs(q.x) - ix, std::fabs(std::fabs(q.y) - iy * 0.75f) - w));  // singles
                d = std::min(d, std::max(std::fabs(q.x) - ix * 0.55f, std::fabs(q.y) - w));                  // centre service
                d = std::min(d, std::max(std::fabs(std::fabs(q.x) - ix * 0.55f) - w, std::fabs(q.y) - iy * 0.75f));
                d = std::min(d, std::max(std::fabs(q.x) - 1.2f * w, std::fabs(q.y) - iy - 1.5f * c.u));  // net
              } else {
                d = std::min(d, std::max(std::fabs(q.x) - w, std::fabs(q.y) - iy));             // half line
                d = std::min(d, std::fabs(length(q) - iy * 0.3f) - w);                            // centre circle
                for (float s : {-1.f, 1.f}) {
                  const Vec2 k{q.x - s * ix, q.y};
                  d = std::min(d, std::fabs(length(k) - iy * 0.8f) - w);                          // three-point arc
                  d = std::min(d, std::fabs(sd_box(k, {0, 0}, ix * 0.32f, iy * 0.28f, 0)) - w);  // key
                }
              }
              // Lines never leave the court (the net posts stop at its edge).
              return std::max(d, sd_box(q, {0, 0}, hx, hy, 0));
            },
            [](Vec2) { return rgb(236, 236, 232); }, kCourt);
}

void scene_school(Ctx& c) {
  SceneFacts& f = c.f;
  const bool tennis = c.rng.chance(0.6);
  f.noun = tennis ? "tennis court" : "basketball court";
  f.nouns = tennis ? "tennis courts" : "basketball courts";
  f.main_class = kCourt;
  const Named col = tennis ? c.rng.pick(std::vector<Named>{{"green", rgb(70, 135, 85)}, {"blue", rgb(55, 95, 150)},
                                                            {"red", rgb(165, 75, 60)}})
                           : c.rng.pick(std::vector<Named>{{"orange", rgb(200, 120, 60)}, {"blue", rgb(55, 95, 150)},
                                                            {"red", rgb(165, 75, 60)}});
  const Rgb surround = c.rng.pick(std::vector<Rgb>{rgb(70, 120, 80), rgb(150, 80, 65), rgb(90, 110, 140)});
  f.colour = col.word;
  const int n = c.rng.randint(1, 6);
  const float hx = (tennis ? c.uni(16, 20) : c.uni(17, 21)) * c.u, hy = hx * (tennis ? 0.55f : 0.6f);
  const bool grid = n >= 4 && c.rng.chance(0.5);
  f.layout = n == 1 ? "" : grid ? "in two rows" : c.rng.pick(std::vector<std::string>{"in a row", "side by side"});
  const bool concrete = c.rng.chance(0.5);
  Ground g = make_ground(c, concrete ? GroundKind::kConcrete : GroundKind::kGrass);
  f.ground = concrete ? "a gray square" : "green grass";
  c.ground(g);
  const float ang = c.uni(-0.5f, 0.5f) + (c.rng.chance(0.5) ? kPi / 2 : 0);
  const int cols = grid ? (n + 1) / 2 : n;
  const int rows = grid ? 2 : 1;
  // Courts side by side along their short axis, gap of a few pixels.
  const float gap = std::max(2.f, c.uni(3, 6) * c.u);
  const Vec2 ex = rotate(Vec2{0, 2 * hy + gap}, ang), ey = rotate(Vec2{2 * hx + gap, 0}, ang);
  std::vector<Vec2> courts;
  for (int t = 0; t < 50 && courts.empty(); ++t) {
    const Vec2 o{c.uni(0.2f, 0.8f) * c.S, c.uni(0.2f, 0.8f) * c.S};
    std::vector<Vec2> cand;
    for (int i = 0; i < n; ++i) {
      const int cx = i % cols, cy = i / cols;
      cand.push_back(o + ex * (cx - (cols - 1) * 0.5f) + ey * (cy - (rows - 1) * 0.5f));
    }
    bool ok = true;
    for (const Vec2& p : cand) ok = ok && c.inside(p, hx * 1.2f);
    if (ok) courts = cand;
  }
  const float r = std::sqrt(hx * hx + hy * hy);
  for (const Vec2& p : courts) c.reserved.push_back({p, r});
  draw_houses(c, 34, 0.5f, [](Vec2) { return true; }, true);
  draw_trees(c, 50, [](Vec2) { return true; });
  // Adjacent courts would merge into one region; the gap keeps them apart.
  for (const Vec2& p : courts) {
    draw_court(c, p, hx, hy, ang, tennis, col.colour, surround);
    c.entity_centres.push_back(p);
  }
  f.count = int(courts.size());
  f.detail = "a school";
  f.detail2 = "some buildings";
  f.templates = {
      "{NP} {be} {L} {P}",
      "there {be} {NP} next to {D2}",
      "{n} {c} {N} {be} {L} on {G}",
      "{NP} with white lines {be} near {D2}",
      "{D} has {n} {c} {N}",
      "{n} {N} {be} {P} surrounded by {D2} and trees",
      "{G} is around {n} {c} {N}",
      "{D2} stand beside {n} {c} {N} {L}",
  };
}

void scene_baseball(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "baseball field";
  f.nouns = "baseball fields";
  f.main_class = kBaseballField;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const int n = large ? c.rng.randint(1, 2) : c.rng.randint(1, 4);
  const Named dirt = c.rng.pick(std::vector<Named>{{"brown", rgb(165, 120, 80)}, {"red", rgb(175, 100, 70)},
                                                   {"yellow", rgb(200, 170, 110)}});
  f.colour = dirt.word;
  std::string land;
  Ground g = random_land(c, land, false);
  c.ground(g);
  f.ground = land;
  struct F {
    Vec2 c;
    float r, dir;
  };
  std::vector<F> fields;
  for (int i = 0, tries = 0; i < n && tries < 40 * n; ++tries) {
    const float shrink = tries < 20 ? 1.f : 0.7f;  // a smaller fan when a large one keeps failing
    const float r = (large ? c.uni(70, 95) : c.uni(38, 52)) * c.u * shrink;
    Vec2 p;
    // The apex (home plate) sits at c; the fan opens towards dir.
    const float dir = c.uni(0, 2 * kPi);
    if (!c.place(r * 0.55f, 4 * c.u, p)) continue;
    const Vec2 apex = p - Vec2{std::cos(dir), std::sin(dir)} * (r * 0.5f);
    // Keep the whole fan inside the image so it stays one region.
    bool ok = true;
    for (float a = -kPi / 4; a <= kPi / 4 + 1e-3f; a += kPi / 16) {
      const Vec2 e = apex + Vec2{std::cos(dir + a), std::sin(dir + a)} * r;
      ok = ok && c.inside(e, 2);
    }
    if (!ok || !c.inside(apex, 2)) continue;
    fields.push_back({apex, r, dir});
    c.reserved.push_back({p, r * 0.55f});
    ++i;
  }
  draw_houses(c, 30, 0.35f, [](Vec2) { return true; }, true);
  draw_trees(c, 50, [](Vec2) { return true; });
  for (const F& fl : fields) {
    const Vec2 a = fl.c;
    auto fan = [&](Vec2 p) { return sd_sector(p, a, fl.r, fl.dir, kPi / 4); };
    const float base = fl.r * 0.36f;  // base path length
    c.cv.fill(around(a, fl.r + 2), fan,
              [&](Vec2 p) {
                const Vec2 q = rotate(p - a, -fl.dir);
                const bool stripe = int(std::floor((q.x + 300) / (6 * c.u))) % 2 == 0;
                return scale(rgb(88, 140, 70), stripe ? 1.04f : 0.94f);
              },
              kBaseballField);
    // Infield dirt: arc of radius 0.62 base + the diamond, grass inside it.
    c.cv.fill(around(a, fl.r + 2), [&](Vec2 p) { return sd_sector(p, a, base * 1.55f, fl.dir, kPi / 4); },
              textured(dirt.colour, c.seed32(), c.u), kBaseballField);
    const Vec2 sq = a + Vec2{std::cos(fl.dir), std::sin(fl.dir)} * (base * 0.707f);
    c.cv.fill(around(a, fl.r + 2), [&](Vec2 p) { return sd_box(p, sq, base * 0.42f, base * 0.42f, fl.dir + kPi / 4); },
              textured(rgb(92, 146, 72), c.seed32(), c.u), kBaseballField);
    c.cv.fill(around(sq, base * 0.3f), [&](Vec2 p) { return sd_circle(p, sq, base * 0.1f); },
              textured(dirt.colour, c.seed32(), c.u), kBaseballField);  // pitcher's mound
    c.entity_centres.push_back(a + Vec2{std::cos(fl.dir), std::sin(fl.dir)} * (fl.r * 0.5f));
  }
  f.count = int(fields.size());
  f.layout = f.count > 1 ? "side by side" : "";
  f.detail = c.rng.pick(std::vector<std::string>{"green grass", "a green lawn"});
  f.templates = {
      "{NP} with {c} sand {be} {P}",
      "there {be} {n} {s} {N} surrounded by {G}",
      "{n} {N} {be} {L} next to some houses",
      "{NP} {be} on {G}",
      "the {N} with {c} sand {be} {P} of the image",
      "{n} {s} fan shaped {N} {be} near a road",
      "{G} and trees are around {NP}",
      "{D} and {c} sand cover {NP}",
  };
}

void scene_center(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "center";
  f.nouns = "centers";
  f.main_class = kCenter;
  const Named col = c.rng.pick(std::vector<Named>{{"white", rgb(230, 230, 226)}, {"gray", rgb(140, 142, 146)},
                                                  {"blue", rgb(80, 115, 160)}, {"brown", rgb(140, 105, 80)}});
  f.colour = col.word;
  const int shape = c.rng.randint(0, 3);  // circular, square, oval, triangular
  const char* kShapes[] = {"circular", "square", "oval", "triangular"};
  f.layout = kShapes[shape];
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const float r = (large ? c.uni(55, 72) : c.uni(32, 42)) * c.u;
  // Parking lots (dark asphalt, rows of cars) or a lawn around the building.
  const bool parking = c.rng.chance(0.6);
  Ground g = make_ground(c, parking ? GroundKind::kConcrete : GroundKind::kGrass);
  if (parking) g.base = rgb(96, 96, 100);
  c.ground(g);
  const Vec2 p0 = c.centre() + Vec2{c.uni(-1, 1), c.uni(-1, 1)} * (c.S * 0.5f - r - 6 * c.u);
  const float ang = c.uni(0, kPi);
  // Rounded triangle: a smaller one grown by 0.15 r.
  const Vec2 tri[3] = {p0 + rotate(Vec2{0.8f * r, 0}, ang), p0 + rotate(Vec2{0.8f * r, 0}, ang + 2.094f),
                       p0 + rotate(Vec2{0.8f * r, 0}, ang + 4.189f)};
  auto sd = [&](Vec2 p, float grow) {
    switch (shape) {
      case 0: return sd_circle(p, p0, r + grow);
      case 1: return sd_box(p, p0, r * 0.78f + grow, r * 0.78f + grow, ang, 4 * c.u);
      case 2: return sd_ellipse(p, p0, r + grow, r * 0.65f + grow, ang);
      default: return sd_polygon(p, tri, 3) - 0.15f * r - grow;
    }
  };
  c.reserved.push_back({p0, r + 2});
  if (parking) {
    for (int i = 0; i < 260; ++i) {
      const Vec2 p{std::floor(c.uni(0, c.S / (6.f * c.u))) * 6 * c.u + 3 * c.u,
                   std::floor(c.uni(0, c.S / (12.f * c.u))) * 12 * c.u + 4 * c.u};
      if (!c.is_free(p, 4 * c.u, 4 * c.u)) continue;
      const Rgb car = c.rng.pick(std::vector<Rgb>{rgb(200, 200, 200), rgb(40, 40, 45), rgb(160, 40, 40),
                                                  rgb(60, 80, 140), rgb(220, 220, 220)});
      c.cv.fill(around(p, 5 * c.u), [&](Vec2 q) { return sd_box(q, p, 1.4f * c.u, 2.6f * c.u, 0, 0.8f * c.u); },
                [&](Vec2) { return car; }, kNoLabel);
    }
  }
  if (!parking) draw_road(c, Vec2{-5, c.uni(0, 1) * c.S}, Vec2{c.S + 5.f, c.uni(0, 1) * c.S}, 8 * c.u, true);
  draw_trees(c, parking ? 40 : 110, [](Vec2) { return true; });
  const Vec2 sh = Vec2{1, 1} * (4 * c.u);
  c.cv.shade(around(p0 + sh, r * 1.1f + 2), [&](Vec2 p) { return sd(p - sh, 0); }, 0.5f);
  c.cv.fill(around(p0, r * 1.1f + 2), [&](Vec2 p) { return sd(p, 0); },
            [&](Vec2 p) {
              // Roof: concentric steps and radial ribs.
              const float d = -sd(p, 0) / r;
              const float step = (int(d * 5) % 2 == 0) ? 1.f : 0.9f;
              const Vec2 q = p - p0;
              const float rib = std::fabs(std::sin(std::atan2(q.y, q.x) * 8)) < 0.08f ? 0.85f : 1.f;
              return scale(col.colour, step * rib);
            },
            kCenter);
  c.entity_centres.push_back(p0);
  f.count = 1;
  f.ground = parking ? "parking lots" : "a green lawn";
  f.detail = "green trees";
  f.templates = {
      "a {s} {c} {L} center is surrounded by {G}",
      "the {L} {c} building of the center is {P}",
      "there is a {s} {L} center with a {c} roof",
      "a {c} {L} conference center stands on {G}",
      "a {c} center with a {L} roof stands {P}",
      "the {s} center is {L} and {c} with {D} around",
      "{D} and {G} surround the {c} center",
      "a {L} {c} center is next to {G} {P}",
  };
}

void scene_church(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "church";
  f.nouns = "churches";
  f.main_class = kChurch;
  const Named col = c.rng.pick(std::vector<Named>{{"red", rgb(160, 70, 55)}, {"brown", rgb(125, 90, 65)},
                                                  {"gray", rgb(120, 122, 126)}, {"white", rgb(225, 222, 215)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const float len = (large ? c.uni(80, 110) : c.uni(48, 62)) * c.u, w = len * c.uni(0.2f, 0.26f);
  const float ang = c.uni(0, 2 * kPi);
  Vec2 p0;
  if (!c.place(len * 0.55f + 4 * c.u, 0, p0, 0.25f, 0.75f)) p0 = c.centre();
  // Nave along the local x axis, transept crossing at 0.2 len towards the apse.
  const Vec2 tc = p0 + rotate(Vec2{0.2f * len, 0}, ang);
  const Vec2 tower = p0 + rotate(Vec2{-0.5f * len, 0}, ang);
  auto sd = [&](Vec2 p) {
    float d = sd_box(p, p0, len * 0.5f, w * 0.5f, ang);
    d = std::min(d, sd_box(p, tc, w * 0.5f, len * 0.3f, ang));
    d = std::min(d, sd_box(p, tower, w * 0.38f, w * 0.38f, ang));
    d = std::min(d, sd_circle(p, p0 + rotate(Vec2{0.5f * len, 0}, ang), w * 0.5f));  // apse
    return d;
  };
  c.reserved.push_back({p0, len * 0.55f + 2});
  const bool plaza = c.rng.chance(0.5);
  std::string land;
  Ground g = plaza ? make_ground(c, GroundKind::kConcrete) : random_land(c, land, false);
  c.ground(g);
  f.ground = plaza ? "a gray square" : land;
  const bool houses = c.rng.chance(0.7);
  if (houses) draw_houses(c, 24, 0.7f, [](Vec2) { return true; }, true);
  draw_trees(c, 40, [](Vec2) { return true; });
  const Vec2 sh = Vec2{1, 1} * (3 * c.u);
  c.cv.shade(around(p0 + sh, len * 0.6f), [&](Vec2 p) { return sd(p - sh); }, 0.5f);
  c.cv.fill(around(p0, len * 0.6f), sd,
            [&](Vec2 p) {
              // Gabled arms: the nave's ridge along x, the transept's along y.
              const Vec2 q = rotate(p - p0, -ang);
              const Vec2 t = rotate(p - tc, -ang);
              const bool in_transept = std::fabs(t.x) < w * 0.5f && std::fabs(q.y) > w * 0.5f;
              const bool lit = in_transept ? t.x < 0 : q.y < 0;
              const bool tw = length(p - tower) < w * 0.55f;
              return scale(col.colour, tw ? 0.7f : lit ? 1.1f : 0.82f);
            },
            kChurch);
  c.entity_centres.push_back(p0);
  f.count = 1;
  f.layout = "cross shaped";
  f.detail = houses ? "many houses" : "";
  f.detail2 = "green trees";
  f.templates = {
      "a {s} church with a {c} roof is {P}",
      "the {c} church is surrounded by {D}",
      "a cross shaped {c} church stands among {D}",
      "there is a {s} {c} church near {D2}",
      "{D2} and {G} are around a {c} church",
      "the church has a {c} roof shaped like a cross",
      "a {c} church is located {P} next to {G}",
      "the {s} church with a {c} roof is near {D2} and {D}",
  };
}

void scene_stadium(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "stadium";
  f.nouns = "stadiums";
  f.main_class = kStadium;
  const Named col = c.rng.pick(std::vector<Named>{{"white", rgb(228, 228, 224)}, {"red", rgb(170, 65, 60)},
                                                  {"blue", rgb(65, 95, 155)}, {"gray", rgb(140, 140, 144)}});
  f.colour = col.word;
  const bool large = c.rng.chance(0.5);
  f.size = large ? "large" : "small";
  const float a = (large ? c.uni(92, 110) : c.uni(60, 74)) * c.u, b = a * c.uni(0.72f, 0.85f);
  const float ang = c.uni(0, kPi);
  Vec2 p0 = c.centre() + Vec2{c.uni(-1, 1), c.uni(-1, 1)} * std::max(0.f, c.S * 0.5f - a - 4 * c.u);
  c.reserved.push_back({p0, a + 2});
  const bool parking = c.rng.chance(0.5);
  std::string land;
  Ground g = parking ? make_ground(c, GroundKind::kConcrete) : random_land(c, land, false);
  c.ground(g);
  f.ground = parking ? "parking lots" : land;
  draw_houses(c, 30, 0.4f, [](Vec2) { return true; }, true);
  draw_trees(c, 40, [](Vec2) { return true; });
  const float ring = a * c.uni(0.2f, 0.28f);
  const Vec2 sh = Vec2{1, 1} * (4 * c.u);
  c.cv.shade(around(p0 + sh, a + 2), [&](Vec2 p) { return sd_ellipse(p - sh, p0, a, b, ang); }, 0.5f);
  // Stands: radial stripes of seats.
  c.cv.fill(around(p0, a + 2), [&](Vec2 p) { return sd_ellipse(p, p0, a, b, ang); },
            [&](Vec2 p) {
              const Vec2 q = rotate(p - p0, -ang);
              const float t = std::atan2(q.y / b, q.x / a);
              return scale(col.colour, std::sin(t * 36) > 0 ? 1.05f : 0.85f);
            },
            kStadium);
  const bool track = c.rng.chance(0.6);
  const Rgb track_col = rgb(165, 75, 60);
  if (track)
    c.cv.fill(around(p0, a), [&](Vec2 p) { return sd_ellipse(p, p0, a - ring, b - ring, ang); },
              textured(track_col, c.seed32(), c.u), kStadium);
  const float in = track ? ring + 0.1f * b : ring;
  c.cv.fill(around(p0, a), [&](Vec2 p) { return sd_box(p, p0, (a - in) * 0.82f, (b - in) * 0.72f, ang, 2 * c.u); },
            [&](Vec2 p) {
              const Vec2 q = rotate(p - p0, -ang);
              const bool stripe = int(std::floor((q.x + 300) / (7 * c.u))) % 2 == 0;
              const bool line = std::fabs(q.x) < 0.5f * c.u || std::fabs(length(q) - 0.15f * b) < 0.5f * c.u;
              return line ? rgb(230, 230, 225) : scale(rgb(78, 140, 70), stripe ? 1.05f : 0.93f);
            },
            kStadium);
  c.entity_centres.push_back(p0);
  f.count = 1;
  f.layout = track ? "a red running track" : "";
  f.detail = "a green football field";
  f.detail2 = c.rng.pick(std::vector<std::string>{"stands", "seats"});
  f.templates = {
      "a {s} stadium with {c} {D2} surrounds {D}",
      "there is {D} in the middle of the {c} stadium",
      "the {s} oval stadium is surrounded by {G}",
      "a {c} stadium with {L} is {P}",
      "{D} and {L} are inside a {s} stadium",
      "a {c} stadium is located next to {G}",
      "the {c} {D2} of the stadium ring {D}",
      "a {s} {c} stadium stands {P} near {G}",
  };
}

void scene_bridge(Ctx& c) {
  SceneFacts& f = c.f;
  f.noun = "bridge";
  f.nouns = "bridges";
  f.main_class = kBridge;
  std::string land;
  Ground g = random_land(c, land);
  c.ground(g);
  f.ground = land;
  const Named water = c.rng.pick(std::vector<Named>{{"dark", rgb(30, 44, 52)}, {"green", rgb(58, 92, 70)},
                                                    {"blue", rgb(50, 88, 128)}});
  const Named col = c.rng.pick(std::vector<Named>{{"gray", rgb(150, 150, 152)}, {"white", rgb(226, 226, 222)},
                                                  {"red", rgb(165, 70, 58)}});
  f.colour = col.word;
  Band b = random_band(c, c.uni(16, 30) * c.u);
  b.amp = std::min(b.amp, 10 * c.u);
  const int n = c.rng.randint(1, 3);
  const bool long_bridge = b.half > 23 * c.u;
  f.size = long_bridge ? "long" : "short";
  // Bridges cross at distinct stations along the river, perpendicular to it.
  std::vector<std::pair<Vec2, float>> bridges;
  for (int t = 0; t < 60 && int(bridges.size()) < n; ++t) {
    const float s = c.uni(-0.4f, 0.4f) * c.S;
    const Vec2 p = b.at(s);
    const float dir = b.dir(s) + kPi / 2;
    const float half_len = b.half + 14 * c.u;
    if (!c.inside(p, half_len + 2)) continue;
    if (!c.is_free(p, 10 * c.u, 32 * c.u)) continue;
    bridges.push_back({p, dir});
    c.reserved.push_back({p, 10 * c.u});
  }
  if (c.rng.chance(0.4)) draw_houses(c, 24, 0.5f, [&](Vec2 p) { return b.sd(p) > 20 * c.u; }, false);
  draw_trees(c, 90, [&](Vec2 p) { return b.sd(p) > 2 * c.u && b.sd(p) < 12 * c.u; });
  draw_river(c, b, water.colour);
  const float bw = c.uni(4.5f, 7.f) * c.u;
  for (const auto& br : bridges) {
    const Vec2 d = rotate(Vec2{1, 0}, br.second);
    const float half_len = b.half + 12 * c.u;
    // Roads continue on both banks (no label); the deck over the water and
    // its ramps are Bridge.
    draw_road(c, br.first - d * float(c.S), br.first - d * half_len, bw * 1.6f, false);
    draw_road(c, br.first + d * half_len, br.first + d * float(c.S), bw * 1.6f, false);
    const Vec2 sh = Vec2{1, 1} * (3 * c.u);
    c.cv.shade(around(br.first + sh, half_len + 2),
               [&](Vec2 p) { return sd_box(p, br.first + sh, half_len, bw, br.second); }, 0.45f);
    c.cv.fill(around(br.first, half_len + 2), [&](Vec2 p) { return sd_box(p, br.first, half_len, bw, br.second); },
              [&](Vec2 p) {
                const Vec2 q = rotate(p - br.first, -br.second);
                return scale(col.colour, std::fabs(q.y) > bw - 1.2f * c.u ? 0.8f : 1.f);  // parapets
              },
              kBridge);
    c.entity_centres.push_back(br.first);
  }
  f.count = int(bridges.size());
  f.layout = f.count > 1 ? "parallel" : "";
  f.detail = str_cat("the ", water.word, " river");
  f.detail2 = "green trees";
  f.templates = {
      "{NP} {be} across {D}",
      "{NP} {be} crossing {D} between {G}",
      "{n} {c} {N} {be} over {D} lined with {D2}",
      "{n} {L} {N} connect both banks of {D}",
      "{D} flows under {NP}",
      "there {be} {n} {s} {N} over {D} {P}",
      "{G} is on both sides of {D} with {n} {c} {N}",
      "{NP} span {D} with {D2} on the banks",
  };
}

void scene_farmland(Ctx& c) {
  SceneFacts& f = c.f;
  Ground g = make_ground(c, GroundKind::kFarmland);
  c.ground(g);
  const bool road = c.rng.chance(0.6);
  if (road) draw_road(c, Vec2{-5, c.uni(0, 1) * c.S}, Vec2{c.S + 5.f, c.uni(0, 1) * c.S}, 6 * c.u, false);
  const bool houses = c.rng.chance(0.4);
  if (houses) draw_houses(c, 22, 0.8f, [&](Vec2 p) { return p.x < c.S * 0.3f && p.y < c.S * 0.4f; }, false);
  f.ground = "farmland";
    f.detail = road ? "a gray road" : "";
  f.detail2 = houses ? "some houses" : "";
  f.templates = {
      "many pieces of green and yellow farmland are arranged neatly",
      "{D} passes through the {G}",
      "the {G} is divided into long strips",
      "{D2} are in the corner of the {G}",
      "green and brown fields are next to each other",
      "strips of {G} with {D}",
      "there are many fields of different colors",
      "the {G} is green yellow and brown",
  };
}

void scene_forest(Ctx& c) {
  SceneFacts& f = c.f;
  Ground g = make_ground(c, GroundKind::kForest);
  c.ground(g);
  const bool road = c.rng.chance(0.5);
  if (road) {
    const Vec2 a{c.uni(0, 1) * c.S, -5}, b{c.uni(0, 1) * c.S, c.S + 5.f};
    c.cv.fill(full(c), [&](Vec2 p) { return sd_segment(p, a, b, 2.5f * c.u); },
              textured(rgb(150, 125, 95), c.seed32(), c.u), kNoLabel);
  }
  const bool clearing = c.rng.chance(0.5);
  if (clearing) {
    Ground gr = make_ground(c, GroundKind::kGrass);
    const Vec2 p{c.uni(0.2f, 0.8f) * c.S, c.uni(0.2f, 0.8f) * c.S};
    const uint32_t s = c.seed32();
    c.ground_region(gr, full(c), [&](Vec2 q) { return sd_blob(q, p, 40 * c.u, 0.4f, s); });
  }
  f.ground = "dense forest";
  f.detail = road ? "a path" : "";
  f.detail2 = clearing ? "a green meadow" : "";
  f.templates = {
      "many green trees grow densely in the forest",
      "{D} passes through the {G}",
      "{D2} lies in the middle of the {G}",
      "the {G} is dark green",
      "lush trees cover the whole area",
      "a {G} with {D}",
      "there is {D2} in the forest",
      "the trees of the {G} are dense and green",
  };
}

void scene_residential(Ctx& c) {
  SceneFacts& f = c.f;
  Ground g = make_ground(c, GroundKind::kGrass);
  c.ground(g);
  const bool dense = c.rng.chance(0.5);
  draw_houses(c, dense ? 20 : 28, dense ? 0.9f : 0.55f, [](Vec2) { return true; }, true);
  draw_trees(c, dense ? 40 : 120, [](Vec2) { return true; });
  f.ground = dense ? "dense houses" : "sparse houses";
  f.detail = "gray roads";
  f.detail2 = "green trees";
  f.templates = {
      "many {G} are arranged neatly along {D}",
      "{G} with red and gray roofs are next to {D}",
      "{D} pass between {G}",
      "a residential area with {G} and {D2}",
      "{D2} are planted among the houses",
      "the houses have red and gray roofs",
      "there are many buildings in this residential area",
      "{G} and {D2} are on both sides of {D}",
  };
}

struct SceneType {
  const char* name;
  void (*draw)(Ctx&);
};

const std::vector<SceneType>& scene_table() {
  static const std::vector<SceneType> k = {
      {"airport", scene_airport},       {"port", scene_port},
      {"storagetanks", scene_storagetanks}, {"pond", scene_pond},
      {"river", scene_river},           {"beach", scene_beach},
      {"playground", scene_playground}, {"resort", scene_resort},
      {"school", scene_school},         {"baseballfield", scene_baseball},
      {"center", scene_center},         {"church", scene_church},
      {"stadium", scene_stadium},       {"bridge", scene_bridge},
      {"farmland", scene_farmland},     {"forest", scene_forest},
      {"denseresidential", scene_residential}};
  return k;
}

void write_lines(const std::string& path, const std::vector<std::string>& lines) {
  std::ofstream out(path, std::ios::binary);
  if (!out) throw IOError(str_cat("write_synthetic_dataset: cannot create ", path));
  for (const auto& l : lines) out << l << '\n';
  if (!out) throw IOError(str_cat("write_synthetic_dataset: cannot write ", path));
}

}  // namespace

const std::vector<std::string>& synthetic_scene_types() {
  static const std::vector<std::string> k = [] {
    std::vector<std::string> v;
    for (const auto& s : scene_table()) v.push_back(s.name);
    return v;
  }();
  return k;
}

void check_synth_options(const SynthOptions& opt) {
  SIRS_CHECK(opt.images > 0, ValueError, "synth: the number of images must be positive, got ", opt.images);
  SIRS_CHECK(opt.size >= 64 && opt.size <= 4096, ValueError,
             "synth: the image size must be in [64, 4096] pixels, got ", opt.size);
  SIRS_CHECK(opt.test_fraction >= 0 && opt.test_fraction < 1, ValueError,
             "synth: test_fraction must be in [0, 1), got ", opt.test_fraction);
}

bool synthetic_is_test(int64_t index, const SynthOptions& opt) {
  const double f = opt.test_fraction;
  return std::floor(double(index + 1) * f) > std::floor(double(index) * f);
}

SynthScene generate_synthetic_scene(int64_t index, const SynthOptions& opt) {
  check_synth_options(opt);
  SIRS_CHECK(index >= 0, IndexError, "synth: scene index must be >= 0, got ", index);
  const auto& table = scene_table();
  const SceneType& type = table[size_t(index % int64_t(table.size()))];
  Ctx c(opt.size, mix_seed(opt.seed, uint64_t(index), 0x5CE4E));
  c.f.scene = type.name;
  type.draw(c);
  if (c.f.place.empty()) c.f.place = place_phrase(c);
  if (c.f.count == 1) {
    // A row or an arrangement needs two or more.
    static const char* const kGroupLayouts[] = {"in a row", "side by side", "neatly arranged", "scattered",
                                                "moored in a row", "docked side by side", "in two rows",
                                                "parallel"};
    for (const char* l : kGroupLayouts)
      if (c.f.layout == l) {
        const bool docked = c.f.layout.find("moored") != std::string::npos ||
                            c.f.layout.find("docked") != std::string::npos;
        c.f.layout = c.f.main_class != kBoat ? "" : docked ? "moored" : "sailing";
      }
  }
  if (c.f.count == 0 && c.f.main_class != kBackground) {
    // No entity fitted (rare, tiny images): say so rather than a wrong count.
    c.f.main_class = kBackground;
  }
  SynthScene s;
  s.scene = type.name;
  s.name = str_cat(type.name, "_", index + 1, ".tif");
  s.image = Image(opt.size, opt.size, 3);
  s.image.data = c.cv.to_bytes();
  s.mask.h = s.mask.w = opt.size;
  s.mask.labels = c.cv.labels();
  Rng crng(mix_seed(opt.seed, uint64_t(index), 0xCA9));
  s.captions = make_captions(c.f, crng);
  s.main_class = c.f.main_class;
  s.main_count = c.f.main_class == kBackground ? 0 : c.f.count;
  return s;
}

SynthSummary write_synthetic_dataset(const std::string& out_dir, const SynthOptions& opt) {
  check_synth_options(opt);
  namespace fs = std::filesystem;
  const auto t0 = std::chrono::steady_clock::now();
  const std::string images = join_path(out_dir, "images"), masks = join_path(out_dir, "masks"),
                    precomp = join_path(out_dir, "precomp");
  for (const std::string& d : {out_dir, images, masks, precomp}) {
    std::error_code ec;
    fs::create_directories(d, ec);
    SIRS_CHECK(!ec && fs::is_directory(d), IOError, "write_synthetic_dataset: cannot create folder ", d,
               ec ? ": " + ec.message() : std::string());
  }
  const int64_t n = opt.images;
  std::vector<std::vector<std::string>> caps(static_cast<size_t>(n));
  std::vector<std::string> names(static_cast<size_t>(n));
  std::vector<std::array<int64_t, kNumClasses>> pixels(static_cast<size_t>(n));
  std::string error;
  // One image per iteration; every write goes to its own file, so the
  // threads share nothing but the first error.
#pragma omp parallel for schedule(dynamic, 4)
  for (int64_t i = 0; i < n; ++i) {
    try {
      SynthScene s = generate_synthetic_scene(i, opt);
      write_tiff(join_path(images, s.name), s.image);
      write_mask(join_path(masks, mask_name_for(s.name)), s.mask);
      auto& px = pixels[size_t(i)];
      px.fill(0);
      for (uint8_t l : s.mask.labels) ++px[l];
      caps[size_t(i)] = std::move(s.captions);
      names[size_t(i)] = s.name;
    } catch (const std::exception& e) {
#pragma omp critical(synth_error)
      if (error.empty()) error = e.what();
    }
  }
  if (!error.empty()) throw IOError(str_cat("write_synthetic_dataset: ", error));
  SynthSummary sum;
  std::vector<std::string> train_caps, train_names, test_caps, test_names, all_caps;
  for (int64_t i = 0; i < n; ++i) {
    const bool test = synthetic_is_test(i, opt);
    auto& cl = test ? test_caps : train_caps;
    for (const auto& cap : caps[size_t(i)]) {
      cl.push_back(cap);
      all_caps.push_back(cap);
      if (test) test_names.push_back(names[size_t(i)]);
    }
    if (!test) train_names.push_back(names[size_t(i)]);
    (test ? sum.test_images : sum.train_images) += 1;
    for (int k = 0; k < kNumClasses; ++k) sum.class_pixels[size_t(k)] += pixels[size_t(i)][size_t(k)];
  }
  write_lines(join_path(precomp, "train_caps.txt"), train_caps);
  write_lines(join_path(precomp, "train_filename.txt"), train_names);
  write_lines(join_path(precomp, "test_caps.txt"), test_caps);
  write_lines(join_path(precomp, "test_filename.txt"), test_names);
  const Vocab vocab = build_vocab(all_caps, 1, true);
  vocab.save_json(join_path(out_dir, "vocab.json"));
  sum.train_captions = int64_t(train_caps.size());
  sum.test_captions = int64_t(test_caps.size());
  sum.vocab_words = vocab.size();
  sum.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return sum;
}

}  // namespace sirs
