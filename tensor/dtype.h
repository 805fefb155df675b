// Element types. float32 is the working type; float64 runs on CPU for
// gradient checks; integer types carry indices, labels and masks; bf16 and
// fp16 are storage types for the GPU work (converted on copy).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

#include "tensor/error.h"

namespace sirs {

enum class DType : uint8_t { F32, F64, I64, I32, U8, BF16, F16 };

inline size_t dtype_size(DType t) {
  switch (t) {
    case DType::F32: return 4;
    case DType::F64: return 8;
    case DType::I64: return 8;
    case DType::I32: return 4;
    case DType::U8: return 1;
    case DType::BF16: return 2;
    case DType::F16: return 2;
  }
  return 0;
}

inline const char* dtype_name(DType t) {
  switch (t) {
    case DType::F32: return "float32";
    case DType::F64: return "float64";
    case DType::I64: return "int64";
    case DType::I32: return "int32";
    case DType::U8: return "uint8";
    case DType::BF16: return "bfloat16";
    case DType::F16: return "float16";
  }
  return "?";
}

inline bool is_floating(DType t) {
  return t == DType::F32 || t == DType::F64 || t == DType::BF16 || t == DType::F16;
}

// 16-bit float storage types. Arithmetic happens in float; these only
// convert. bf16 rounds to nearest even; fp16 follows IEEE 754 binary16 with
// subnormals, infinities and NaN.
struct BFloat16 {
  uint16_t bits = 0;
  static BFloat16 from_float(float f) {
    uint32_t u;
    std::memcpy(&u, &f, 4);
    BFloat16 r;
    if ((u & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep it a quiet NaN
      r.bits = static_cast<uint16_t>((u >> 16) | 0x40);
      return r;
    }
    uint32_t rounding = 0x7fffu + ((u >> 16) & 1u);
    r.bits = static_cast<uint16_t>((u + rounding) >> 16);
    return r;
  }
  float to_float() const {
    uint32_t u = static_cast<uint32_t>(bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
  }
};

struct Half {
  uint16_t bits = 0;
  static Half from_float(float f);
  float to_float() const;
};

// Compile-time mapping from C++ type to DType.
template <class T> struct DTypeOf;
template <> struct DTypeOf<float> { static constexpr DType value = DType::F32; };
template <> struct DTypeOf<double> { static constexpr DType value = DType::F64; };
template <> struct DTypeOf<int64_t> { static constexpr DType value = DType::I64; };
template <> struct DTypeOf<int32_t> { static constexpr DType value = DType::I32; };
template <> struct DTypeOf<uint8_t> { static constexpr DType value = DType::U8; };
template <> struct DTypeOf<BFloat16> { static constexpr DType value = DType::BF16; };
template <> struct DTypeOf<Half> { static constexpr DType value = DType::F16; };

template <class T> struct TypeTag { using type = T; };

// Calls fn(TypeTag<T>{}) for a floating dtype the CPU kernels compute in
// (float32, float64); anything else is a DTypeError naming the op.
template <class F>
auto dispatch_float(DType t, const char* op, F&& fn) {
  switch (t) {
    case DType::F32: return fn(TypeTag<float>{});
    case DType::F64: return fn(TypeTag<double>{});
    default:
      throw DTypeError(str_cat(op, ": expected float32 or float64, got ", dtype_name(t)));
  }
}

// Calls fn(TypeTag<T>{}) for every dtype.
template <class F>
auto dispatch_all(DType t, F&& fn) {
  switch (t) {
    case DType::F32: return fn(TypeTag<float>{});
    case DType::F64: return fn(TypeTag<double>{});
    case DType::I64: return fn(TypeTag<int64_t>{});
    case DType::I32: return fn(TypeTag<int32_t>{});
    case DType::U8: return fn(TypeTag<uint8_t>{});
    case DType::BF16: return fn(TypeTag<BFloat16>{});
    case DType::F16: return fn(TypeTag<Half>{});
  }
  throw DTypeError("dispatch_all: unknown dtype");
}

}  // namespace sirs
