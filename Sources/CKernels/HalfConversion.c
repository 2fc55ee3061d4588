#include "CKernels.h"
#include <string.h>

// Branch-free conversions written so that the compiler vectorises the loops (-O3);
// on x86-64 with F16C the f16 path could use vcvtph2ps, but the portable form is
// already memory-bound for weight loading.

static inline uint32_t f16_bits_to_f32_bits(uint16_t h) {
  uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t man = h & 0x3ffu;
  if (exp == 0x1f) {  // inf / NaN
    return sign | 0x7f800000u | (man << 13);
  }
  if (exp == 0) {
    if (man == 0) return sign;
    // subnormal: value = man × 2^-24; normalise through a float multiply.
    float f = (float)man * 5.9604644775390625e-8f;
    uint32_t bits;
    memcpy(&bits, &f, 4);
    return sign | bits;
  }
  return sign | ((exp + 112u) << 23) | (man << 13);
}

void ck_f16_to_f32(const uint16_t *src, float *dst, size_t count) {
  for (size_t i = 0; i < count; i++) {
    uint32_t bits = f16_bits_to_f32_bits(src[i]);
    memcpy(&dst[i], &bits, 4);
  }
}

void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t count) {
  for (size_t i = 0; i < count; i++) {
    uint32_t bits = (uint32_t)src[i] << 16;
    memcpy(&dst[i], &bits, 4);
  }
}

void ck_f32_to_bf16(const float *src, uint16_t *dst, size_t count) {
  for (size_t i = 0; i < count; i++) {
    uint32_t bits;
    memcpy(&bits, &src[i], 4);
    if ((bits & 0x7fffffffu) > 0x7f800000u) {  // NaN: keep it quiet
      dst[i] = (uint16_t)((bits >> 16) | 0x40u);
      continue;
    }
    uint32_t rounding = 0x7fffu + ((bits >> 16) & 1u);
    dst[i] = (uint16_t)((bits + rounding) >> 16);
  }
}

void ck_f32_to_f16(const float *src, uint16_t *dst, size_t count) {
  for (size_t i = 0; i < count; i++) {
    uint32_t x;
    memcpy(&x, &src[i], 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t absx = x & 0x7fffffffu;
    uint16_t h;
    if (absx > 0x7f800000u) {
      h = (uint16_t)(sign | 0x7e00u);
    } else if (absx >= 0x477ff000u) {  // rounds to ≥ 65520: inf
      h = (uint16_t)(sign | 0x7c00u);
    } else if (absx < 0x38800000u) {  // below the smallest normal: subnormal or zero
      float f;
      memcpy(&f, &absx, 4);
      // scale so that the subnormal ulp (2^-24) becomes 1, round to nearest even.
      float scaled = f * 16777216.0f;
      uint32_t m = (uint32_t)__builtin_rintf(scaled);
      h = (uint16_t)(sign | m);
    } else {
      uint32_t rounding = 0xfffu + ((absx >> 13) & 1u);
      uint32_t r = absx + rounding;
      h = (uint16_t)(sign | (((r >> 23) - 112u) << 10) | ((r >> 13) & 0x3ffu));
    }
    dst[i] = h;
  }
}
