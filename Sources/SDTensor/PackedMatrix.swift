import CKernels

/// A matrix converted once to `Element` and laid out in the panels of `PackedGEMM<Element>`'s
/// kernel, so that every later product reads it directly (the weights of a layer, packed at
/// model load). Use it as `PackedBF16Matrix` or `PackedF32Matrix`.
///
/// The matrix is packed for one operand position of `C = op(A) · op(B)`:
/// - side `.a`: the logical `m × k` op(A), in panels of `rowPanel` rows;
/// - side `.b`: the logical `k × n` op(B), in panels of `columnPanel` columns;
/// each panel in k blocks of the kernel's cache depth, its values laid out as the kernel's
/// micro-kernel reads them.
///
/// Where sdedit's layers put their weights:
/// - `linear` (`y[rows × out] = x · Wᵀ`, W is `[out, in]`): side `.b`, `rows: in, columns: out`,
///   `transposed: true` — or `PackedMatrix(side: .b, matrix: w, transposed: true)`;
/// - `conv2d` (`y[Cout × HW] = W[Cout × Cin·kh·kw] · columns`): side `.a`, not transposed —
///   `PackedMatrix(side: .a, matrix: w)` reads `[Cout, Cin, kh, kw]` as `Cout × Cin·kh·kw`.
///
/// Creating one requires `PackedGEMM<Element>.isAvailable`.
public struct PackedMatrix<Element: GEMMElement>: @unchecked Sendable {
  public typealias Side = GEMMSide

  /// The operand position this matrix was packed for.
  public let side: Side
  /// Rows of the logical operand (`m` for side `.a`, `k` for side `.b`).
  public let rows: Int
  /// Columns of the logical operand (`k` for side `.a`, `n` for side `.b`).
  public let columns: Int
  let storage: AlignedBuffer<UInt8>

  /// Packs an fp32 matrix. The logical operand is `rows × columns`; in memory it is row-major
  /// `rows × columns` (`transposed == false`) or `columns × rows` (`transposed == true`), with
  /// `leadingDimension` elements between stored rows.
  public init(
    side: Side, rows: Int, columns: Int, floats: UnsafePointer<Float>, leadingDimension: Int,
    transposed: Bool = false
  ) {
    self.init(
      side: side, rows: rows, columns: columns, kind: CK_GEMM_SRC_F32, source: UnsafeRawPointer(floats),
      leadingDimension: leadingDimension, transposed: transposed)
  }

  /// Packs a tensor read as the 2-D matrix `[shape[0], count / shape[0]]` (a conv weight
  /// `[Cout, Cin, kh, kw]` reads as `Cout × Cin·kh·kw`). The logical operand is that matrix, or
  /// its transpose when `transposed`.
  public init(side: Side, matrix: Tensor, transposed: Bool = false) {
    precondition(matrix.rank >= 1 && matrix.count > 0, "Packed\(Element.name)Matrix: empty tensor \(matrix.shape)")
    let storedRows = matrix.shape[0], storedColumns = matrix.count / storedRows
    let (rows, columns) = transposed ? (storedColumns, storedRows) : (storedRows, storedColumns)
    self = matrix.withUnsafeBufferPointer { data in
      PackedMatrix(
        side: side, rows: rows, columns: columns, floats: data.baseAddress!, leadingDimension: storedColumns,
        transposed: transposed)
    }
  }

  /// Packs 16-bit bits (fp16, or bfloat16 when `isBFloat16`, e.g. a checkpoint's tensor) laid
  /// out as for the fp32 init. Each value is widened to fp32 exactly and then converted to
  /// `Element` (bf16 values are taken as they are; fp16 ones rounded to bf16 to nearest even).
  public init(
    side: Side, rows: Int, columns: Int, halfBits: UnsafePointer<UInt16>, isBFloat16: Bool, leadingDimension: Int,
    transposed: Bool = false
  ) {
    self.init(
      side: side, rows: rows, columns: columns, kind: isBFloat16 ? CK_GEMM_SRC_BF16 : CK_GEMM_SRC_F16,
      source: UnsafeRawPointer(halfBits), leadingDimension: leadingDimension, transposed: transposed)
  }

  init(
    side: Side, rows: Int, columns: Int, kind: Int32, source: UnsafeRawPointer, leadingDimension: Int, transposed: Bool
  ) {
    let name = "Packed\(Element.name)Matrix"
    guard let kernel = Element.kernel else {
      preconditionFailure("\(name): this CPU has no \(Element.requirement) (check \(Element.name)GEMM.isAvailable)")
    }
    precondition(rows > 0 && columns > 0, "\(name): empty \(rows)×\(columns) matrix")
    precondition(
      leadingDimension >= (transposed ? rows : columns), "\(name): leading dimension \(leadingDimension) < row length")
    self.side = side
    self.rows = rows
    self.columns = columns
    let k = kernel.pointer, cSide = side.cValue
    let count = ck_gemm_packed_count(k, cSide, Int32(rows), Int32(columns))
    storage = AlignedBuffer(count: count * Int(k.pointee.element_bytes))
    let panels = Int(ck_gemm_panel_count(k, cSide, Int32(rows), Int32(columns)))
    let dst = UnsafeMutableRawPointer(storage.pointer)
    // Panels are independent: split them over the threads (≥ ~1M elements per chunk).
    let depth = side == .a ? columns : rows
    let width = side == .a ? kernel.rowPanel : kernel.columnPanel
    Threading.parallelFor(panels, grain: Swift.max(1, (1 << 20) / Swift.max(1, depth * width))) { range in
      ck_gemm_pack_panels(
        k, cSide, kind, source, leadingDimension, transposed ? 1 : 0, Int32(rows), Int32(columns),
        Int32(range.lowerBound), Int32(range.upperBound), dst)
    }
  }

  /// The packed panels (for the GEMM; layout described on the type).
  var baseAddress: UnsafeRawPointer { UnsafeRawPointer(storage.pointer) }

  /// Bytes held by the packed matrix.
  public var byteCount: Int { storage.byteCount }
}
