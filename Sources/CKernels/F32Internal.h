// Private to CKernels: the AVX-512 FP32 kernel's panel geometry (F32Pack.c, F32Kernel.c,
// ConvPack.c).
#ifndef CK_F32_INTERNAL_H
#define CK_F32_INTERNAL_H
#include <stddef.h>
#include <stdint.h>

#include "CKernels.h"

// AVX-512 code is compiled per function; the rest of the package stays generic x86-64.
#define CK_F32_TARGET __attribute__((target("avx512f,avx512bw,avx512vl")))

// Micro-tile: MR rows of op(A) × NR columns of op(B) in 8 × 3 zmm accumulators (24 of 32
// registers; each k step loads 3 B vectors and broadcasts 8 A values for 24 FMAs).
#define CK_F32_MR 8
#define CK_F32_NR 48
// k values per cache block. The kernel keeps one A micro-panel (MR·KC·4 = 8 KB) in L1 and
// streams NR-wide B micro-panels (NR·KC·4 = 48 KB) from the L2-resident B block.
#define CK_F32_KC 256
// Rows of a per-call packed A block (MC·KC·4 = 128 KB) and columns of a B block
// (KC·NC·4 = 480 KB): together they fit the 1 MB L2 of Zen 4/5.
#define CK_F32_MC 128
#define CK_F32_NC 480

/// The kernel table's AVX-512 FP32 row (F32Kernel.c).
extern const ck_gemm_kernel ck_avx512_f32_kernel;

/// Packs fp32 panels of `width` (MR or NR) covering x ∈ [x0, x0 + count) (whole panels) for the
/// k block [k0, k0 + kc) into `dst` (floats): panel q at dst + q·width·kc, element (x, kk) at
/// kk·width + x − start. Out-of-range x or k read as zero.
void ck_f32_pack_block(const ck_gemm_view *v, int width, int x0, int count, int k0, int kc, void *dst);

/// Implicit im2col: B panels (NR columns = output pixels) of a convolution's column matrix,
/// k = (channel, ky, kx), straight from the image. fp32 panels (layout of ck_f32_pack_block) or
/// bf16 k-pair panels (layout of ck_bf16_pack_block, kc even), bit-identical to building the
/// column matrix and packing it.
void ck_conv_pack_f32(const ck_conv_source *s, int x0, int count, int k0, int kc, float *dst);
void ck_conv_pack_bf16(const ck_conv_source *s, int x0, int count, int k0, int kc, uint32_t *dst);

static inline int ck_f32_round_up(int x, int m) { return (x + m - 1) / m * m; }

#endif
