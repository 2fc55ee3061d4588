// Vectorised exp shared by the C kernels (internal header). exp(t) = 2^n · e^r with
// n = round(t / ln 2), |r| ≤ ln 2 / 2, e^r by Cephes' expf polynomial (≈ 1 ulp); ln 2 is split in
// two constants so that r is exact. t is clamped above at 88.3 (exp ≈ 2.1e38, still finite) and
// gives 0 below −87.3, where expf is subnormal or 0 (and −∞, a causal mask, gives 0 too).
#ifndef CK_VECTOR_MATH_H
#define CK_VECTOR_MATH_H
#include <math.h>
#include <stdint.h>
#include "CKernels.h"

#define CK_LOG2E 1.44269504088896341f
#define CK_LN2_HI 0.693359375f
#define CK_LN2_LO -2.12194440e-4f
#define CK_EXP_MIN -87.3f
#define CK_EXP_MAX 88.3f

static inline float ck_exp(float t) {
  if (!(t >= CK_EXP_MIN)) return 0.0f;
  if (t > CK_EXP_MAX) t = CK_EXP_MAX;
  float n = nearbyintf(t * CK_LOG2E);
  float r = t - n * CK_LN2_HI - n * CK_LN2_LO;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  union { uint32_t u; float f; } scale = { .u = (uint32_t)((int)n + 127) << 23 };
  return p * scale.f;
}

#if defined(__x86_64__)
#include <immintrin.h>
#define CK_AVX512 __attribute__((target("avx512f")))

CK_AVX512 static inline __m512 ck_exp16(__m512 t) {
  __mmask16 live = _mm512_cmp_ps_mask(t, _mm512_set1_ps(CK_EXP_MIN), _CMP_GE_OQ);
  t = _mm512_min_ps(t, _mm512_set1_ps(CK_EXP_MAX));
  __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(t, _mm512_set1_ps(CK_LOG2E)), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_HI), t);
  r = _mm512_fnmadd_ps(n, _mm512_set1_ps(CK_LN2_LO), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  __m512i bits = _mm512_slli_epi32(_mm512_add_epi32(_mm512_cvtps_epi32(n), _mm512_set1_epi32(127)), 23);
  return _mm512_maskz_mul_ps(live, p, _mm512_castsi512_ps(bits));
}

static inline int ck_has_avx512(void) { return ck_cpu_has_avx512(); }

/// The mask of the first `count` of 16 lanes (all for ≥ 16, none for ≤ 0): a loop's tail.
static inline __mmask16 ck_lanes_below(long count) {
  return count >= 16 ? (__mmask16)0xffff : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}
#endif

#endif
