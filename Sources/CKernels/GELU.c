#include "CKernels.h"
#include "VectorMath.h"

// Exact (erf) GELU, x·Φ(x), as torch.nn.functional.gelu(approximate="none"). Φ(x) = ½·erfc(−x/√2)
// with erfc(z) = t·exp(−z² + P(t)), t = 1/(1 + z/2) for z ≥ 0 (Numerical Recipes' erfcc, relative
// error < 1.2e-7 everywhere) and erfc(z) = 2 − erfc(−z) below 0, so both tails keep their
// relative accuracy.

#define CK_SQRT1_2 0.70710678118654752f

static inline float erfc_poly(float t) {
  float p = 0.17087277f;
  p = p * t - 0.82215223f;
  p = p * t + 1.48851587f;
  p = p * t - 1.13520398f;
  p = p * t + 0.27886807f;
  p = p * t - 0.18628806f;
  p = p * t + 0.09678418f;
  p = p * t + 0.37409196f;
  p = p * t + 1.00002368f;
  return p * t - 1.26551223f;
}

static inline float gelu_scalar(float x) {
  float z = fabsf(x) * CK_SQRT1_2;
  float t = 1.0f / (1.0f + 0.5f * z);
  float tail = 0.5f * t * ck_exp(-z * z + erfc_poly(t));  // ½·erfc(|x|/√2)
  return x * (x >= 0 ? 1.0f - tail : tail);
}

#if defined(__x86_64__)
CK_AVX512 static inline __m512 gelu16(__m512 x) {
  const __m512 one = _mm512_set1_ps(1.0f), half = _mm512_set1_ps(0.5f);
  __m512 z = _mm512_mul_ps(_mm512_abs_ps(x), _mm512_set1_ps(CK_SQRT1_2));
  __m512 t = _mm512_div_ps(one, _mm512_fmadd_ps(half, z, one));
  __m512 p = _mm512_set1_ps(0.17087277f);
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.82215223f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.48851587f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.13520398f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.27886807f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-0.18628806f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.09678418f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(0.37409196f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(1.00002368f));
  p = _mm512_fmadd_ps(p, t, _mm512_set1_ps(-1.26551223f));
  __m512 tail = _mm512_mul_ps(_mm512_mul_ps(half, t), ck_exp16(_mm512_fnmadd_ps(z, z, p)));
  __mmask16 positive = _mm512_cmp_ps_mask(x, _mm512_setzero_ps(), _CMP_GE_OQ);
  __m512 phi = _mm512_mask_sub_ps(tail, positive, one, tail);
  return _mm512_mul_ps(x, phi);
}

CK_AVX512 static void geglu_avx512(const float *hg, float *out, size_t rows, size_t inner) {
  for (size_t r = 0; r < rows; r++) {
    const float *h = hg + r * 2 * inner, *g = h + inner;
    float *o = out + r * inner;
    for (size_t i = 0; i < inner; i += 16) {
      __mmask16 m = ck_lanes_below((long)(inner - i));
      __m512 v = _mm512_mul_ps(_mm512_maskz_loadu_ps(m, h + i), gelu16(_mm512_maskz_loadu_ps(m, g + i)));
      _mm512_mask_storeu_ps(o + i, m, v);
    }
  }
}

CK_AVX512 static void gelu_avx512(const float *x, float *y, size_t n) {
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = ck_lanes_below((long)(n - i));
    _mm512_mask_storeu_ps(y + i, m, gelu16(_mm512_maskz_loadu_ps(m, x + i)));
  }
}
#endif

void ck_geglu(const float *hg, float *out, size_t rows, size_t inner) {
#if defined(__x86_64__)
  if (ck_has_avx512()) { geglu_avx512(hg, out, rows, inner); return; }
#endif
  for (size_t r = 0; r < rows; r++) {
    const float *h = hg + r * 2 * inner, *g = h + inner;
    for (size_t i = 0; i < inner; i++) out[r * inner + i] = h[i] * gelu_scalar(g[i]);
  }
}

void ck_gelu(const float *x, float *y, size_t n) {
#if defined(__x86_64__)
  if (ck_has_avx512()) { gelu_avx512(x, y, n); return; }
#endif
  for (size_t i = 0; i < n; i++) y[i] = gelu_scalar(x[i]);
}
