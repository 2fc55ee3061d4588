// Private to CKernels: the packed GEMMs' one blocking driver (GotoBLAS / BLIS), the loop nest
// over packed panels that every micro-kernel shares. A kernel row (ck_gemm_kernel: F32Kernel.c,
// BF16Kernel.c) supplies the element type, the tile and block sizes, the packing and the
// micro-kernel, and instantiates the driver once with itself (its `gemm`): the row is a
// constant, so its sizes fold into the loops and its micro-kernel is a direct call — an
// indirect call per tile cost 2–10% on small-k products (attention's k = 40).
//
// Loop nest for one range of C (rows [row0, row1) × columns [col0, col1)):
//   for each row block of A: MC rows when A is raw (up to CK_GEMM_MC_WIDE for a 16-bit A), all rows when packed
//     for each KC-deep k block (in increasing k)
//       A block = the packed A panels in place, or the raw rows packed into scratch (L2)
//       for each NC-column block of B
//         B block = the packed B panels in place, or the raw / convolution columns packed (L2)
//         for each MR-row A micro-panel × each NR-column B micro-panel (which of the two is
//         outer, i.e. stays in L1, is the kernel's b_panel_in_l1)
//           micro-kernel: C tile (+)= A panel · B panel over the k block
//
// Determinism: a C element's value is (((C₀ +) S₀ + S₁) + …) where S_b is the kernel's sum
// over k block b, started from zero in its own accumulator lane. Blocks start at multiples of
// KC from k = 0 and a lane's sum does not depend on the tile's width or height, so the result
// is the same for every split of C into ranges (threads).
#ifndef CK_GEMM_DRIVER_H
#define CK_GEMM_DRIVER_H
#include "CKernels.h"
#include <string.h>

static inline int ck_gemm_min(int x, int y) { return x < y ? x : y; }
static inline int ck_gemm_round_up(int x, int m) { return (x + m - 1) / m * m; }

static inline ck_gemm_view ck_gemm_view_of(const ck_gemm_operand *op, int isA, int m, int n, int k) {
  ck_gemm_view v = {
    .data = op->data, .kind = op->kind, .ld = op->ld,
    .kcontig = isA ? !op->trans : op->trans, .extent = isA ? m : n, .depth = k,
  };
  return v;
}

/// Rows of A per row block for a range of `rows × cols`: all of them when A is packed; MC for a
/// raw A, or up to CK_GEMM_MC_WIDE for a 16-bit one (a weight widened per call) when the range holds
/// a single B block — then A panels are read once after packing, so a taller block costs no
/// cache reuse, and it spares packing the B block (e.g. convolution columns) again per MC rows.
#define CK_GEMM_MC_WIDE 1024
static inline int ck_gemm_a_block_rows(const ck_gemm_kernel *kernel, const ck_gemm_operand *a, int rows, int cols) {
  if (a->packed) return rows;
  if ((a->kind == CK_GEMM_SRC_F16 || a->kind == CK_GEMM_SRC_BF16) && cols <= kernel->nc) return ck_gemm_min(rows, CK_GEMM_MC_WIDE);
  return ck_gemm_min(rows, kernel->mc);
}

/// ck_gemm for one kernel row; call it with the row itself (a constant) so that it folds in.
static inline __attribute__((always_inline)) void ck_gemm_blocked(
  const ck_gemm_kernel *kernel, int m, int n, int k, const ck_gemm_operand *a, const ck_gemm_operand *b,
  float *c, size_t ldc, int accumulate, int row0, int row1, int col0, int col1, void *scratch
) {
  if (row1 > m) row1 = m;
  if (col1 > n) col1 = n;
  if (row0 >= row1 || col0 >= col1) return;
  if (k <= 0) {
    if (!accumulate)
      for (int i = row0; i < row1; i++) memset(c + (size_t)i * ldc + col0, 0, sizeof(float) * (size_t)(col1 - col0));
    return;
  }
  const int MR = kernel->mr, NR = kernel->nr, KC = kernel->kc, NC = kernel->nc;
  const size_t bytes = (size_t)kernel->element_bytes;
  const int kp = ck_gemm_round_up(k, kernel->k_group);
  const size_t mp = (size_t)ck_gemm_round_up(m, MR), np = (size_t)ck_gemm_round_up(n, NR);
  const ck_gemm_view av = ck_gemm_view_of(a, 1, m, n, k), bv = ck_gemm_view_of(b, 0, m, n, k);
  const int mcMax = ck_gemm_a_block_rows(kernel, a, row1 - row0, col1 - col0);
  // With a raw A its block is the L2-resident operand; a kernel whose B micro-panel fits L1
  // then keeps it there while the block's A panels stream past.
  const int bOuter = kernel->b_panel_in_l1 && !a->packed;
  char *aScratch = scratch, *bScratch = scratch;
  if (!a->packed) bScratch += (size_t)ck_gemm_round_up(mcMax, MR) * (size_t)ck_gemm_min(KC, kp) * bytes;

  for (int ic = row0; ic < row1; ic += mcMax) {
    const int mc = ck_gemm_min(mcMax, row1 - ic);
    for (int k0 = 0; k0 < kp; k0 += KC) {
      const int kc = ck_gemm_min(KC, kp - k0), add = accumulate || k0 > 0;
      const size_t panelK = (size_t)kc * bytes;  // bytes per row (A) or column (B) of a panel
      const char *aBlock;
      if (a->packed) {
        aBlock = (const char *)a->packed + ((size_t)k0 * mp + (size_t)ic * kc) * bytes;
      } else {
        kernel->pack_a(&av, MR, ic, mc, k0, kc, aScratch);
        aBlock = aScratch;
      }
      for (int jc = col0; jc < col1; jc += NC) {
        const int nc = ck_gemm_min(NC, col1 - jc);
        const char *bBlock;
        if (b->packed) {
          bBlock = (const char *)b->packed + ((size_t)k0 * np + (size_t)jc * kc) * bytes;
        } else {
          kernel->pack_b(&bv, NR, jc, nc, k0, kc, bScratch);
          bBlock = bScratch;
        }
        float *cBlock = c + (size_t)ic * ldc + (size_t)jc;
        if (bOuter) {
          for (int jr = 0; jr < nc; jr += NR) {
            const int cols = ck_gemm_min(NR, nc - jr);
            for (int ir = 0; ir < mc; ir += MR) {
              kernel->tile(aBlock + (size_t)ir * panelK, bBlock + (size_t)jr * panelK, kc,
                           cBlock + (size_t)ir * ldc + jr, ldc, add, ck_gemm_min(MR, mc - ir), cols);
            }
          }
        } else {
          for (int ir = 0; ir < mc; ir += MR) {
            const int rows = ck_gemm_min(MR, mc - ir);
            for (int jr = 0; jr < nc; jr += NR) {
              kernel->tile(aBlock + (size_t)ir * panelK, bBlock + (size_t)jr * panelK, kc,
                           cBlock + (size_t)ir * ldc + jr, ldc, add, rows, ck_gemm_min(NR, nc - jr));
            }
          }
        }
      }
    }
  }
}

/// Defines `static void NAME(…)`, the row ROW's `gemm`: ck_gemm_blocked with ROW folded in.
#define CK_GEMM_DEFINE_DRIVER(NAME, ROW)                                                                    \
  static void NAME(                                                                                         \
    int m, int n, int k, const ck_gemm_operand *a, const ck_gemm_operand *b, float *c, size_t ldc, int accumulate, \
    int row0, int row1, int col0, int col1, void *scratch) {                                                \
    ck_gemm_blocked(&ROW, m, n, k, a, b, c, ldc, accumulate, row0, row1, col0, col1, scratch);              \
  }

#endif
