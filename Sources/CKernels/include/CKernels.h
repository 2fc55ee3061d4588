#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// IEEE 754 binary16 → binary32, exact for every input (subnormals, inf, NaN).
void ck_f16_to_f32(const uint16_t *src, float *dst, size_t count);
/// bfloat16 → binary32 (a shift: exact).
void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t count);
/// binary32 → bfloat16, round to nearest even (NaN stays NaN).
void ck_f32_to_bf16(const float *src, uint16_t *dst, size_t count);
/// binary32 → binary16, round to nearest even.
void ck_f32_to_f16(const float *src, uint16_t *dst, size_t count);

#endif
