// BF16 GEMM with fp32 accumulation: GotoBLAS-style blocking around an 8 × 48 `vdpbf16ps`
// micro-kernel. Packing lives in BF16Pack.c, the panel geometry in BF16Internal.h.
//
// Loop nest for one range of C (rows [row0, row1) × columns [col0, col1)):
//   for each row block of A: MC rows when A is fp32, all rows when A is packed
//     for each KC-deep k block
//       A block = the packed A panels in place, or the fp32 rows packed into scratch (L2)
//       for each NC-column block of B
//         B block = the packed B panels in place, or the fp32 columns packed into scratch
//         A fp32:  for each NR-column B panel (in L1) × each MR-row A panel of the block (L2)
//         A packed: for each MR-row A panel (in L1) × each NR-column B panel of the block (L2)
//           micro-kernel: C tile (+)= A panel · B panel over the k block
// so that the operand packed per call is the one kept in L2 and the other streams from memory
// (a packed weight of 4096 rows is 3 MB per k block: it cannot be the L2-resident one).
#include "BF16Internal.h"
#include "CKernels.h"
#include <immintrin.h>
#include "VectorMath.h"
#include <string.h>

#define MR CK_BF16_MR
#define NR CK_BF16_NR

// MARK: - Detection

int ck_bf16_gemm_available(void) { return ck_cpu_has_avx512_bf16(); }

int ck_bf16_gemm_mr(void) { return MR; }
int ck_bf16_gemm_nr(void) { return NR; }

// MARK: - Micro-kernel

// C[rows × cols] (+)= A panel (MR rows, `pairs` k-pairs) · B panel (NV·16 of its NR columns).
// 8 × NV accumulators; each k-pair loads NV B vectors and broadcasts 8 A k-pairs. The loops over
// i and v have constant trip counts and unroll fully so that acc[][] lives in zmm registers.
#define DEFINE_KERNEL(NV)                                                                          \
  CK_BF16_TARGET static void kernel_##NV(                                                          \
    const uint32_t *a, const uint32_t *b, int pairs, float *c, size_t ldc, int accumulate,         \
    int rows, int cols) {                                                                          \
    __m512 acc[MR][NV];                                                                            \
    for (int i = 0; i < MR; i++)                                                                   \
      for (int v = 0; v < NV; v++) acc[i][v] = _mm512_setzero_ps();                                \
    for (int p = 0; p < pairs; p++, a += MR, b += NR) {                                            \
      __m512bh bv[NV];                                                                             \
      for (int v = 0; v < NV; v++) bv[v] = (__m512bh)_mm512_loadu_si512(b + 16 * v);               \
      for (int i = 0; i < MR; i++) {                                                               \
        __m512bh ai = (__m512bh)_mm512_set1_epi32((int)a[i]);                                      \
        for (int v = 0; v < NV; v++) acc[i][v] = _mm512_dpbf16_ps(acc[i][v], ai, bv[v]);           \
      }                                                                                            \
    }                                                                                              \
    if (rows == MR && cols == 16 * NV) {                                                           \
      for (int i = 0; i < MR; i++)                                                                 \
        for (int v = 0; v < NV; v++) {                                                             \
          float *cp = c + (size_t)i * ldc + 16 * v;                                                \
          __m512 x = accumulate ? _mm512_add_ps(acc[i][v], _mm512_loadu_ps(cp)) : acc[i][v];       \
          _mm512_storeu_ps(cp, x);                                                                 \
        }                                                                                          \
      return;                                                                                      \
    }                                                                                              \
    for (int i = 0; i < MR; i++) {                                                                 \
      if (i >= rows) break;                                                                        \
      for (int v = 0; v < NV; v++) {                                                               \
        __mmask16 m = ck_lanes_below(cols - 16 * v);                                                  \
        float *cp = c + (size_t)i * ldc + 16 * v;                                                  \
        __m512 x = accumulate ? _mm512_add_ps(acc[i][v], _mm512_maskz_loadu_ps(m, cp)) : acc[i][v];\
        _mm512_mask_storeu_ps(cp, m, x);                                                           \
      }                                                                                            \
    }                                                                                              \
  }

DEFINE_KERNEL(1)
DEFINE_KERNEL(2)
DEFINE_KERNEL(3)

/// One C tile: the narrowest kernel that covers `cols` (a B panel's padding beyond the matrix
/// is zero, so skipping whole vectors of it changes nothing).
static inline void tile(
  const uint32_t *a, const uint32_t *b, int pairs, float *c, size_t ldc, int accumulate, int rows, int cols
) {
  if (cols > 32) kernel_3(a, b, pairs, c, ldc, accumulate, rows, cols);
  else if (cols > 16) kernel_2(a, b, pairs, c, ldc, accumulate, rows, cols);
  else kernel_1(a, b, pairs, c, ldc, accumulate, rows, cols);
}

// MARK: - Driver

static ck_bf16_view view_of(const ck_bf16_operand *op, int isA, int m, int n, int k) {
  ck_bf16_view v = {
    .data = op->data, .kind = op->kind, .ld = op->ld,
    .kcontig = isA ? !op->trans : op->trans, .extent = isA ? m : n, .depth = k,
  };
  return v;
}

static inline int min_int(int x, int y) { return x < y ? x : y; }

size_t ck_bf16_gemm_scratch_count(int rows, int cols, int k, int a_packed, int b_packed) {
  if (rows <= 0 || cols <= 0 || k <= 0) return 0;
  size_t kc = (size_t)min_int(CK_BF16_KC, ck_bf16_round_up(k, 2));
  size_t count = 0;
  if (!a_packed) count += (size_t)ck_bf16_round_up(min_int(rows, CK_BF16_MC), MR) * kc;
  if (!b_packed) count += (size_t)ck_bf16_round_up(min_int(cols, CK_BF16_NC), NR) * kc;
  return count;
}

static void clear_range(float *c, size_t ldc, int row0, int row1, int col0, int col1) {
  for (int i = row0; i < row1; i++) memset(c + (size_t)i * ldc + col0, 0, sizeof(float) * (size_t)(col1 - col0));
}

void ck_bf16_gemm(
  int m, int n, int k, const ck_bf16_operand *a, const ck_bf16_operand *b,
  float *c, size_t ldc, int accumulate, int row0, int row1, int col0, int col1, uint16_t *scratch
) {
  if (row1 > m) row1 = m;
  if (col1 > n) col1 = n;
  if (row0 >= row1 || col0 >= col1) return;
  if (k <= 0) {
    if (!accumulate) clear_range(c, ldc, row0, row1, col0, col1);
    return;
  }
  const int kp = ck_bf16_round_up(k, 2), kcMax = CK_BF16_KC;
  const size_t mp = (size_t)ck_bf16_round_up(m, MR), np = (size_t)ck_bf16_round_up(n, NR);
  const ck_bf16_view av = view_of(a, 1, m, n, k), bv = view_of(b, 0, m, n, k);
  // A fp32: pack MC-row blocks that stay in L2; each B micro-panel sits in L1 while the block's
  // A panels stream past it. A packed: one block of all rows; then NC-column B blocks stay in L2
  // and each A micro-panel sits in L1 while the block's B panels stream past it.
  const int aResident = !a->packed;
  const int mcMax = a->packed ? row1 - row0 : CK_BF16_MC;
  const int ncMax = CK_BF16_NC;
  uint32_t *aScratch = (uint32_t *)scratch;
  uint32_t *bScratch = aScratch;
  if (!a->packed) {  // same sizes as ck_bf16_gemm_scratch_count
    bScratch += (size_t)ck_bf16_round_up(min_int(row1 - row0, CK_BF16_MC), MR) * min_int(kcMax, kp) / 2;
  }

  for (int ic = row0; ic < row1; ic += mcMax) {
    const int mc = min_int(mcMax, row1 - ic);
    for (int k0 = 0; k0 < kp; k0 += kcMax) {
      const int kc = min_int(kcMax, kp - k0), pairs = kc / 2;
      const int add = accumulate || k0 > 0;
      const uint32_t *aBlock;
      if (a->packed) {
        aBlock = (const uint32_t *)(a->packed + (size_t)k0 * mp + (size_t)ic * kc);
      } else {
        ck_bf16_pack_block(&av, MR, ic, mc, k0, kc, aScratch);
        aBlock = aScratch;
      }
      for (int jc = col0; jc < col1; jc += ncMax) {
        const int nc = min_int(ncMax, col1 - jc);
        const uint32_t *bBlock;
        if (b->packed) {
          bBlock = (const uint32_t *)(b->packed + (size_t)k0 * np + (size_t)jc * kc);
        } else {
          ck_bf16_pack_block(&bv, NR, jc, nc, k0, kc, bScratch);
          bBlock = bScratch;
        }
        if (aResident) {
          for (int jr = 0; jr < nc; jr += NR) {
            const int cols = min_int(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
              float *ct = c + (size_t)(ic + ir) * ldc + (size_t)(jc + jr);
              tile(aBlock + (size_t)ir * pairs, bBlock + (size_t)jr * pairs, pairs, ct, ldc, add, min_int(MR, mc - ir), cols);
            }
          }
        } else {
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = min_int(MR, mc - ir);
            for (int jr = 0; jr < nc; jr += NR) {
              float *ct = c + (size_t)(ic + ir) * ldc + (size_t)(jc + jr);
              tile(aBlock + (size_t)ir * pairs, bBlock + (size_t)jr * pairs, pairs, ct, ldc, add, rows, min_int(NR, nc - jr));
            }
          }
        }
      }
    }
  }
}
