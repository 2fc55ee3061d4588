#include "CKernels.h"
#include <math.h>

#include "VectorMath.h"

// Row softmax: max, exp and sum, scale — three passes over a row that stays in L1/L2.

static void softmax_row_scalar(float *x, size_t length, float scale) {
  float maximum = -INFINITY;
  for (size_t i = 0; i < length; i++) maximum = x[i] > maximum ? x[i] : maximum;
  double sum = 0;  // a serial float sum of 4096 terms would drift by ~1e-5
  for (size_t i = 0; i < length; i++) {
    float e = ck_exp((x[i] - maximum) * scale);
    x[i] = e;
    sum += e;
  }
  float inv = (float)(1.0 / sum);
  for (size_t i = 0; i < length; i++) x[i] *= inv;
}

#if defined(__x86_64__)
CK_AVX512 static void softmax_row_avx512(float *x, size_t length, float scale) {
  const __m512 minusInf = _mm512_set1_ps(-INFINITY);
  size_t full = length & ~(size_t)15;
  __mmask16 tail = ck_lanes_below((long)(length - full));
  __m512 vmax = minusInf;
  for (size_t i = 0; i < full; i += 16) vmax = _mm512_max_ps(vmax, _mm512_loadu_ps(x + i));
  if (tail) vmax = _mm512_max_ps(vmax, _mm512_mask_loadu_ps(minusInf, tail, x + full));
  const __m512 maximum = _mm512_set1_ps(_mm512_reduce_max_ps(vmax));
  const __m512 vscale = _mm512_set1_ps(scale);
  __m512 sum0 = _mm512_setzero_ps(), sum1 = _mm512_setzero_ps();
  size_t i = 0;
  for (; i + 32 <= full; i += 32) {
    __m512 e0 = ck_exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), maximum), vscale));
    __m512 e1 = ck_exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i + 16), maximum), vscale));
    _mm512_storeu_ps(x + i, e0);
    _mm512_storeu_ps(x + i + 16, e1);
    sum0 = _mm512_add_ps(sum0, e0);
    sum1 = _mm512_add_ps(sum1, e1);
  }
  for (; i < full; i += 16) {
    __m512 e = ck_exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_loadu_ps(x + i), maximum), vscale));
    _mm512_storeu_ps(x + i, e);
    sum0 = _mm512_add_ps(sum0, e);
  }
  if (tail) {
    __m512 e = ck_exp16(_mm512_mul_ps(_mm512_sub_ps(_mm512_mask_loadu_ps(minusInf, tail, x + full), maximum), vscale));
    _mm512_mask_storeu_ps(x + full, tail, e);
    sum1 = _mm512_add_ps(sum1, e);
  }
  const __m512 inv = _mm512_set1_ps(1.0f / _mm512_reduce_add_ps(_mm512_add_ps(sum0, sum1)));
  for (size_t j = 0; j < full; j += 16) _mm512_storeu_ps(x + j, _mm512_mul_ps(_mm512_loadu_ps(x + j), inv));
  if (tail) _mm512_mask_storeu_ps(x + full, tail, _mm512_mul_ps(_mm512_maskz_loadu_ps(tail, x + full), inv));
}
#endif

void ck_softmax_rows(float *x, size_t rows, size_t length, size_t stride, float scale) {
#if defined(__x86_64__)
  if (ck_has_avx512()) {
    for (size_t r = 0; r < rows; r++) softmax_row_avx512(x + r * stride, length, scale);
    return;
  }
#endif
  for (size_t r = 0; r < rows; r++) softmax_row_scalar(x + r * stride, length, scale);
}
