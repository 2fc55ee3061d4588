// The AVX-512 FP32 row of the GEMM kernel table: an 8 × 48 FMA micro-kernel over fp32 panels
// (packed by F32Pack.c, convolution columns by ConvPack.c). The blocking is GEMMDriver.h's.
#include "F32Internal.h"
#include "GEMMDriver.h"
#include "TileStore.h"
#include <immintrin.h>

#define MR CK_F32_MR
#define NR CK_F32_NR

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
    CK_TILE_STORE(MR, NV, acc, c, ldc, accumulate, rows, cols);                                    \
  }

DEFINE_KERNEL(1)
DEFINE_KERNEL(2)
DEFINE_KERNEL(3)

/// One C tile with the narrowest kernel covering `cols` (whole skipped vectors are padding).
static inline void tile(const void *a, const void *b, int kc, float *c, size_t ldc, int accumulate, int rows, int cols) {
  if (cols > 32) kernel_3(a, b, kc, c, ldc, accumulate, rows, cols);
  else if (cols > 16) kernel_2(a, b, kc, c, ldc, accumulate, rows, cols);
  else kernel_1(a, b, kc, c, ldc, accumulate, rows, cols);
}

/// The blocking driver with this row folded in.
CK_GEMM_DEFINE_DRIVER(gemm, ck_avx512_f32_kernel)

const ck_gemm_kernel ck_avx512_f32_kernel = {
  .name = "AVX-512 FP32", .element = CK_GEMM_F32, .element_bytes = 4,
  .mr = MR, .nr = NR, .k_group = 1, .kc = CK_F32_KC, .mc = CK_F32_MC, .nc = CK_F32_NC,
  .b_panel_in_l1 = 0,  // a 48 KB B micro-panel does not fit a 32 KB L1d: the 8 KB A panel stays
  .pack_a = ck_f32_pack_block, .pack_b = ck_f32_pack_block, .tile = tile,
  .available = ck_cpu_has_avx512, .gemm = gemm,
};
