import CKernels

/// The element type of a packed GEMM's operands — what `PackedGEMM` rounds them to before
/// multiplying (accumulation and C are fp32) — and the micro-kernel that runs it on this CPU.
public protocol GEMMElement {
  /// The fastest kernel for this element that the CPU and OS run, or nil (then callers use
  /// OpenBLAS `GEMM.sgemm`).
  static var kernel: GEMMKernel? { get }
  /// "BF16" or "F32", for messages (`BF16GEMM`, `PackedBF16Matrix`).
  static var name: String { get }
  /// What a CPU needs for a kernel of this element, for messages.
  static var requirement: String { get }
}

/// bfloat16 operands (rounded to nearest even, as PyTorch's `.to(torch.bfloat16)`).
public enum BF16Element: GEMMElement {
  public static let kernel = GEMMKernel.preferred(for: CK_GEMM_BF16)
  public static var name: String { "BF16" }
  public static var requirement: String { "AVX512_BF16" }
}

/// fp32 operands (copied exactly; fp16 and bf16 sources widened exactly).
public enum F32Element: GEMMElement {
  public static let kernel = GEMMKernel.preferred(for: CK_GEMM_F32)
  public static var name: String { "F32" }
  public static var requirement: String { "AVX-512" }
}

/// One row of the C kernel table (`ck_gemm_kernel`, Sources/CKernels/GEMMKernels.c): a
/// micro-kernel with its tile and cache-block sizes. All rows share one blocking driver.
public struct GEMMKernel: @unchecked Sendable {
  let pointer: UnsafePointer<ck_gemm_kernel>

  /// The preferred row for panels of `element` (CK_GEMM_F32, CK_GEMM_BF16) that runs here.
  /// SDEDIT_DISABLE_AVX512=1 in the environment rules out every AVX-512 row.
  static func preferred(for element: Int32) -> GEMMKernel? {
    ck_gemm_kernel_for(element).map(GEMMKernel.init(pointer:))
  }

  /// The instructions it runs on: "AVX-512 BF16", "AVX-512 FP32".
  public var name: String { String(cString: pointer.pointee.name) }
  /// Rows per A panel (MR).
  public var rowPanel: Int { Int(pointer.pointee.mr) }
  /// Columns per B panel (NR).
  public var columnPanel: Int { Int(pointer.pointee.nr) }
  /// Rows of a raw A packed per block (MC): a raw B is packed again for each.
  var rowBlock: Int { Int(pointer.pointee.mc) }
}

/// Which operand of `C = op(A) · op(B)` a matrix is packed as.
public enum GEMMSide: Sendable {
  case a, b

  var cValue: Int32 { self == .a ? CK_GEMM_SIDE_A : CK_GEMM_SIDE_B }
}

/// Matrix products with bfloat16 operands and fp32 accumulation, on CPUs with AVX512_BF16.
///
/// The result is PyTorch's `a.bfloat16().float() @ b.bfloat16().float()` up to fp32 summation
/// order: each operand is rounded to bfloat16 to nearest even, products are exact, sums are fp32
/// (the output is not rounded to bf16). The kernel (`vdpbf16ps`) reads subnormal bf16 inputs
/// (|x| < 1.2e-38) as zero.
///
/// How sdedit's products map:
/// - `linear`: `y[rows × out] = x · Wᵀ` → `a: .floats(x, leadingDimension: in)`,
///   `b: .packed(W packed as side .b, transposed)`, `m = rows, n = out, k = in`;
/// - `conv2d`: `y[Cout × HW] = W · columns` → `a: .packed(W as side .a)`, the columns read
///   straight from the image (Conv2D.swift, `CK_GEMM_SRC_CONV`) or `b: .floats(columns, …)`;
/// - attention (`[T, heads·d]` rows, one head at `base + h·d`): `scores = q · kᵀ` →
///   `a: .floats(q, leadingDimension: heads·d)`, `b: .floats(k, leadingDimension: heads·d,
///   transposed: true)`; `out = p · v` → `a: .floats(p, leadingDimension: Tk)`,
///   `b: .floats(v, leadingDimension: heads·d)`. A head's K and V can also be packed once
///   (`PackedBF16Matrix(side: .b, …)`) and reused by all of its query blocks.
public typealias BF16GEMM = PackedGEMM<BF16Element>

/// Single-precision matrix products with sdedit's own AVX-512 FMA kernel: faster than OpenBLAS
/// `sgemm` on the Zen 4/5 CPUs it targets, and deterministic. The product maps as `BF16GEMM`'s.
/// Callers check `isAvailable` and fall back to `GEMM.sgemm` where it is false.
public typealias F32GEMM = PackedGEMM<F32Element>

/// A matrix converted once to bfloat16 in the BF16 GEMM's panels (k-pairs: the bf16 of k = 2p
/// in the low half of a 32-bit word, 2p + 1 in the high half; an odd k is padded with zero).
/// fp32 and fp16 sources are rounded to bfloat16 to nearest even, as
/// `HalfConversion.floatToBFloat16` and PyTorch's `tensor.to(torch.bfloat16)` do.
public typealias PackedBF16Matrix = PackedMatrix<BF16Element>

/// A matrix laid out once in the FP32 GEMM's panels, fp32 values copied exactly: as many floats
/// as the matrix (plus the padding of the last panel), so a layer keeps it instead of its tensor.
public typealias PackedF32Matrix = PackedMatrix<F32Element>
