// The AVX-512 BF16 row of the GEMM kernel table: an 8 × 48 `vdpbf16ps` micro-kernel over bf16
// k-pair panels (packed by BF16Pack.c), fp32 accumulation. The blocking is GEMMDriver.h's.
#include "BF16Internal.h"
#include "GEMMDriver.h"
#include "TileStore.h"
#include <immintrin.h>

#define MR CK_BF16_MR
#define NR CK_BF16_NR

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
    CK_TILE_STORE(MR, NV, acc, c, ldc, accumulate, rows, cols);                                    \
  }

DEFINE_KERNEL(1)
DEFINE_KERNEL(2)
DEFINE_KERNEL(3)

/// One C tile (`kc` even): the narrowest kernel that covers `cols` (a B panel's padding beyond
/// the matrix is zero, so skipping whole vectors of it changes nothing).
static inline void tile(const void *a, const void *b, int kc, float *c, size_t ldc, int accumulate, int rows, int cols) {
  if (cols > 32) kernel_3(a, b, kc / 2, c, ldc, accumulate, rows, cols);
  else if (cols > 16) kernel_2(a, b, kc / 2, c, ldc, accumulate, rows, cols);
  else kernel_1(a, b, kc / 2, c, ldc, accumulate, rows, cols);
}

/// The blocking driver with this row folded in.
CK_GEMM_DEFINE_DRIVER(gemm, ck_avx512_bf16_kernel)

const ck_gemm_kernel ck_avx512_bf16_kernel = {
  .name = "AVX-512 BF16", .element = CK_GEMM_BF16, .element_bytes = 2,
  .mr = MR, .nr = NR, .k_group = 2, .kc = CK_BF16_KC, .mc = CK_BF16_MC, .nc = CK_BF16_NC,
  .b_panel_in_l1 = 1,  // a 24 KB B micro-panel fits a 32 KB L1d
  .pack_a = ck_bf16_pack_block, .pack_b = ck_bf16_pack_block, .tile = tile,
  .available = ck_cpu_has_avx512_bf16, .gemm = gemm,
};
