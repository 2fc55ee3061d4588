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

// MARK: - Packed GEMMs (GEMMDriver.h/.c, GEMMKernels.c; micro-kernels in F32Kernel.c, BF16Kernel.c)
//
// C[m×n] = op(A)[m×k] · op(B)[k×n] (+ C), fp32 C and accumulation, with operands in an element
// type of the kernel's: fp32 (values copied exactly) or bf16 (rounded to nearest even).
// One GotoBLAS-style blocking driver serves every micro-kernel: operands are packed into
// "panels" — A into panels of MR rows, B into panels of NR columns, in k blocks of KC — and a
// packed matrix is made once (weights) and reused by every call. What a CPU adds is one row of
// the kernel table (ck_gemm_kernel): its element type, tile and blocking sizes, packing and
// micro-kernel functions.
// Each C element's k-sum runs in one fixed order (k blocks in order, k ascending within a
// block, one accumulator lane per element) whatever range of C a call computes.

/// Which operand a matrix is packed as.
#define CK_GEMM_SIDE_A 0
#define CK_GEMM_SIDE_B 1
/// Element type of a raw operand's memory.
#define CK_GEMM_SRC_F32 0
#define CK_GEMM_SRC_BF16 1
#define CK_GEMM_SRC_F16 2
/// A convolution's column matrix read from the image: the operand's `data` points at a
/// ck_conv_source (B side, not transposed).
#define CK_GEMM_SRC_CONV 3

/// Element type of packed panels: what a product's operands are rounded to.
#define CK_GEMM_F32 0
#define CK_GEMM_BF16 1

/// One operand as the micro-kernel's packing reads it: element (x, kk) of op(A) (x = row) or
/// of op(B)ᵀ (x = column). `kcontig` says the k index is the contiguous one in memory.
typedef struct ck_gemm_view {
  const void *data;
  int kind;       // CK_GEMM_SRC_*
  size_t ld;      // elements between consecutive rows of the stored matrix
  int kcontig;    // 1: element at data[x·ld + kk]; 0: at data[kk·ld + x]
  int extent;     // valid x values: [0, extent)
  int depth;      // valid k values: [0, depth)
} ck_gemm_view;

struct ck_gemm_operand;

/// A micro-kernel and the blocking around it: one row of the kernel table.
typedef struct ck_gemm_kernel {
  const char *name;    // e.g. "AVX-512 BF16"
  int element;         // CK_GEMM_F32 or CK_GEMM_BF16: the packed panels' element type
  int element_bytes;   // bytes per packed element
  int mr, nr;          // micro-tile: rows per A panel, columns per B panel
  int k_group;         // k values packed together (bf16 pairs: 2): k is padded to a multiple, KC is one
  int kc, mc, nc;      // k per cache block; rows of a per-call A block; columns of a B block
  /// 1: with A packed per call (its MC block L2-resident), each B micro-panel stays in L1 while
  /// the block's A panels stream past it; 0: the A micro-panel stays in L1 and B panels stream.
  int b_panel_in_l1;
  /// Packs panels of `width` (mr for side A, nr for side B) covering x ∈ [x0, x0 + count)
  /// (whole panels) for the k block [k0, k0 + kc) into `dst`: panel q at dst + q·width·kc
  /// elements, laid out as `tile` reads it. Out-of-range x or k read as zero.
  void (*pack_a)(const ck_gemm_view *v, int width, int x0, int count, int k0, int kc, void *dst);
  void (*pack_b)(const ck_gemm_view *v, int width, int x0, int count, int k0, int kc, void *dst);
  /// C[rows × cols] (+)= A panel · B panel over a k block of `kc` (rows ≤ mr, cols ≤ nr).
  void (*tile)(const void *a, const void *b, int kc, float *c, size_t ldc, int accumulate, int rows, int cols);
  /// 1 when this CPU and OS run it (cpuid + xgetbv, and no SDEDIT_DISABLE_* switch).
  int (*available)(void);
  /// ck_gemm for this row: the one blocking driver (GEMMDriver.h) instantiated with the row's
  /// constants, so that its micro-kernel is called directly (and a row that needs per-thread
  /// set-up, such as AMX's tile configuration, does it here).
  void (*gemm)(
    int m, int n, int k, const struct ck_gemm_operand *a, const struct ck_gemm_operand *b, float *c, size_t ldc,
    int accumulate, int row0, int row1, int col0, int col1, void *scratch);
} ck_gemm_kernel;

/// The preferred kernel for panels of `element` that runs here, or NULL (then use OpenBLAS).
/// Rows are tried fastest first; each row's probe runs once per process.
const ck_gemm_kernel *ck_gemm_kernel_for(int element);

/// Elements of a packed matrix. `rows × cols` is the logical op(A) (m × k, side A) or op(B)
/// (k × n, side B), whatever the stored layout.
size_t ck_gemm_packed_count(const ck_gemm_kernel *kernel, int side, int rows, int cols);
/// Number of panels (MR rows of A or NR columns of B) of a packed matrix.
int ck_gemm_panel_count(const ck_gemm_kernel *kernel, int side, int rows, int cols);
/// Packs panels [panel0, panel1) of the logical `rows × cols` operand into `dst` (sized by
/// ck_gemm_packed_count; calls for disjoint panel ranges may run in parallel). `src` holds
/// elements of `kind` (CK_GEMM_SRC_F32, _F16 or _BF16); row-major with leading dimension `ld`,
/// stored transposed when `trans` (then it is `cols × rows`). 16-bit values are widened
/// exactly; values are then rounded to the kernel's element (bf16: to nearest even).
void ck_gemm_pack_panels(
  const ck_gemm_kernel *kernel, int side, int kind, const void *src, size_t ld, int trans, int rows, int cols,
  int panel0, int panel1, void *dst);

/// One GEMM operand: a packed matrix (`packed` non-NULL, made by the same kernel for this side
/// and shape) or a raw matrix that the GEMM packs block by block into scratch (`data`, `kind`,
/// `ld`, `trans` as for ck_gemm_pack_panels; `kind` CK_GEMM_SRC_CONV on side B).
typedef struct ck_gemm_operand {
  const void *packed;
  const void *data;
  int kind;
  size_t ld;
  int trans;
} ck_gemm_operand;

/// Bytes of scratch that ck_gemm needs for a `rows × cols` range of C with these operands.
size_t ck_gemm_scratch_bytes(
  const ck_gemm_kernel *kernel, int rows, int cols, int k, const ck_gemm_operand *a, const ck_gemm_operand *b);
/// C rows [row0, row1) × columns [col0, col1) of op(A)·op(B); `c` points at C(0, 0) (row-major,
/// leading dimension ldc). `accumulate` 0: C = A·B; 1: C += A·B. row0 must be a multiple of MR
/// when A is packed, col0 a multiple of NR when B is packed. Single-threaded and re-entrant:
/// disjoint ranges may run in parallel, each with its own `scratch`.
void ck_gemm(
  const ck_gemm_kernel *kernel, int m, int n, int k, const ck_gemm_operand *a, const ck_gemm_operand *b,
  float *c, size_t ldc, int accumulate, int row0, int row1, int col0, int col1, void *scratch);

// MARK: - Implicit-im2col convolution operands (ConvPack.c)

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

/// Test hook: packs panels of the column matrix of `s` covering columns [x0, x0 + count) and
/// k block [k0, k0 + kc) as the GEMMs do: fp32 panels (`bf16` 0, `dst` float) or bf16 k-pair
/// panels (`bf16` 1, kc even, `dst` uint32). Needs the matching GEMM to be available.
void ck_conv_pack_block(const ck_conv_source *s, int bf16, int x0, int count, int k0, int kc, void *dst);
/// Test hook: the ordinary packing of the same panels from an explicit fp32 matrix
/// (`ld` floats per row, k rows × `n` columns), for comparison.
void ck_dense_pack_block(const float *src, size_t ld, int k, int n, int bf16, int x0, int count, int k0, int kc, void *dst);

#endif
