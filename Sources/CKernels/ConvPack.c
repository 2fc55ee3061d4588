// Implicit im2col: the B panels of a convolution's column matrix packed straight from the NCHW
// image, so that no fp32 column buffer is ever built (Conv2D.swift).
//
// Column matrix (torch's unfold / the classic im2col): row kk = (c, ky, kx) of k = C·kh·kw,
// column x = (oy, ox) of n = out_h·out_w, value image[c][oy·s + ky − pt][ox·s + kx − pl] or 0
// outside the image. Panels hold NR consecutive columns (output pixels); 16 of them at a time are
// gathered with masked loads (stride 1) or gathers (stride > 1) from one or more output rows.
// The lane → (oy, ox) mapping of a block is worked out once ("segments") and reused for every kk.
#include "BF16Internal.h"
#include "F32Internal.h"
#include "VectorMath.h"
#include <immintrin.h>

#define CONV_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))
#define SUB_COLS 480  // columns per segment table: whole panels of both GEMMs (48) and of 16 lanes
#define MAX_CHUNKS (SUB_COLS / 16)
#define MAX_SEGMENTS (SUB_COLS + MAX_CHUNKS)

/// Lanes [lane0, lane0 + len) of a 16-column chunk lie on one output row; lane lane0 + j reads
/// input row iy0 + ky, column ix0 + kx + j·stride.
typedef struct {
  int lane0, len, iy0, ix0;
} segment;

typedef struct {
  segment seg[MAX_SEGMENTS];
  int start[MAX_CHUNKS + 1];  // chunk c uses seg[start[c] ..< start[c + 1]]
  int chunks;
} segment_table;

/// Segments of the 16-lane chunks covering columns [x, x + cols) (cols a multiple of 16);
/// columns ≥ n (past the last pixel) get no segment and read as zero.
static void build_segments(const ck_conv_source *s, int x, int cols, segment_table *t) {
  const int n = s->out_h * s->out_w;
  int count = 0;
  t->chunks = cols / 16;
  for (int c = 0; c < t->chunks; c++) {
    t->start[c] = count;
    int p = x + 16 * c, lane = 0;
    while (lane < 16 && p < n) {
      int oy = p / s->out_w, ox = p - oy * s->out_w;
      int len = 16 - lane;
      if (len > s->out_w - ox) len = s->out_w - ox;
      if (len > n - p) len = n - p;
      t->seg[count++] = (segment){lane, len, oy * s->stride - s->pad_top, ox * s->stride - s->pad_left};
      lane += len;
      p += len;
    }
  }
  t->start[t->chunks] = count;
}

/// Row (plane, ky, kx) of the column matrix at the 16 columns of chunk `c`.
CONV_TARGET static inline __attribute__((always_inline)) __m512 chunk_row(
  const ck_conv_source *s, const segment_table *t, int c, const float *plane, int ci, int ky, int kx,
  __m512i lane_offsets
) {
  __m512 r = _mm512_setzero_ps();
  __mmask16 loaded = 0;
  const int up = s->upsample == 2 ? 2 : 1;
  const int stride = s->stride, w = s->width * up, h = s->height * up;  // the (virtual) input's size
  for (int i = t->start[c]; i < t->start[c + 1]; i++) {
    const segment g = t->seg[i];
    const int iy = g.iy0 + ky;
    if ((unsigned)iy >= (unsigned)h) continue;
    const int ix0 = g.ix0 + kx;
    // Lanes j with 0 ≤ ix0 + j·stride < w.
    int lo = ix0 < 0 ? (-ix0 + stride - 1) / stride : 0;
    int hi = ix0 >= w ? 0 : (w - 1 - ix0) / stride + 1;
    if (hi > g.len) hi = g.len;
    if (hi <= lo) continue;
    __mmask16 mask = (__mmask16)((((1u << hi) - 1) & ~((1u << lo) - 1)) << g.lane0);
    loaded |= mask;
    if (up == 2 && stride == 1) {
      // Lane lane0 + j reads the enlarged image's column ix0 + j: source column (ix0 + j) >> 1,
      // that is offset ((ix0 & 1) + j) >> 1 from column ix0 >> 1. One masked load of the ≤ 9
      // source values the lanes need, then each lane picks its own (no gather).
      const float *row = plane + (size_t)(iy >> 1) * s->width + (ix0 >> 1);
      const int odd = ix0 & 1, first = (odd + lo) >> 1, last = (odd + hi - 1) >> 1;
      __m512 source = _mm512_maskz_loadu_ps((__mmask16)(((1u << (last + 1)) - 1) & ~((1u << first) - 1)), row);
      __m512i pick = _mm512_srai_epi32(
        _mm512_add_epi32(lane_offsets, _mm512_set1_epi32(odd - g.lane0)), 1);  // lane_offsets = lane index here
      r = _mm512_mask_permutexvar_ps(r, mask, pick, source);
      continue;
    }
    if (up == 2) {
      // Lane lane0 + j reads the enlarged image's column ix0 + j·stride: source column half that.
      const float *row = plane + (size_t)(iy >> 1) * s->width;
      __m512i column = _mm512_add_epi32(
        _mm512_sub_epi32(lane_offsets, _mm512_set1_epi32(g.lane0 * stride)), _mm512_set1_epi32(ix0));
      r = _mm512_mask_i32gather_ps(r, mask, _mm512_srai_epi32(column, 1), row, 4);
      continue;
    }
    const float *base = plane + (size_t)iy * w + ix0;  // lane lane0 + j reads base[j·stride]
    if (stride == 1) {
      r = _mm512_mask_loadu_ps(r, mask, base - g.lane0);  // masked-off lanes are not read
    } else {
      __m512i index = _mm512_sub_epi32(lane_offsets, _mm512_set1_epi32(g.lane0 * stride));
      r = _mm512_mask_i32gather_ps(r, mask, index, base, 4);
    }
  }
  if (s->norm_scale && loaded) {
    // The same operations as Normalization.c's affine_avx512, so the result is bit-identical.
    __m512 v = _mm512_fmadd_ps(r, _mm512_set1_ps(s->norm_scale[ci]), _mm512_set1_ps(s->norm_shift[ci]));
    if (s->norm_silu) {
      __m512 e = ck_exp16(_mm512_sub_ps(_mm512_setzero_ps(), v));
      v = _mm512_div_ps(v, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
    }
    r = _mm512_maskz_mov_ps(loaded, v);  // padding stays 0
  }
  return r;
}

/// Walks k rows [k0, k0 + rows) as (plane, ky, kx), calling body(kk, plane or NULL past k).
#define FOR_EACH_K_ROW(s, k0, rows, ...)                                                    \
  do {                                                                                     \
    const int taps = (s)->kernel_h * (s)->kernel_w, depth = (s)->channels * taps;          \
    int ci = (k0) / taps, tap = (k0) % taps;                                               \
    for (int kk = 0; kk < (rows); kk++) {                                                  \
      const int inside = (k0) + kk < depth;                                                \
      const float *plane = (s)->image + (size_t)ci * (s)->height * (s)->width;             \
      const int ky = tap / (s)->kernel_w, kx = tap % (s)->kernel_w;                        \
      __VA_ARGS__;                                                                         \
      if (++tap == taps) { tap = 0; ci++; }                                                \
    }                                                                                      \
  } while (0)

CONV_TARGET void ck_conv_pack_f32(const ck_conv_source *s, int x0, int count, int k0, int kc, float *dst) {
  const int nr = CK_F32_NR, total = ck_f32_round_up(count, nr);
  const __m512i lanes = _mm512_mullo_epi32(
    _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(s->stride));
  segment_table t;
  for (int sub = 0; sub < total; sub += SUB_COLS) {
    const int cols = total - sub < SUB_COLS ? total - sub : SUB_COLS;
    build_segments(s, x0 + sub, cols, &t);
    FOR_EACH_K_ROW(s, k0, kc, {
      for (int c = 0; c < t.chunks; c++) {
        const int col = sub + 16 * c, q = col / nr;
        __m512 v = inside ? chunk_row(s, &t, c, plane, ci, ky, kx, lanes) : _mm512_setzero_ps();
        _mm512_storeu_ps(dst + (size_t)q * nr * kc + (size_t)kk * nr + (col - q * nr), v);
      }
    });
  }
}

CK_BF16_TARGET void ck_conv_pack_bf16(const ck_conv_source *s, int x0, int count, int k0, int kc, uint32_t *dst) {
  const int nr = CK_BF16_NR, total = ck_bf16_round_up(count, nr), pairs = kc / 2;
  const __m512i lanes = _mm512_mullo_epi32(
    _mm512_set_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0), _mm512_set1_epi32(s->stride));
  segment_table t;
  for (int sub = 0; sub < total; sub += SUB_COLS) {
    const int cols = total - sub < SUB_COLS ? total - sub : SUB_COLS;
    build_segments(s, x0 + sub, cols, &t);
    // Even rows (k = 2p) are staged in `even` until their odd partner arrives.
    __m512i even[MAX_CHUNKS];
    FOR_EACH_K_ROW(s, k0, kc, {
      for (int c = 0; c < t.chunks; c++) {
        __m512 v = inside ? chunk_row(s, &t, c, plane, ci, ky, kx, lanes) : _mm512_setzero_ps();
        __m512i rounded = ck_bf16_round_high(v);
        if ((kk & 1) == 0) {
          even[c] = rounded;
          continue;
        }
        const int col = sub + 16 * c, q = col / nr, p = kk / 2;
        __m512i pair = _mm512_mask_blend_epi16(0xaaaaaaaau, _mm512_srli_epi32(even[c], 16), rounded);
        _mm512_storeu_si512(dst + (size_t)q * nr * pairs + (size_t)p * nr + (col - q * nr), pair);
      }
    });
  }
}
