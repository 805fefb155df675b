#include "tensor/dtype.h"

namespace sirs {

// IEEE binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits.
Half Half::from_float(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  uint32_t sign = (x >> 16) & 0x8000u;
  uint32_t mag = x & 0x7fffffffu;
  Half h;
  if (mag > 0x7f800000u) {  // NaN
    h.bits = static_cast<uint16_t>(sign | 0x7e00u);
    return h;
  }
  if (mag >= 0x477ff000u) {  // rounds to >= 65520: infinity
    h.bits = static_cast<uint16_t>(sign | 0x7c00u);
    return h;
  }
  if (mag < 0x38800000u) {  // below 2^-14: subnormal or zero
    // value = mag_float; subnormal step is 2^-24. Round to nearest even.
    float a;
    std::memcpy(&a, &mag, 4);
    float scaled = a * 16777216.0f;  // / 2^-24
    uint32_t q = static_cast<uint32_t>(scaled);
    float rem = scaled - static_cast<float>(q);
    if (rem > 0.5f || (rem == 0.5f && (q & 1u))) q++;
    h.bits = static_cast<uint16_t>(sign | q);
    return h;
  }
  // Normal: rebias exponent from 127 to 15, round mantissa 23 -> 10 bits.
  uint32_t rounding = 0xfffu + ((mag >> 13) & 1u);
  uint32_t r = (mag + rounding - (112u << 23)) >> 13;
  h.bits = static_cast<uint16_t>(sign | r);
  return h;
}

float Half::to_float() const {
  uint32_t sign = static_cast<uint32_t>(bits & 0x8000u) << 16;
  uint32_t exp = (bits >> 10) & 0x1fu;
  uint32_t man = bits & 0x3ffu;
  uint32_t out;
  if (exp == 0) {
    if (man == 0) {
      out = sign;
    } else {  // subnormal: man * 2^-24
      float v = static_cast<float>(man) * (1.0f / 16777216.0f);
      std::memcpy(&out, &v, 4);
      out |= sign;
    }
  } else if (exp == 31) {
    out = sign | 0x7f800000u | (man << 13);
  } else {
    out = sign | ((exp + 112u) << 23) | (man << 13);
  }
  float f;
  std::memcpy(&f, &out, 4);
  return f;
}

}  // namespace sirs
