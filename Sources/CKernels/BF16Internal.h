// Private to CKernels: the AVX-512 BF16 kernel's panel geometry (BF16Pack.c, BF16Kernel.c,
// ConvPack.c).
#ifndef CK_BF16_INTERNAL_H
#define CK_BF16_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include "CKernels.h"

// The AVX-512 code is compiled per function so that the rest of the package stays generic x86-64.
#define CK_BF16_TARGET __attribute__((target("avx512f,avx512bw,avx512vl,avx512bf16")))

// Micro-tile: MR rows of op(A) × NR columns of op(B) held in 8 × 3 zmm accumulators.
#define CK_BF16_MR 8
#define CK_BF16_NR 48
// Depth of one cache block, KC (k values; even so that every block holds whole k-pairs): an
// NR-wide B micro-panel of KC k-values is NR·KC·2 = 24 KB and stays in a 32 KB L1d (Zen 4) as
// well as a 48 KB one (Zen 5) while the kernel walks A panels past it. On the Zen 5 test machine
// KC 384 (36 KB) was within 2% of 256 on every benchmark shape (2048³: 445 vs 440 GFLOP/s on
// one core), not worth a layout that depends on the CPU.
#define CK_BF16_KC 256
// Rows of a per-call packed A block (MC·KC·2 = 128 KB, L2-resident) and columns of a B block
// (KC·NC·2 = 264 KB, L2-resident).
#define CK_BF16_MC 256
#define CK_BF16_NC 528

/// The kernel table's AVX-512 BF16 row (BF16Kernel.c).
extern const ck_gemm_kernel ck_avx512_bf16_kernel;

/// Packs bf16 k-pair panels of width `width` (MR or NR) covering x ∈ [x0, x0 + count) for the
/// k block [k0, k0 + kc) (kc even) into `dst` (uint32 k-pairs): panel q starts at dst + q·width·kc/2,
/// and within a panel pair p of element x is at p·width + (x − panel start).
/// Out-of-range x or k read as zero.
void ck_bf16_pack_block(const ck_gemm_view *v, int width, int x0, int count, int k0, int kc, void *dst);

#include <immintrin.h>
/// fp32 lanes → their bf16 (round to nearest even) in the high 16 bits of each lane (shared
/// by BF16Pack.c and ConvPack.c so that both round identically).
CK_BF16_TARGET static inline __attribute__((always_inline)) __m512i ck_bf16_round_high(__m512 x) {
  __m512i bits = _mm512_castps_si512(x);
  __m512i lsb = _mm512_and_si512(_mm512_srli_epi32(bits, 16), _mm512_set1_epi32(1));
  __m512i rounded = _mm512_add_epi32(bits, _mm512_add_epi32(lsb, _mm512_set1_epi32(0x7fff)));
  __mmask16 nan = _mm512_cmpgt_epu32_mask(
    _mm512_and_si512(bits, _mm512_set1_epi32(0x7fffffff)), _mm512_set1_epi32(0x7f800000));
  return _mm512_mask_mov_epi32(rounded, nan, _mm512_or_si512(bits, _mm512_set1_epi32(0x00400000)));
}

static inline int ck_bf16_round_up(int x, int m) { return (x + m - 1) / m * m; }

#endif
