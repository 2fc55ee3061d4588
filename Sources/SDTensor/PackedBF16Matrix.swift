import CKernels

/// A matrix converted once to bfloat16 and laid out in the BF16 GEMM's panels, so that every
/// later product reads it directly (the weights of a layer, packed at model load).
///
/// The matrix is packed for one operand position of `C = op(A) · op(B)`:
/// - side `.a`: the logical `m × k` op(A), in panels of `BF16GEMM.rowPanel` rows;
/// - side `.b`: the logical `k × n` op(B), in panels of `BF16GEMM.columnPanel` columns.
///
/// Each panel holds k-pairs (the bf16 of k = 2p in the low half of a 32-bit word, 2p + 1 in the
/// high half; an odd k is padded with zero), in blocks of the kernel's cache depth. fp32 and
/// fp16 sources are rounded to bfloat16 to nearest even, as `HalfConversion.floatToBFloat16`
/// and PyTorch's `tensor.to(torch.bfloat16)` do.
///
/// Where sdedit's layers put their weights:
/// - `linear` (`y[rows × out] = x · Wᵀ`, W is `[out, in]`): side `.b`, `rows: in, columns: out`,
///   `transposed: true` — or `PackedBF16Matrix(side: .b, matrix: w, transposed: true)`;
/// - `conv2d` (`y[Cout × HW] = W[Cout × Cin·kh·kw] · columns`): side `.a`, not transposed —
///   `PackedBF16Matrix(side: .a, matrix: w)` reads `[Cout, Cin, kh, kw]` as `Cout × Cin·kh·kw`.
///
/// Creating one requires `BF16GEMM.isAvailable` (the packing code uses AVX-512).
public struct PackedBF16Matrix: @unchecked Sendable {
  /// The operand position a matrix is packed for.
  public enum Side: Sendable {
    case a, b
  }

  /// The operand position this matrix was packed for.
  public let side: Side
  /// Rows of the logical operand (`m` for side `.a`, `k` for side `.b`).
  public let rows: Int
  /// Columns of the logical operand (`k` for side `.a`, `n` for side `.b`).
  public let columns: Int
  let storage: AlignedBuffer<UInt16>


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

  /// Packs a tensor read as the 2-D matrix `[shape[0], count / shape[0]]` (a conv weight
  /// `[Cout, Cin, kh, kw]` reads as `Cout × Cin·kh·kw`). The logical operand is that matrix, or
  /// its transpose when `transposed`.
  public init(side: Side, matrix: Tensor, transposed: Bool = false) {
    precondition(matrix.rank >= 1 && matrix.count > 0, "PackedBF16Matrix: empty tensor \(matrix.shape)")
    let storedRows = matrix.shape[0], storedColumns = matrix.count / storedRows
    let (rows, columns) = transposed ? (storedColumns, storedRows) : (storedRows, storedColumns)
    self = matrix.withUnsafeBufferPointer { data in
      PackedBF16Matrix(
        side: side, rows: rows, columns: columns, floats: data.baseAddress!, leadingDimension: storedColumns,
        transposed: transposed)
    }
  }

  /// Packs raw bfloat16 bits (e.g. a checkpoint's BF16 tensor, row-major `rows × columns`, or
  /// `columns × rows` when `transposed`). The values are taken as they are.
  public init(
    side: Side, rows: Int, columns: Int, bfloat16Bits: UnsafePointer<UInt16>, leadingDimension: Int,
    transposed: Bool = false
  ) {
    self.init(
      side: side, rows: rows, columns: columns, kind: CK_BF16_SRC_BF16, source: UnsafeRawPointer(bfloat16Bits),
      leadingDimension: leadingDimension, transposed: transposed)
  }

  /// Packs IEEE half-precision bits (a checkpoint's F16 tensor), converting each value to fp32
  /// exactly and then to bfloat16 to nearest even.
  public init(
    side: Side, rows: Int, columns: Int, float16Bits: UnsafePointer<UInt16>, leadingDimension: Int,
    transposed: Bool = false
  ) {
    self.init(
      side: side, rows: rows, columns: columns, kind: CK_BF16_SRC_F16, source: UnsafeRawPointer(float16Bits),
      leadingDimension: leadingDimension, transposed: transposed)
  }

  /// Array form of the bf16 initialiser, for a densely stored matrix (leading dimension =
  /// `columns`, or `rows` when `transposed`).
  public init(side: Side, rows: Int, columns: Int, bfloat16Bits: [UInt16], transposed: Bool = false) {
    precondition(bfloat16Bits.count == rows * columns, "PackedBF16Matrix: \(bfloat16Bits.count) values for \(rows)×\(columns)")
    self = bfloat16Bits.withUnsafeBufferPointer {
      PackedBF16Matrix(
        side: side, rows: rows, columns: columns, bfloat16Bits: $0.baseAddress!,
        leadingDimension: transposed ? rows : columns, transposed: transposed)
    }
  }

  /// Array form of the fp16 initialiser (dense storage, as above).
  public init(side: Side, rows: Int, columns: Int, float16Bits: [UInt16], transposed: Bool = false) {
    precondition(float16Bits.count == rows * columns, "PackedBF16Matrix: \(float16Bits.count) values for \(rows)×\(columns)")
    self = float16Bits.withUnsafeBufferPointer {
      PackedBF16Matrix(
        side: side, rows: rows, columns: columns, float16Bits: $0.baseAddress!,
        leadingDimension: transposed ? rows : columns, transposed: transposed)
    }
  }

  init(
    side: Side, rows: Int, columns: Int, kind: Int32, source: UnsafeRawPointer, leadingDimension: Int,
    transposed: Bool
  ) {
    precondition(BF16GEMM.isAvailable, "PackedBF16Matrix: this CPU has no AVX512_BF16 (check BF16GEMM.isAvailable)")
    precondition(rows > 0 && columns > 0, "PackedBF16Matrix: empty \(rows)×\(columns) matrix")
    precondition(
      leadingDimension >= (transposed ? rows : columns),
      "PackedBF16Matrix: leading dimension \(leadingDimension) < row length")
    self.side = side
    self.rows = rows
    self.columns = columns
    let cSide = side.cValue
    storage = AlignedBuffer(count: ck_bf16_packed_count(cSide, Int32(rows), Int32(columns)))
    let panels = Int(ck_bf16_panel_count(cSide, Int32(rows), Int32(columns)))
    let bits = storage.pointer
    // Panels are independent: split them over the threads (≥ ~1M elements per chunk).
    let depth = side == .a ? columns : rows
    let grain = max(1, (1 << 20) / max(1, depth * (side == .a ? BF16GEMM.rowPanel : BF16GEMM.columnPanel)))
    Threading.parallelFor(panels, grain: grain) { range in
      ck_bf16_pack_panels(
        cSide, kind, source, leadingDimension, transposed ? 1 : 0, Int32(rows), Int32(columns),
        Int32(range.lowerBound), Int32(range.upperBound), bits)
    }
  }

  /// The packed bits (for the GEMM; layout described on the type).
  var bits: UnsafePointer<UInt16> { UnsafePointer(storage.pointer) }

  /// Bytes held by the packed matrix.
  public var byteCount: Int { storage.byteCount }
}

extension PackedBF16Matrix.Side {
  var cValue: Int32 { self == .a ? CK_BF16_SIDE_A : CK_BF16_SIDE_B }
}
