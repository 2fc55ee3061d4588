import CKernels

/// Single-precision matrix products `C = op(A) · op(B) (+ C)` with sdedit's own AVX-512 FMA
/// kernel (Sources/CKernels/F32GEMM.c, F32Pack.c): faster than OpenBLAS `sgemm` on the Zen 4/5
/// CPUs it targets, and deterministic.
///
/// The result equals the exact product up to fp32 summation order, and that order is fixed:
/// each C element sums k in blocks of the kernel's depth from k = 0, increasing k within a
/// block, one FMA chain per element, then adds the block sums (and C) in block order. Any split
/// of C into ranges (threads) therefore gives bit-identical results.
///
/// Operands are a `PackedF32Matrix` (packed once, e.g. a weight) or fp32 memory packed block by
/// block during the product. How sdedit's products map (as for `BF16GEMM`):
/// - `linear`: `y[rows × out] = x · Wᵀ` → `a: .floats(x, leadingDimension: in)`,
///   `b: .packed(W packed as side .b, transposed)`;
/// - `conv2d`: `y[Cout × HW] = W · columns` → `a: .packed(W as side .a)` with the columns read
///   straight from the image (Conv2D.swift, `CK_GEMM_SRC_CONV`).
///
/// Callers check `isAvailable` and fall back to `GEMM.sgemm` where it is false.
public enum F32GEMM {
  /// Whether this CPU and OS run the kernels (AVX-512 F/BW/VL, zmm state enabled).
  public static let isAvailable: Bool = ck_f32_gemm_available() != 0

  /// Rows per A panel (a packed A's ranges of C rows start at multiples of it).
  public static var rowPanel: Int { Int(ck_f32_gemm_mr()) }
  /// Columns per B panel (likewise for a packed B's column ranges).
  public static var columnPanel: Int { Int(ck_f32_gemm_nr()) }

  /// One operand of a product.
  public enum Operand {
    /// A matrix packed for this operand position and shape.
    case packed(PackedF32Matrix)
    /// Row-major fp32 memory holding op(X) (`transposed == false`) or its transpose.
    case floats(UnsafePointer<Float>, leadingDimension: Int, transposed: Bool = false)
    /// The same as 16-bit bits, fp16 or (`isBFloat16`) bfloat16 — e.g. a checkpoint's weight
    /// kept at 2 bytes a value — widened exactly while it is packed: the product equals the one
    /// with the widened fp32 copy bit for bit.
    case halves(UnsafePointer<UInt16>, leadingDimension: Int, transposed: Bool = false, isBFloat16: Bool)
  }

  /// `c[m × n] = op(a) · op(b)` (or `+=` when `accumulate`), split over `Threading.threadCount`.
  /// The split runs along the fp32 operand's dimension when exactly one operand is packed, else
  /// along the larger of m and n; an fp32 operand every thread reads in full is packed once.
  public static func multiply(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool = false
  ) {
    guard m > 0, n > 0 else { return }
    validate(m: m, n: n, k: k, a: a, b: b, ldc: ldc)
    FLOPCounter.add(2 * m * n * k)
    let split = GEMMSplit(
      m: m, n: n, k: k, aPacked: a.isPacked, bPacked: b.isPacked, rowPanel: rowPanel, columnPanel: columnPanel)
    let (splitRows, chunks) = (split.splitRows, split.chunks)
    // The operand that is not split is read whole by every range: pack it once. A raw B is
    // also packed again for every 128-row block of A (CK_F32_MC) within one range.
    var a = a, b = b
    let repays = splitRows && m > 128
    if splitRows, k > 0, repays || chunks > 1, !b.isPacked {
      b = .packed(b.packedWhole(side: .b, rows: k, columns: n))
    } else if !splitRows, k > 0, repays || chunks > 1, !a.isPacked {
      a = .packed(a.packedWhole(side: .a, rows: m, columns: k))
    }
    split.forEachRange { rows, columns in
      run(m: m, n: n, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, rows: rows, columns: columns)
    }
  }

  /// The rows × columns part of the product on the calling thread. `rows.lowerBound` must be a
  /// multiple of `rowPanel` when A is packed, `columns.lowerBound` of `columnPanel` when B is.
  public static func multiply(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool = false, rows: Range<Int>, columns: Range<Int>
  ) {
    guard m > 0, n > 0, !rows.isEmpty, !columns.isEmpty else { return }
    validate(m: m, n: n, k: k, a: a, b: b, ldc: ldc)
    GEMMSplit.checkRange(
      "F32GEMM", m: m, n: n, rows: rows, columns: columns, aPacked: a.isPacked, bPacked: b.isPacked,
      rowPanel: rowPanel, columnPanel: columnPanel)
    FLOPCounter.add(2 * rows.count * columns.count * k)
    run(m: m, n: n, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, rows: rows, columns: columns)
  }

  static func validate(m: Int, n: Int, k: Int, a: Operand, b: Operand, ldc: Int) {
    precondition(isAvailable, "F32GEMM: this CPU has no AVX-512 (check F32GEMM.isAvailable)")
    precondition(k >= 0 && ldc >= n, "F32GEMM: k \(k), ldc \(ldc) for n \(n)")
    for (operand, side, rows, columns) in [(a, PackedF32Matrix.Side.a, m, k), (b, .b, k, n)] {
      switch operand {
      case .packed(let p):
        precondition(
          p.side == side && p.rows == rows && p.columns == columns,
          "F32GEMM: operand \(side) packed as \(p.side) \(p.rows)×\(p.columns), used as \(rows)×\(columns)")
      case .floats(_, let ld, let transposed), .halves(_, let ld, let transposed, _):
        precondition(ld >= (transposed ? rows : columns) || k == 0, "F32GEMM: operand \(side) leading dimension \(ld)")
      }
    }
  }

  static func run(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool, rows: Range<Int>, columns: Range<Int>
  ) {
    withExtendedLifetime((a, b)) {
      var ca = a.cOperand, cb = b.cOperand
      F32GEMM.run(m: m, n: n, k: k, a: &ca, b: &cb, c: c, ldc: ldc, accumulate: accumulate, rows: rows, columns: columns)
    }
  }

  /// One C range with C operands (also used by Conv2D for its convolution-source B), with
  /// scratch for the operands packed block by block.
  static func run(
    m: Int, n: Int, k: Int, a: UnsafePointer<ck_f32_operand>, b: UnsafePointer<ck_f32_operand>,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, rows: Range<Int>, columns: Range<Int>
  ) {
    let count = ck_f32_gemm_scratch_for(Int32(rows.count), Int32(columns.count), Int32(k), a, b)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(count, 16) * 4, alignment: 64)
    defer { scratch.deallocate() }
    ck_f32_gemm(
      Int32(m), Int32(n), Int32(k), a, b, c, ldc, accumulate ? 1 : 0,
      Int32(rows.lowerBound), Int32(rows.upperBound), Int32(columns.lowerBound), Int32(columns.upperBound),
      scratch.assumingMemoryBound(to: Float.self))
  }
}

extension F32GEMM.Operand {
  /// The C view; a packed matrix's storage must outlive its use (see `withExtendedLifetime`).
  var cOperand: ck_f32_operand {
    switch self {
    case .packed(let p):
      return ck_f32_operand(packed: p.floats, data: nil, kind: CK_BF16_SRC_F32, ld: 0, trans: 0)
    case .floats(let pointer, let ld, let transposed):
      return ck_f32_operand(packed: nil, data: UnsafeRawPointer(pointer), kind: CK_BF16_SRC_F32, ld: ld, trans: transposed ? 1 : 0)
    case .halves(let pointer, let ld, let transposed, let isBFloat16):
      return ck_f32_operand(
        packed: nil, data: UnsafeRawPointer(pointer), kind: isBFloat16 ? CK_BF16_SRC_BF16 : CK_BF16_SRC_F16, ld: ld,
        trans: transposed ? 1 : 0)
    }
  }

  var isPacked: Bool {
    if case .packed = self { return true }
    return false
  }

  /// This operand packed whole for `side` as the logical `rows × columns` op(X).
  func packedWhole(side: PackedF32Matrix.Side, rows: Int, columns: Int) -> PackedF32Matrix {
    switch self {
    case .packed(let p): return p
    case .floats(let pointer, let ld, let transposed):
      return PackedF32Matrix(side: side, rows: rows, columns: columns, floats: pointer, leadingDimension: ld, transposed: transposed)
    case .halves(let pointer, let ld, let transposed, let isBFloat16):
      return PackedF32Matrix(
        side: side, rows: rows, columns: columns, halfBits: pointer, isBFloat16: isBFloat16, leadingDimension: ld,
        transposed: transposed)
    }
  }
}
