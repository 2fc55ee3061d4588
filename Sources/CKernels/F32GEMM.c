// FP32 GEMM: GotoBLAS-style blocking around an 8 × 48 AVX-512 FMA micro-kernel. Packing lives
// in F32Pack.c (and ConvPack.c for convolution columns), the panel geometry in F32Internal.h.
//
// Loop nest for one range of C (rows [row0, row1) × columns [col0, col1)):
//   for each row block of A: MC rows when A is raw (up to MC_WIDE for 16-bit A), all rows when packed
//     for each KC-deep k block (in increasing k)
//       A block = the packed A panels in place, or the raw rows packed into scratch (L2)
//       for each NC-column block of B
//         B block = the packed B panels in place, or the raw / convolution columns packed (L2)
//         for each MR-row A micro-panel (L1) × each NR-column B micro-panel (streamed from L2)
//           micro-kernel: C tile (+)= A panel · B panel over the k block
//
// Determinism: a C element's value is (((C₀ +) S₀ + S₁) + …) where S_b is the FMA chain over
// k block b in increasing k, started from zero in its own accumulator lane. Blocks start at
// multiples of KC from k = 0 and a lane's chain does not depend on the tile's width or height,
// so the result is the same for every split of C into ranges (threads) and every kernel width.
#include "F32Internal.h"
#include <immintrin.h>
#include "VectorMath.h"
#include <string.h>

#define MR CK_F32_MR
#define NR CK_F32_NR

// MARK: - Detection

int ck_f32_gemm_available(void) { return ck_cpu_has_avx512(); }

int ck_f32_gemm_mr(void) { return MR; }
int ck_f32_gemm_nr(void) { return NR; }

// MARK: - Micro-kernel

// C[rows × cols] (+)= A panel (MR rows × kc) · B panel (NV·16 of its NR columns × kc).
// MR × NV accumulators; each k loads NV B vectors and broadcasts MR A values.
#define DEFINE_KERNEL(NV)                                                                          \
  CK_F32_TARGET static void kernel_##NV(                                                           \
    const float *a, const float *b, int kc, float *c, size_t ldc, int accumulate, int rows, int cols) { \
    __m512 acc[MR][NV];                                                                            \
    for (int i = 0; i < MR; i++)                                                                   \
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();                                \
    for (int p = 0; p < kc; p++, a += MR, b += NR) {                                               \
      __m512 bv[NV];                                                                               \
      for (int v = 0; v < NV; v++) bv[v] = _mm512_loadu_ps(b + 16 * v);                            \
      for (int i = 0; i < MR; i++) {                                                               \
        __m512 ai = _mm512_set1_ps(a[i]);                                                          \
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_fmadd_ps(ai, bv[v], acc[i][v]);            \
      }                                                                                            \
    }                                                                                              \
    if (rows == MR && cols == 16 * NV) {                                                           \
      for (int i = 0; i < MR; i++)                                                                 \
        for (int v = 0; v < NV; v++) {                                                             \
          float *cp = c + (size_t)i * ldc + 16 * v;                                                \
          __m512 x = accumulate ? _mm512_add_ps(_mm512_loadu_ps(cp), acc[i][v]) : acc[i][v];       \
          _mm512_storeu_ps(cp, x);                                                                 \
        }                                                                                          \
      return;                                                                                      \
    }                                                                                              \
    for (int i = 0; i < MR; i++) {                                                                 \
      if (i >= rows) break;                                                                        \
      for (int v = 0; v < NV; v++) {                                                               \
        __mmask16 m = ck_lanes_below(cols - 16 * v);                                                  \
        float *cp = c + (size_t)i * ldc + 16 * v;                                                  \
        __m512 x = accumulate ? _mm512_add_ps(_mm512_maskz_loadu_ps(m, cp), acc[i][v]) : acc[i][v];\
        _mm512_mask_storeu_ps(cp, m, x);                                                           \
      }                                                                                            \
    }                                                                                              \
  }

DEFINE_KERNEL(1)
DEFINE_KERNEL(2)
DEFINE_KERNEL(3)

/// One C tile with the narrowest kernel covering `cols` (whole skipped vectors are padding).
static inline void tile(const float *a, const float *b, int kc, float *c, size_t ldc, int accumulate, int rows, int cols) {
  if (cols > 32) kernel_3(a, b, kc, c, ldc, accumulate, rows, cols);
  else if (cols > 16) kernel_2(a, b, kc, c, ldc, accumulate, rows, cols);
  else kernel_1(a, b, kc, c, ldc, accumulate, rows, cols);
}

// MARK: - Driver

static ck_f32_view view_of(const ck_f32_operand *op, int isA, int m, int n, int k) {
  ck_f32_view v = {
    .data = op->data, .kind = op->kind, .ld = op->ld,
    .kcontig = isA ? !op->trans : op->trans, .extent = isA ? m : n, .depth = k,
  };
  return v;
}

static inline int min_int(int x, int y) { return x < y ? x : y; }

/// Rows of A per row block for a range of `rows × cols`: all of them when A is packed; MC for a
/// raw A, or up to MC_WIDE for a 16-bit one (a weight widened per call) when the range holds
/// a single B block — then A panels are read once after packing, so a taller block costs no
/// cache reuse, and it spares packing the B block (e.g. convolution columns) again per MC rows.
#define MC_WIDE 1024
static int a_block_rows(const ck_f32_operand *a, int rows, int cols) {
  if (a->packed) return rows;
  if ((a->kind == CK_BF16_SRC_F16 || a->kind == CK_BF16_SRC_BF16) && cols <= CK_F32_NC) return min_int(rows, MC_WIDE);
  return min_int(rows, CK_F32_MC);
}

size_t ck_f32_gemm_scratch_count(int rows, int cols, int k, int a_packed, int b_packed) {
  if (rows <= 0 || cols <= 0 || k <= 0) return 0;
  size_t kc = (size_t)min_int(CK_F32_KC, k), count = 0;
  if (!a_packed) count += (size_t)ck_f32_round_up(min_int(rows, CK_F32_MC), MR) * kc;
  if (!b_packed) count += (size_t)ck_f32_round_up(min_int(cols, CK_F32_NC), NR) * kc;
  return count;
}

size_t ck_f32_gemm_scratch_for(int rows, int cols, int k, const ck_f32_operand *a, const ck_f32_operand *b) {
  if (rows <= 0 || cols <= 0 || k <= 0) return 0;
  size_t kc = (size_t)min_int(CK_F32_KC, k), count = 0;
  if (!a->packed) count += (size_t)ck_f32_round_up(a_block_rows(a, rows, cols), MR) * kc;
  if (!b->packed) count += (size_t)ck_f32_round_up(min_int(cols, CK_F32_NC), NR) * kc;
  return count;
}

void ck_f32_gemm(
  int m, int n, int k, const ck_f32_operand *a, const ck_f32_operand *b,
  float *c, size_t ldc, int accumulate, int row0, int row1, int col0, int col1, float *scratch
) {
  if (row1 > m) row1 = m;
  if (col1 > n) col1 = n;
  if (row0 >= row1 || col0 >= col1) return;
  if (k <= 0) {
    if (!accumulate)
      for (int i = row0; i < row1; i++) memset(c + (size_t)i * ldc + col0, 0, sizeof(float) * (size_t)(col1 - col0));
    return;
  }
  const size_t mp = (size_t)ck_f32_round_up(m, MR), np = (size_t)ck_f32_round_up(n, NR);
  const ck_f32_view av = view_of(a, 1, m, n, k), bv = view_of(b, 0, m, n, k);
  const int mcMax = a_block_rows(a, row1 - row0, col1 - col0);
  float *aScratch = scratch, *bScratch = scratch;
  if (!a->packed) bScratch += (size_t)ck_f32_round_up(mcMax, MR) * min_int(CK_F32_KC, k);

  for (int ic = row0; ic < row1; ic += mcMax) {
    const int mc = min_int(mcMax, row1 - ic);
    for (int k0 = 0; k0 < k; k0 += CK_F32_KC) {
      const int kc = min_int(CK_F32_KC, k - k0), add = accumulate || k0 > 0;
      const float *aBlock;
      if (a->packed) {
        aBlock = a->packed + (size_t)k0 * mp + (size_t)ic * kc;
      } else {
        ck_f32_pack_block(&av, MR, ic, mc, k0, kc, aScratch);
        aBlock = aScratch;
      }
      for (int jc = col0; jc < col1; jc += CK_F32_NC) {
        const int nc = min_int(CK_F32_NC, col1 - jc);
        const float *bBlock;
        if (b->packed) {
          bBlock = b->packed + (size_t)k0 * np + (size_t)jc * kc;
        } else {
          ck_f32_pack_block(&bv, NR, jc, nc, k0, kc, bScratch);
          bBlock = bScratch;
        }
        for (int ir = 0; ir < mc; ir += MR) {
          const int rows = min_int(MR, mc - ir);
          for (int jr = 0; jr < nc; jr += NR) {
            float *ct = c + (size_t)(ic + ir) * ldc + (size_t)(jc + jr);
            tile(aBlock + (size_t)ir * kc, bBlock + (size_t)jr * kc, kc, ct, ldc, add, rows, min_int(NR, nc - jr));
          }
        }
      }
    }
  }
}
