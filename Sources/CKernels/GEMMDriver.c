// The packed GEMMs' entry points: each product runs its kernel row's instantiation of the one
// blocking driver (GEMMDriver.h); scratch sizes and whole-matrix packing follow the row's sizes.
#include "GEMMDriver.h"

void ck_gemm(
  const ck_gemm_kernel *kernel, int m, int n, int k, const ck_gemm_operand *a, const ck_gemm_operand *b,
  float *c, size_t ldc, int accumulate, int row0, int row1, int col0, int col1, void *scratch
) {
  kernel->gemm(m, n, k, a, b, c, ldc, accumulate, row0, row1, col0, col1, scratch);
}

size_t ck_gemm_scratch_bytes(
  const ck_gemm_kernel *kernel, int rows, int cols, int k, const ck_gemm_operand *a, const ck_gemm_operand *b
) {
  if (rows <= 0 || cols <= 0 || k <= 0) return 0;
  size_t kc = (size_t)ck_gemm_min(kernel->kc, ck_gemm_round_up(k, kernel->k_group)), count = 0;
  if (!a->packed) count += (size_t)ck_gemm_round_up(ck_gemm_a_block_rows(kernel, a, rows, cols), kernel->mr) * kc;
  if (!b->packed) count += (size_t)ck_gemm_round_up(ck_gemm_min(cols, kernel->nc), kernel->nr) * kc;
  return count * (size_t)kernel->element_bytes;
}

// MARK: - Whole-matrix packing

/// The panel width and the (x, k) extents of side `side` of a logical `rows × cols` operand.
static void side_geometry(const ck_gemm_kernel *kernel, int side, int rows, int cols, int *width, int *x, int *k) {
  int isA = side == CK_GEMM_SIDE_A;
  *width = isA ? kernel->mr : kernel->nr;
  *x = isA ? rows : cols;  // A: rows = m, cols = k. B: rows = k, cols = n.
  *k = isA ? cols : rows;
}

size_t ck_gemm_packed_count(const ck_gemm_kernel *kernel, int side, int rows, int cols) {
  if (rows <= 0 || cols <= 0) return 0;
  int width, x, k;
  side_geometry(kernel, side, rows, cols, &width, &x, &k);
  return (size_t)ck_gemm_round_up(x, width) * (size_t)ck_gemm_round_up(k, kernel->k_group);
}

int ck_gemm_panel_count(const ck_gemm_kernel *kernel, int side, int rows, int cols) {
  int width, x, k;
  side_geometry(kernel, side, rows, cols, &width, &x, &k);
  return x <= 0 ? 0 : (x + width - 1) / width;
}

void ck_gemm_pack_panels(
  const ck_gemm_kernel *kernel, int side, int kind, const void *src, size_t ld, int trans, int rows, int cols,
  int panel0, int panel1, void *dst
) {
  if (rows <= 0 || cols <= 0 || panel0 >= panel1) return;
  int isA = side == CK_GEMM_SIDE_A, width, x, k;
  side_geometry(kernel, side, rows, cols, &width, &x, &k);
  ck_gemm_view v = { .data = src, .kind = kind, .ld = ld, .kcontig = isA ? !trans : trans, .extent = x, .depth = k };
  const size_t xp = (size_t)ck_gemm_round_up(x, width), bytes = (size_t)kernel->element_bytes;
  const int kp = ck_gemm_round_up(k, kernel->k_group);
  for (int k0 = 0; k0 < kp; k0 += kernel->kc) {
    int kc = ck_gemm_min(kernel->kc, kp - k0);
    // Block k0 occupies elements [k0·xp, (k0 + kc)·xp); its panel q starts q·width·kc further.
    char *block = (char *)dst + ((size_t)k0 * xp + (size_t)panel0 * width * kc) * bytes;
    (isA ? kernel->pack_a : kernel->pack_b)(&v, width, panel0 * width, (panel1 - panel0) * width, k0, kc, block);
  }
}
