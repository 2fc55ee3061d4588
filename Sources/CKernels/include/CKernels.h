#ifndef CKERNELS_H
#define CKERNELS_H
#include <stddef.h>
#include <stdint.h>

/// IEEE 754 binary16 → binary32, exact for every input (subnormals, inf, NaN).
void ck_f16_to_f32(const uint16_t *src, float *dst, size_t count);
/// bfloat16 → binary32 (a shift: exact).
void ck_bf16_to_f32(const uint16_t *src, float *dst, size_t count);
/// binary32 → bfloat16, round to nearest even (NaN stays NaN).
void ck_f32_to_bf16(const float *src, uint16_t *dst, size_t count);
/// binary32 → binary16, round to nearest even.
void ck_f32_to_f16(const float *src, uint16_t *dst, size_t count);

/// 1 when the CPU and OS run AVX-512 F/BW/VL (and, for the second, AVX512_BF16); 0 when not
/// or when SDEDIT_DISABLE_AVX512 is set (to run the OpenBLAS/scalar fallbacks anywhere).
int ck_cpu_has_avx512(void);
int ck_cpu_has_avx512_bf16(void);

/// Softmax of each of `rows` rows of `length` floats (row r starts at x + r·stride), in place,
/// of the scores multiplied by `scale`. Vectorised exp (≈ 1 ulp); AVX-512 when the CPU has it.
void ck_softmax_rows(float *x, size_t rows, size_t length, size_t stride, float scale);

/// Mean and biased variance of `n` floats (two passes; float vector sums per 1024-element block,
/// totals in double).
void ck_mean_variance(const float *x, size_t n, double *mean, double *variance);
/// y[i] = act(x[i]·scale + shift) for `n` floats; `activation` 0 = none, 1 = SiLU. y may be x.
void ck_scale_shift_activation(const float *x, float *y, size_t n, float scale, float shift, int activation);

/// Exact (erf) GELU of `n` floats (relative error ≈ 1e-7 on both tails); y may be x.
void ck_gelu(const float *x, float *y, size_t n);
/// GEGLU of `rows` rows of 2·inner floats [h | g]: out[r][i] = h[i]·gelu(g[i]).
void ck_geglu(const float *hg, float *out, size_t rows, size_t inner);

/// glibc: serve blocks up to `max_block_bytes` from the heap (not fresh mmaps) and never trim
/// it, so freed activation buffers are reused instead of page-faulted in again. No-op elsewhere.
void ck_keep_freed_blocks(size_t max_block_bytes);

// Asks the kernel to back [pointer, pointer + bytes) with transparent huge pages (Linux
// madvise(MADV_HUGEPAGE); a no-op elsewhere or where THP is disabled). pointer: 2 MiB aligned.
void ck_advise_huge_pages(void *pointer, size_t bytes);

// MARK: - BF16 GEMM (BF16Pack.c, BF16GEMM.c)
//
// C[m×n] = op(A)[m×k] · op(B)[k×n] (+ C) with bf16 operands and fp32 accumulation, on CPUs with
// AVX512_BF16 (check ck_bf16_gemm_available() first; every other entry point assumes it).
// Operands are packed into bf16 "k-pair panels": A into panels of MR rows, B into panels of NR
// columns, in k blocks of KC; a packed matrix is made once (weights) and reused by every call.

/// Which operand a matrix is packed as.
#define CK_BF16_SIDE_A 0
#define CK_BF16_SIDE_B 1
/// Element type of a source matrix.
#define CK_BF16_SRC_F32 0
#define CK_BF16_SRC_BF16 1
#define CK_BF16_SRC_F16 2

/// 1 when the CPU and OS support AVX-512 F/BW/VL + BF16 (cpuid + xgetbv), else 0.
int ck_bf16_gemm_available(void);
/// Panel widths: rows per A panel (MR), columns per B panel (NR).
int ck_bf16_gemm_mr(void);
int ck_bf16_gemm_nr(void);

/// uint16 elements of a packed matrix. `rows × cols` is the logical op(A) (m × k, side A) or
/// op(B) (k × n, side B), whatever the stored layout.
size_t ck_bf16_packed_count(int side, int rows, int cols);
/// Number of panels (MR rows of A or NR columns of B) of a packed matrix.
int ck_bf16_panel_count(int side, int rows, int cols);
/// Packs panels [panel0, panel1) of the logical `rows × cols` operand into `dst` (sized by
/// ck_bf16_packed_count; calls for disjoint panel ranges may run in parallel). `src` holds
/// elements of `kind`; row-major with leading dimension `ld`, stored transposed when `trans`
/// (then it is `cols × rows`). fp32 and fp16 round to bf16 to nearest even.
void ck_bf16_pack_panels(
  int side, int kind, const void *src, size_t ld, int trans, int rows, int cols,
  int panel0, int panel1, uint16_t *dst);

/// One GEMM operand: a packed matrix (`packed` non-NULL, made for this side and shape) or a raw
/// matrix that the GEMM packs block by block into scratch (`data`, `kind`, `ld`, `trans` as for
/// ck_bf16_pack_panels).
typedef struct {
  const uint16_t *packed;
  const void *data;
  int kind;
  size_t ld;
  int trans;
} ck_bf16_operand;

/// uint16 elements of scratch that ck_bf16_gemm needs for a `rows × cols` range of C.
size_t ck_bf16_gemm_scratch_count(int rows, int cols, int k, int a_packed, int b_packed);
/// C rows [row0, row1) × columns [col0, col1) of op(A)·op(B); `c` points at C(0, 0) (row-major,
/// leading dimension ldc). `accumulate` 0: C = A·B; 1: C += A·B. row0 must be a multiple of MR
/// when A is packed, col0 a multiple of NR when B is packed. Single-threaded and re-entrant:
/// disjoint ranges may run in parallel, each with its own `scratch`.
void ck_bf16_gemm(
  int m, int n, int k, const ck_bf16_operand *a, const ck_bf16_operand *b,
  float *c, size_t ldc, int accumulate, int row0, int row1, int col0, int col1, uint16_t *scratch);


// MARK: - FP32 GEMM and implicit-im2col convolution operands (F32Pack.c, F32GEMM.c, ConvPack.c)
//
// C[m×n] = op(A)[m×k] · op(B)[k×n] (+ C) in fp32 on CPUs with AVX-512 F (check
// ck_f32_gemm_available() first). Same design as the BF16 GEMM: A in panels of MR rows, B in
// panels of NR columns, k blocks of KC, fp32 values (no rounding: packing is a copy).
// Each C element's k-sum runs in one fixed order (k blocks in order, k ascending within a
// block, one FMA chain per element) whatever range of C a call computes.

/// Element kind of an operand that is a convolution's column matrix, read from the image: the
/// operand's `data` points at a ck_conv_source (B side, not transposed). Accepted by both the
/// fp32 and the bf16 GEMM (ck_bf16_operand.kind / ck_f32_operand.kind).
#define CK_GEMM_SRC_CONV 3

/// One image of a 2-D convolution (NCHW, groups 1) seen as its im2col matrix
/// [channels·kernel_h·kernel_w × out_h·out_w]: row (c, ky, kx), column (oy, ox) holds
/// image[c][oy·stride + ky − pad_top][ox·stride + kx − pad_left], zero outside the image.
/// `upsample` 2 convolves the image's nearest-neighbour 2× enlargement instead (coordinates and
/// bounds above are then those of the 2·height × 2·width image; pixel (y, x) is image[y/2][x/2]),
/// without materialising it; 1 (or 0) is the image itself.
typedef struct {
  const float *image;
  int channels, height, width;
  int kernel_h, kernel_w, stride, pad_top, pad_left;
  int out_h, out_w;
  int upsample;
  /// When not NULL: each input value v of channel c is read as act(v·norm_scale[c] +
  /// norm_shift[c]) — a GroupNorm (and SiLU when norm_silu) fused into the packing, exactly as
  /// ck_scale_shift_activation computes it; padding stays 0.
  const float *norm_scale, *norm_shift;
  int norm_silu;
} ck_conv_source;

/// 1 when the CPU and OS support AVX-512 F/BW/VL (cpuid + xgetbv), else 0.
int ck_f32_gemm_available(void);
int ck_f32_gemm_mr(void);
int ck_f32_gemm_nr(void);
/// Floats of a packed matrix (logical rows × cols as for ck_bf16_packed_count).
size_t ck_f32_packed_count(int side, int rows, int cols);
int ck_f32_panel_count(int side, int rows, int cols);
/// Packs panels [panel0, panel1) of the logical `rows × cols` fp32 operand (stored row-major,
/// leading dimension `ld`, transposed when `trans`) into `dst`.
void ck_f32_pack_panels(int side, const float *src, size_t ld, int trans, int rows, int cols, int panel0, int panel1, float *dst);
/// The same from a source of element `kind` (CK_BF16_SRC_F32, _F16 or _BF16: 16-bit bits are
/// widened exactly).
void ck_f32_pack_panels_from(
  int side, int kind, const void *src, size_t ld, int trans, int rows, int cols, int panel0, int panel1, float *dst);

/// One fp32 GEMM operand: packed (`packed` non-NULL), raw memory of `kind` CK_BF16_SRC_F32,
/// _F16 or _BF16 (16-bit bits widened exactly while packing) or a convolution's column matrix
/// (`kind` CK_GEMM_SRC_CONV, B only).
typedef struct {
  const float *packed;
  const void *data;
  int kind;
  size_t ld;
  int trans;
} ck_f32_operand;

/// Floats of scratch that ck_f32_gemm needs for a `rows × cols` range of C with fp32 or
/// convolution operands (ck_f32_gemm_scratch_for covers every kind).
size_t ck_f32_gemm_scratch_count(int rows, int cols, int k, int a_packed, int b_packed);
/// Floats of scratch that ck_f32_gemm needs for a `rows × cols` range of C with these operands.
size_t ck_f32_gemm_scratch_for(int rows, int cols, int k, const ck_f32_operand *a, const ck_f32_operand *b);
/// C rows [row0, row1) × columns [col0, col1) of op(A)·op(B), as ck_bf16_gemm.
void ck_f32_gemm(
  int m, int n, int k, const ck_f32_operand *a, const ck_f32_operand *b,
  float *c, size_t ldc, int accumulate, int row0, int row1, int col0, int col1, float *scratch);

/// Test hook: packs panels of the column matrix of `s` covering columns [x0, x0 + count) and
/// k block [k0, k0 + kc) as the GEMMs do: fp32 panels (`bf16` 0, `dst` float) or bf16 k-pair
/// panels (`bf16` 1, kc even, `dst` uint32). Needs the matching GEMM to be available.
void ck_conv_pack_block(const ck_conv_source *s, int bf16, int x0, int count, int k0, int kc, void *dst);
/// Test hook: the ordinary packing of the same panels from an explicit fp32 matrix
/// (`ld` floats per row, k rows × `n` columns), for comparison.
void ck_dense_pack_block(const float *src, size_t ld, int k, int n, int bf16, int x0, int count, int k0, int kc, void *dst);

#endif
