// Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2,
// 3", SC 2011): a counter-based generator. Output block c under key k is a
// pure function of (c, k), so element i of a random tensor is the same on
// the CPU and on a GPU whatever the launch geometry. Usable from CUDA code.
#pragma once

#include <cstdint>

#ifdef __CUDACC__
#define SIRS_HD __host__ __device__ __forceinline__
#else
#define SIRS_HD inline
#endif

namespace sirs {

struct Philox4 {
  uint32_t v[4];
};

SIRS_HD void philox_mulhilo(uint32_t a, uint32_t b, uint32_t* hi, uint32_t* lo) {
  uint64_t p = static_cast<uint64_t>(a) * b;
  *hi = static_cast<uint32_t>(p >> 32);
  *lo = static_cast<uint32_t>(p);
}

// Block `counter` of the stream keyed by `seed`.
SIRS_HD Philox4 philox4x32_10(uint64_t counter, uint64_t seed) {
  uint32_t c0 = static_cast<uint32_t>(counter), c1 = static_cast<uint32_t>(counter >> 32);
  uint32_t c2 = 0, c3 = 0;
  uint32_t k0 = static_cast<uint32_t>(seed), k1 = static_cast<uint32_t>(seed >> 32);
  for (int round = 0; round < 10; ++round) {
    uint32_t hi0, lo0, hi1, lo1;
    philox_mulhilo(0xD2511F53u, c0, &hi0, &lo0);
    philox_mulhilo(0xCD9E8D57u, c2, &hi1, &lo1);
    uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
    c0 = n0; c1 = n1; c2 = n2; c3 = n3;
    k0 += 0x9E3779B9u;
    k1 += 0xBB67AE85u;
  }
  return Philox4{{c0, c1, c2, c3}};
}

// [0, 1) with 24 random bits, exact in float.
SIRS_HD float philox_uniform(uint32_t u) { return static_cast<float>(u >> 8) * (1.0f / 16777216.0f); }
// (0, 1], safe for log().
SIRS_HD float philox_uniform_open0(uint32_t u) {
  return static_cast<float>((u >> 8) + 1) * (1.0f / 16777216.0f);
}

}  // namespace sirs
