#include "CKernels.h"
#include "VectorMath.h"

// Statistics and the affine + activation pass of GroupNorm / LayerNorm. Sums run in float
// vectors over blocks of at most 1024 elements, each block's total added in double, so a
// million-element group keeps double-like accuracy at vector speed.

#define CK_BLOCK 1024

static double sum_scalar(const float *x, size_t n, double center, int squares) {
  double total = 0;
  for (size_t i = 0; i < n;) {
    size_t end = i + CK_BLOCK < n ? i + CK_BLOCK : n;
    float block = 0;
    for (; i < end; i++) {
      float d = x[i] - (float)center;
      block += squares ? d * d : x[i];
    }
    total += block;
  }
  return total;
}

static inline float silu(float v) { return v / (1.0f + ck_exp(-v)); }

#if defined(__x86_64__)
CK_AVX512 static double sum_avx512(const float *x, size_t n, double center, int squares) {
  const __m512 c = _mm512_set1_ps((float)center);
  double total = 0;
  size_t i = 0;
  while (i < n) {
    size_t end = i + CK_BLOCK < n ? i + CK_BLOCK : n;
    __m512 a0 = _mm512_setzero_ps(), a1 = _mm512_setzero_ps();
    for (; i + 32 <= end; i += 32) {
      __m512 v0 = _mm512_loadu_ps(x + i), v1 = _mm512_loadu_ps(x + i + 16);
      if (squares) {
        v0 = _mm512_sub_ps(v0, c);
        v1 = _mm512_sub_ps(v1, c);
        a0 = _mm512_fmadd_ps(v0, v0, a0);
        a1 = _mm512_fmadd_ps(v1, v1, a1);
      } else {
        a0 = _mm512_add_ps(a0, v0);
        a1 = _mm512_add_ps(a1, v1);
      }
    }
    for (; i < end; i += 16) {
      __mmask16 m = ck_lanes_below((long)(end - i));
      __m512 v = _mm512_maskz_loadu_ps(m, x + i);
      if (squares) {
        v = _mm512_maskz_sub_ps(m, v, c);
        a0 = _mm512_fmadd_ps(v, v, a0);
      } else {
        a0 = _mm512_add_ps(a0, v);
      }
    }
    i = end;
    total += _mm512_reduce_add_ps(_mm512_add_ps(a0, a1));
  }
  return total;
}

CK_AVX512 static void affine_avx512(const float *x, float *y, size_t n, float scale, float shift, int activation) {
  const __m512 s = _mm512_set1_ps(scale), b = _mm512_set1_ps(shift), one = _mm512_set1_ps(1.0f);
  for (size_t i = 0; i < n; i += 16) {
    __mmask16 m = ck_lanes_below((long)(n - i));
    __m512 v = _mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, x + i), s, b);
    if (activation == 1) {
      __m512 e = ck_exp16(_mm512_sub_ps(_mm512_setzero_ps(), v));
      v = _mm512_div_ps(v, _mm512_add_ps(one, e));
    }
    _mm512_mask_storeu_ps(y + i, m, v);
  }
}
#endif

void ck_mean_variance(const float *x, size_t n, double *mean, double *variance) {
  if (n == 0) { *mean = 0; *variance = 0; return; }
#if defined(__x86_64__)
  if (ck_has_avx512()) {
    double m = sum_avx512(x, n, 0, 0) / (double)n;
    *mean = m;
    // Deviations from the float-rounded mean; the rounding's effect on the variance, (m − fm)², is
    // below 1e-14 of m² and is added back.
    double fm = (double)(float)m;
    *variance = sum_avx512(x, n, m, 1) / (double)n - (m - fm) * (m - fm);
    return;
  }
#endif
  double m = sum_scalar(x, n, 0, 0) / (double)n;
  double fm = (double)(float)m;
  *mean = m;
  *variance = sum_scalar(x, n, m, 1) / (double)n - (m - fm) * (m - fm);
}

void ck_scale_shift_activation(const float *x, float *y, size_t n, float scale, float shift, int activation) {
#if defined(__x86_64__)
  if (ck_has_avx512()) { affine_avx512(x, y, n, scale, shift, activation); return; }
#endif
  for (size_t i = 0; i < n; i++) {
    float v = x[i] * scale + shift;
    y[i] = activation == 1 ? silu(v) : v;
  }
}
