import CKernels

/// A matrix laid out once in the FP32 GEMM's panels (`F32GEMM`), so that every later product
/// reads it directly: the weights of a layer in fp32 precision, packed at model load.
///
/// Same geometry as `PackedBF16Matrix`, with fp32 values copied exactly:
/// - side `.a`: the logical `m × k` op(A), in panels of `F32GEMM.rowPanel` rows;
/// - side `.b`: the logical `k × n` op(B), in panels of `F32GEMM.columnPanel` columns;
/// each panel in k blocks of the kernel's cache depth. It holds as many floats as the matrix
/// (plus the padding of the last panel), so a layer keeps it instead of its fp32 tensor.
///
/// Creating one requires `F32GEMM.isAvailable` (the packing code uses AVX-512).
public struct PackedF32Matrix: @unchecked Sendable {
  public typealias Side = PackedBF16Matrix.Side

  /// The operand position this matrix was packed for.
  public let side: Side
  /// Rows of the logical operand (`m` for side `.a`, `k` for side `.b`).
  public let rows: Int
  /// Columns of the logical operand (`k` for side `.a`, `n` for side `.b`).
  public let columns: Int
  let storage: AlignedBuffer<Float>


  /// Packs an fp32 matrix. The logical operand is `rows × columns`; in memory it is row-major
  /// `rows × columns` (`transposed == false`) or `columns × rows` (`transposed == true`), with
  /// `leadingDimension` elements between stored rows.
  public init(
    side: Side, rows: Int, columns: Int, floats: UnsafePointer<Float>, leadingDimension: Int,
    transposed: Bool = false
  ) {
    self.init(
      side: side, rows: rows, columns: columns, kind: CK_BF16_SRC_F32, source: UnsafeRawPointer(floats),
      leadingDimension: leadingDimension, transposed: transposed)
  }

  /// Packs 16-bit bits (fp16, or bfloat16 when `isBFloat16`) laid out as for the fp32 init,
  /// widened exactly: the panels equal those of the widened fp32 matrix.
  public init(
    side: Side, rows: Int, columns: Int, halfBits: UnsafePointer<UInt16>, isBFloat16: Bool, leadingDimension: Int,
    transposed: Bool = false
  ) {
    self.init(
      side: side, rows: rows, columns: columns, kind: isBFloat16 ? CK_BF16_SRC_BF16 : CK_BF16_SRC_F16,
      source: UnsafeRawPointer(halfBits), leadingDimension: leadingDimension, transposed: transposed)
  }

  init(
    side: Side, rows: Int, columns: Int, kind: Int32, source: UnsafeRawPointer, leadingDimension: Int, transposed: Bool
  ) {
    precondition(F32GEMM.isAvailable, "PackedF32Matrix: this CPU has no AVX-512 (check F32GEMM.isAvailable)")
    precondition(rows > 0 && columns > 0, "PackedF32Matrix: empty \(rows)×\(columns) matrix")
    precondition(
      leadingDimension >= (transposed ? rows : columns), "PackedF32Matrix: leading dimension \(leadingDimension) < row length")
    self.side = side
    self.rows = rows
    self.columns = columns
    let cSide = side.cValue
    storage = AlignedBuffer(count: ck_f32_packed_count(cSide, Int32(rows), Int32(columns)))
    let panels = Int(ck_f32_panel_count(cSide, Int32(rows), Int32(columns)))
    let dst = storage.pointer
    let depth = side == .a ? columns : rows
    let width = side == .a ? F32GEMM.rowPanel : F32GEMM.columnPanel
    Threading.parallelFor(panels, grain: max(1, (1 << 20) / max(1, depth * width))) { range in
      ck_f32_pack_panels_from(
        cSide, kind, source, leadingDimension, transposed ? 1 : 0, Int32(rows), Int32(columns),
        Int32(range.lowerBound), Int32(range.upperBound), dst)
    }
  }

  /// Packs a tensor read as the 2-D matrix `[shape[0], count / shape[0]]` (a conv weight
  /// `[Cout, Cin, kh, kw]` reads as `Cout × Cin·kh·kw`), or its transpose when `transposed`.
  public init(side: Side, matrix: Tensor, transposed: Bool = false) {
    precondition(matrix.rank >= 1 && matrix.count > 0, "PackedF32Matrix: empty tensor \(matrix.shape)")
    let storedRows = matrix.shape[0], storedColumns = matrix.count / storedRows
    let (rows, columns) = transposed ? (storedColumns, storedRows) : (storedRows, storedColumns)
    self = matrix.withUnsafeBufferPointer { data in
      PackedF32Matrix(
        side: side, rows: rows, columns: columns, floats: data.baseAddress!, leadingDimension: storedColumns,
        transposed: transposed)
    }
  }

  /// The packed floats (for the GEMM; layout described on the type).
  var floats: UnsafePointer<Float> { UnsafePointer(storage.pointer) }

  /// Bytes held by the packed matrix.
  public var byteCount: Int { storage.byteCount }
}
