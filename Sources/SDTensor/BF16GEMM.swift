import CKernels

/// Matrix products with bfloat16 operands and fp32 accumulation, `C = op(A) · op(B) (+ C)`,
/// on CPUs with AVX512_BF16 (the C kernels in Sources/CKernels/BF16GEMM.c and BF16Pack.c).
///
/// The result is PyTorch's `a.bfloat16().float() @ b.bfloat16().float()` up to fp32 summation
/// order: each operand is rounded to bfloat16 to nearest even, products are exact, sums are fp32
/// (the output is not rounded to bf16). The kernel (`vdpbf16ps`) reads subnormal bf16 inputs
/// (|x| < 1.2e-38) as zero.
///
/// Each operand is either a `PackedBF16Matrix` (packed once, e.g. a weight) or fp32 memory
/// that is packed block by block during the product (an activation). How sdedit's products map:
/// - `linear`: `y[rows × out] = x · Wᵀ` → `a: .floats(x, leadingDimension: in)`,
///   `b: .packed(W packed as side .b, transposed)`, `m = rows, n = out, k = in`;
/// - `conv2d`: `y[Cout × HW] = W · columns` → `a: .packed(W as side .a)`,
///   `b: .floats(columns, leadingDimension: HW)`, `m = Cout, n = HW, k = Cin·kh·kw`;
/// - attention (`[T, heads·d]` rows, one head at `base + h·d`): `scores = q · kᵀ` →
///   `a: .floats(q, leadingDimension: heads·d)`, `b: .floats(k, leadingDimension: heads·d,
///   transposed: true)`; `out = p · v` → `a: .floats(p, leadingDimension: Tk)`,
///   `b: .floats(v, leadingDimension: heads·d)`. A head's K and V can also be packed once
///   (`PackedBF16Matrix(side: .b, …)`) and reused by all of its query blocks.
public enum BF16GEMM {
  /// Whether this CPU and OS run the bf16 kernels (AVX-512 F/BW/VL + BF16, zmm state enabled).
  /// Every other entry point, and `PackedBF16Matrix`, requires it.
  public static let isAvailable: Bool = ck_bf16_gemm_available() != 0

  /// Rows per A panel: a range of C rows passed to the single-threaded `multiply` must start
  /// at a multiple of this when A is packed.
  public static var rowPanel: Int { Int(ck_bf16_gemm_mr()) }
  /// Columns per B panel: likewise for C columns when B is packed.
  public static var columnPanel: Int { Int(ck_bf16_gemm_nr()) }

  /// One operand of a product.
  public enum Operand {
    /// A matrix packed for this operand position and shape.
    case packed(PackedBF16Matrix)
    /// Row-major fp32 memory holding op(X) (`transposed == false`) or its transpose, with
    /// `leadingDimension` elements between stored rows.
    case floats(UnsafePointer<Float>, leadingDimension: Int, transposed: Bool = false)
  }

  /// `c[m × n] = op(a) · op(b)` (`accumulate == false`) or `c += op(a) · op(b)`, row-major with
  /// leading dimension `ldc`, split over `Threading.threadCount` threads.
  ///
  /// The split runs along the rows or the columns of C: along the dimension of the fp32 operand
  /// when exactly one operand is packed (each thread packs only its own slice, block by block,
  /// into its own scratch), else along the larger of m and n. An fp32 operand that every thread
  /// reads in full is packed once first, shared.
  public static func multiply(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool = false
  ) {
    guard m > 0, n > 0 else { return }
    validate(m: m, n: n, k: k, a: a, b: b, ldc: ldc)
    FLOPCounter.add(2 * m * n * k)
    let split = GEMMSplit(
      m: m, n: n, k: k, aPacked: a.isPacked, bPacked: b.isPacked, rowPanel: rowPanel, columnPanel: columnPanel)
    if split.chunks == 1 {
      run(m: m, n: n, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, rows: 0..<m, columns: 0..<n)
      return
    }
    // The operand that is not split is read whole by every thread: pack it once.
    var a = a, b = b
    if split.splitRows, case .floats(let p, let ld, let t) = b {
      b = .packed(PackedBF16Matrix(side: .b, rows: k, columns: n, floats: p, leadingDimension: ld, transposed: t))
    } else if !split.splitRows, case .floats(let p, let ld, let t) = a {
      a = .packed(PackedBF16Matrix(side: .a, rows: m, columns: k, floats: p, leadingDimension: ld, transposed: t))
    }
    split.forEachRange { rows, columns in
      run(m: m, n: n, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, rows: rows, columns: columns)
    }
  }

  /// The rows × columns part of `multiply(m:n:k:a:b:c:ldc:accumulate:)`, on the calling thread
  /// (for callers that split work themselves, e.g. attention over heads). `rows.lowerBound` must
  /// be a multiple of `rowPanel` when A is packed, `columns.lowerBound` a multiple of
  /// `columnPanel` when B is packed. Counts the FLOPs of its part.
  public static func multiply(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool = false, rows: Range<Int>, columns: Range<Int>
  ) {
    guard m > 0, n > 0, !rows.isEmpty, !columns.isEmpty else { return }
    validate(m: m, n: n, k: k, a: a, b: b, ldc: ldc)
    GEMMSplit.checkRange(
      "BF16GEMM", m: m, n: n, rows: rows, columns: columns, aPacked: a.isPacked, bPacked: b.isPacked,
      rowPanel: rowPanel, columnPanel: columnPanel)
    FLOPCounter.add(2 * rows.count * columns.count * k)
    run(m: m, n: n, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, rows: rows, columns: columns)
  }

  /// Checks shapes and sides (programmer errors).
  static func validate(m: Int, n: Int, k: Int, a: Operand, b: Operand, ldc: Int) {
    precondition(isAvailable, "BF16GEMM: this CPU has no AVX512_BF16 (check BF16GEMM.isAvailable)")
    precondition(k >= 0 && ldc >= n, "BF16GEMM: k \(k), ldc \(ldc) for n \(n)")
    for (operand, side, rows, columns) in [(a, PackedBF16Matrix.Side.a, m, k), (b, .b, k, n)] {
      switch operand {
      case .packed(let p):
        precondition(
          p.side == side && p.rows == rows && p.columns == columns,
          "BF16GEMM: operand \(side) packed as \(p.side) \(p.rows)×\(p.columns), used as \(rows)×\(columns)")
      case .floats(_, let ld, let transposed):
        precondition(ld >= (transposed ? rows : columns) || k == 0, "BF16GEMM: operand \(side) leading dimension \(ld)")
      }
    }
  }

  /// One C range on this thread, with scratch for the fp32 operands' blocks.
  static func run(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool, rows: Range<Int>, columns: Range<Int>
  ) {
    let scratchCount = ck_bf16_gemm_scratch_count(
      Int32(rows.count), Int32(columns.count), Int32(k), a.isPacked ? 1 : 0, b.isPacked ? 1 : 0)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: max(scratchCount, 32) * 2, alignment: 64)
    defer { scratch.deallocate() }
    withExtendedLifetime((a, b)) {
      var ca = a.cOperand, cb = b.cOperand
      ck_bf16_gemm(
        Int32(m), Int32(n), Int32(k), &ca, &cb, c, ldc, accumulate ? 1 : 0,
        Int32(rows.lowerBound), Int32(rows.upperBound), Int32(columns.lowerBound), Int32(columns.upperBound),
        scratch.assumingMemoryBound(to: UInt16.self))
    }
  }
}

extension BF16GEMM.Operand {
  var isPacked: Bool {
    if case .packed = self { return true }
    return false
  }

  /// The C view; a packed matrix's storage must outlive its use (see `withExtendedLifetime`).
  var cOperand: ck_bf16_operand {
    switch self {
    case .packed(let p):
      return ck_bf16_operand(packed: p.bits, data: nil, kind: CK_BF16_SRC_F32, ld: 0, trans: 0)
    case .floats(let pointer, let ld, let transposed):
      return ck_bf16_operand(
        packed: nil, data: UnsafeRawPointer(pointer), kind: CK_BF16_SRC_F32, ld: ld, trans: transposed ? 1 : 0)
    }
  }
}
