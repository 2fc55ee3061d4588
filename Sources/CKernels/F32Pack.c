// Packing for the AVX-512 FP32 GEMM kernel (F32Kernel.c): fp32, fp16 or bf16 sources → fp32
// panels. fp32 is copied; fp16 is widened by vcvtph2ps and bf16 by a 16-bit shift, both exact,
// so a 16-bit weight packed per call gives the same panels as its widened fp32 copy packed once.
// Panel geometry in F32Internal.h; convolution sources are packed by ConvPack.c.
#include "BF16Internal.h"
#include "F32Internal.h"
#include <immintrin.h>
#include <string.h>

#define ALWAYS_INLINE __attribute__((always_inline)) inline

/// 8 source elements from `index` as fp32 (lanes outside `mask` read as 0 and are not touched).
CK_F32_TARGET static ALWAYS_INLINE __m256 load8(const void *data, size_t index, int kind, __mmask8 mask) {
  if (kind == CK_GEMM_SRC_F32) return _mm256_maskz_loadu_ps(mask, (const float *)data + index);
  __m128i half = _mm_maskz_loadu_epi16(mask, (const uint16_t *)data + index);
  if (kind == CK_GEMM_SRC_F16) return _mm256_cvtph_ps(half);
  return _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_cvtepu16_epi32(half), 16));
}

/// 16 source elements from `index` as fp32 (as load8).
CK_F32_TARGET static ALWAYS_INLINE __m512 load16(const void *data, size_t index, int kind, __mmask16 mask) {
  if (kind == CK_GEMM_SRC_F32) return _mm512_maskz_loadu_ps(mask, (const float *)data + index);
  __m256i half = _mm256_maskz_loadu_epi16(mask, (const uint16_t *)data + index);
  if (kind == CK_GEMM_SRC_F16) return _mm512_cvtph_ps(half);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(half), 16));
}

static inline __mmask16 first_lanes(int count) {
  return count >= 16 ? (__mmask16)0xffff : count <= 0 ? 0 : (__mmask16)((1u << count) - 1);
}

/// k-contiguous source (A not transposed, B transposed): 8 rows × 8 k at a time, transposed in
/// registers so that each k's 8 values land as one 256-bit store.
CK_F32_TARGET static ALWAYS_INLINE void pack_kcontig(
  const ck_gemm_view *v, int kind, int width, int x0, int count, int k0, int kc, float *dst
) {
  for (int q = 0; q * width < count; q++) {
    float *panel = dst + (size_t)q * width * kc;
    for (int g = 0; g < width; g += 8) {
      const int x = x0 + q * width + g;
      for (int kk = 0; kk < kc; kk += 8) {
        const int k = k0 + kk;
        __mmask8 km = (__mmask8)(k >= v->depth ? 0 : v->depth - k >= 8 ? 0xff : (1u << (v->depth - k)) - 1);
        __m256 r[8];
        for (int i = 0; i < 8; i++) {
          // A 16-bit source is a weight streamed from DRAM per call: fetch the next 8 rows' line
          // at this k ahead (the 8 short row streams defeat the hardware prefetcher).
          if (kind != CK_GEMM_SRC_F32 && (kk & 31) == 0 && x + i + 8 < v->extent)
            _mm_prefetch((const char *)v->data + ((size_t)(x + i + 8) * v->ld + (size_t)k) * 2, _MM_HINT_T0);
          r[i] = x + i < v->extent ? load8(v->data, (size_t)(x + i) * v->ld + k, kind, km) : _mm256_setzero_ps();
        }
        // 8 × 8 transpose: t[j] = column j (k = kk + j) of the 8 rows.
        __m256 a0 = _mm256_unpacklo_ps(r[0], r[1]), a1 = _mm256_unpackhi_ps(r[0], r[1]);
        __m256 a2 = _mm256_unpacklo_ps(r[2], r[3]), a3 = _mm256_unpackhi_ps(r[2], r[3]);
        __m256 a4 = _mm256_unpacklo_ps(r[4], r[5]), a5 = _mm256_unpackhi_ps(r[4], r[5]);
        __m256 a6 = _mm256_unpacklo_ps(r[6], r[7]), a7 = _mm256_unpackhi_ps(r[6], r[7]);
        __m256 b0 = _mm256_shuffle_ps(a0, a2, 0x44), b1 = _mm256_shuffle_ps(a0, a2, 0xee);
        __m256 b2 = _mm256_shuffle_ps(a1, a3, 0x44), b3 = _mm256_shuffle_ps(a1, a3, 0xee);
        __m256 b4 = _mm256_shuffle_ps(a4, a6, 0x44), b5 = _mm256_shuffle_ps(a4, a6, 0xee);
        __m256 b6 = _mm256_shuffle_ps(a5, a7, 0x44), b7 = _mm256_shuffle_ps(a5, a7, 0xee);
        __m256 t[8] = {
          _mm256_permute2f128_ps(b0, b4, 0x20), _mm256_permute2f128_ps(b1, b5, 0x20),
          _mm256_permute2f128_ps(b2, b6, 0x20), _mm256_permute2f128_ps(b3, b7, 0x20),
          _mm256_permute2f128_ps(b0, b4, 0x31), _mm256_permute2f128_ps(b1, b5, 0x31),
          _mm256_permute2f128_ps(b2, b6, 0x31), _mm256_permute2f128_ps(b3, b7, 0x31),
        };
        for (int j = 0; j < 8 && kk + j < kc; j++) _mm256_storeu_ps(panel + (size_t)(kk + j) * width + g, t[j]);
      }
    }
  }
}

/// x-contiguous source (A transposed, B not transposed): each stored row k is copied whole,
/// NR (or MR) values per panel.
CK_F32_TARGET static ALWAYS_INLINE void pack_xcontig(
  const ck_gemm_view *v, int kind, int width, int x0, int count, int k0, int kc, float *dst
) {
  const size_t bytes = kind == CK_GEMM_SRC_F32 ? 4 : 2;
  for (int kk = 0; kk < kc; kk++) {
    const int k = k0 + kk;
    const size_t row = (size_t)k * v->ld;
    if (k + 2 < v->depth) _mm_prefetch((const char *)v->data + (row + 2 * v->ld + (size_t)x0) * bytes, _MM_HINT_T0);
    for (int q = 0; q * width < count; q++) {
      float *out = dst + (size_t)q * width * kc + (size_t)kk * width;
      for (int g = 0; g < width; g += 16) {
        const int x = x0 + q * width + g;
        __mmask16 store = first_lanes(width - g);
        __mmask16 load = k < v->depth ? first_lanes(v->extent - x) & store : 0;
        _mm512_mask_storeu_ps(out + g, store, load16(v->data, row + (size_t)x, kind, load));
      }
    }
  }
}

#define PACK_BLOCK_FOR(KIND)                                                     \
  if (v->kcontig) pack_kcontig(v, KIND, width, x0, count, k0, kc, dst);          \
  else pack_xcontig(v, KIND, width, x0, count, k0, kc, dst);

CK_F32_TARGET void ck_f32_pack_block(const ck_gemm_view *v, int width, int x0, int count, int k0, int kc, void *out) {
  float *dst = out;
  // One specialisation per source kind so that the per-element branch folds away.
  switch (v->kind) {
  case CK_GEMM_SRC_CONV: ck_conv_pack_f32((const ck_conv_source *)v->data, x0, count, k0, kc, dst); break;
  case CK_GEMM_SRC_F16: PACK_BLOCK_FOR(CK_GEMM_SRC_F16) break;
  case CK_GEMM_SRC_BF16: PACK_BLOCK_FOR(CK_GEMM_SRC_BF16) break;
  default: PACK_BLOCK_FOR(CK_GEMM_SRC_F32) break;
  }
}

// MARK: - Test hooks

void ck_conv_pack_block(const ck_conv_source *s, int bf16, int x0, int count, int k0, int kc, void *dst) {
  if (bf16) ck_conv_pack_bf16(s, x0, count, k0, kc, (uint32_t *)dst);
  else ck_conv_pack_f32(s, x0, count, k0, kc, (float *)dst);
}

void ck_dense_pack_block(const float *src, size_t ld, int k, int n, int bf16, int x0, int count, int k0, int kc, void *dst) {
  const ck_gemm_kernel *kernel = bf16 ? &ck_avx512_bf16_kernel : &ck_avx512_f32_kernel;
  ck_gemm_view v = { .data = src, .kind = CK_GEMM_SRC_F32, .ld = ld, .kcontig = 0, .extent = n, .depth = k };
  kernel->pack_b(&v, kernel->nr, x0, count, k0, kc, dst);
}
