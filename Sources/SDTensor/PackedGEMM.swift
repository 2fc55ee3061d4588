import CKernels

/// Matrix products `C = op(A) · op(B) (+ C)` with operands in `Element` (bf16 or fp32) and fp32
/// accumulation, by sdedit's packed kernels (Sources/CKernels/GEMMDriver.c: one blocking
/// driver; the micro-kernel is the row of the kernel table that `Element.kernel` picked).
/// Use it as `BF16GEMM` or `F32GEMM`.
///
/// The fp32 summation order is fixed: each C element sums k in blocks of the kernel's depth
/// from k = 0, increasing k within a block, in one accumulator lane, then adds the block sums
/// (and C) in block order. Any split of C into ranges (threads) therefore gives bit-identical
/// results.
///
/// Each operand is a `PackedMatrix` (packed once, e.g. a weight) or memory that is packed block
/// by block during the product (an activation).
public enum PackedGEMM<Element: GEMMElement> {
  /// Whether this CPU and OS run a kernel for `Element`. Every other entry point, and
  /// `PackedMatrix`, requires it.
  public static var isAvailable: Bool { Element.kernel != nil }

  /// The kernel every product of `Element` runs (a programmer error where there is none).
  static var kernel: GEMMKernel {
    guard let kernel = Element.kernel else {
      preconditionFailure("\(Element.name)GEMM: this CPU has no \(Element.requirement) (check \(Element.name)GEMM.isAvailable)")
    }
    return kernel
  }

  /// Rows per A panel: a range of C rows passed to the single-threaded `multiply` must start
  /// at a multiple of this when A is packed.
  public static var rowPanel: Int { kernel.rowPanel }
  /// Columns per B panel: likewise for C columns when B is packed.
  public static var columnPanel: Int { kernel.columnPanel }

  /// One operand of a product.
  public enum Operand {
    /// A matrix packed for this operand position and shape.
    case packed(PackedMatrix<Element>)
    /// Row-major fp32 memory holding op(X) (`transposed == false`) or its transpose, with
    /// `leadingDimension` elements between stored rows.
    case floats(UnsafePointer<Float>, leadingDimension: Int, transposed: Bool = false)
    /// The same as 16-bit bits, fp16 or (`isBFloat16`) bfloat16 — e.g. a checkpoint's weight
    /// kept at 2 bytes a value — widened exactly while it is packed: the product equals the one
    /// with the widened fp32 copy bit for bit.
    case halves(UnsafePointer<UInt16>, leadingDimension: Int, transposed: Bool = false, isBFloat16: Bool)
  }

  /// `c[m × n] = op(a) · op(b)` (`accumulate == false`) or `c += op(a) · op(b)`, row-major with
  /// leading dimension `ldc`, split over `Threading.threadCount` threads (`GEMMSplit`).
  ///
  /// An operand that every range reads in full (the one not split) is packed once first, and
  /// so is a raw B that one range would pack again for each row block of A.
  public static func multiply(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool = false
  ) {
    guard m > 0, n > 0 else { return }
    validate(m: m, n: n, k: k, a: a, b: b, ldc: ldc)
    FLOPCounter.add(2 * m * n * k)
    let kernel = self.kernel
    let split = GEMMSplit(
      m: m, n: n, k: k, aPacked: a.isPacked, bPacked: b.isPacked, rowPanel: kernel.rowPanel,
      columnPanel: kernel.columnPanel)
    var a = a, b = b
    let repays = split.splitRows && m > kernel.rowBlock
    if k > 0, repays || split.chunks > 1 {
      if split.splitRows, !b.isPacked {
        b = .packed(b.packedWhole(side: .b, rows: k, columns: n))
      } else if !split.splitRows, !a.isPacked {
        a = .packed(a.packedWhole(side: .a, rows: m, columns: k))
      }
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
      "\(Element.name)GEMM", m: m, n: n, rows: rows, columns: columns, aPacked: a.isPacked, bPacked: b.isPacked,
      rowPanel: rowPanel, columnPanel: columnPanel)
    FLOPCounter.add(2 * rows.count * columns.count * k)
    run(m: m, n: n, k: k, a: a, b: b, c: c, ldc: ldc, accumulate: accumulate, rows: rows, columns: columns)
  }

  /// Checks shapes and sides (programmer errors).
  static func validate(m: Int, n: Int, k: Int, a: Operand, b: Operand, ldc: Int) {
    let name = "\(Element.name)GEMM"
    precondition(isAvailable, "\(name): this CPU has no \(Element.requirement) (check \(name).isAvailable)")
    precondition(k >= 0 && ldc >= n, "\(name): k \(k), ldc \(ldc) for n \(n)")
    for (operand, side, rows, columns) in [(a, GEMMSide.a, m, k), (b, .b, k, n)] {
      switch operand {
      case .packed(let p):
        precondition(
          p.side == side && p.rows == rows && p.columns == columns,
          "\(name): operand \(side) packed as \(p.side) \(p.rows)×\(p.columns), used as \(rows)×\(columns)")
      case .floats(_, let ld, let transposed), .halves(_, let ld, let transposed, _):
        precondition(ld >= (transposed ? rows : columns) || k == 0, "\(name): operand \(side) leading dimension \(ld)")
      }
    }
  }

  /// One C range on this thread.
  static func run(
    m: Int, n: Int, k: Int, a: Operand, b: Operand, c: UnsafeMutablePointer<Float>, ldc: Int,
    accumulate: Bool, rows: Range<Int>, columns: Range<Int>
  ) {
    withExtendedLifetime((a, b)) {
      var ca = a.cOperand, cb = b.cOperand
      run(m: m, n: n, k: k, a: &ca, b: &cb, c: c, ldc: ldc, accumulate: accumulate, rows: rows, columns: columns)
    }
  }

  /// One C range with C operands (also used by Conv2D for its convolution-source B), with
  /// scratch for the operands packed block by block.
  static func run(
    m: Int, n: Int, k: Int, a: UnsafePointer<ck_gemm_operand>, b: UnsafePointer<ck_gemm_operand>,
    c: UnsafeMutablePointer<Float>, ldc: Int, accumulate: Bool, rows: Range<Int>, columns: Range<Int>
  ) {
    let kernel = self.kernel.pointer
    let bytes = ck_gemm_scratch_bytes(kernel, Int32(rows.count), Int32(columns.count), Int32(k), a, b)
    let scratch = UnsafeMutableRawPointer.allocate(byteCount: Swift.max(bytes, 64), alignment: 64)
    defer { scratch.deallocate() }
    ck_gemm(
      kernel, Int32(m), Int32(n), Int32(k), a, b, c, ldc, accumulate ? 1 : 0,
      Int32(rows.lowerBound), Int32(rows.upperBound), Int32(columns.lowerBound), Int32(columns.upperBound), scratch)
  }
}

extension PackedGEMM.Operand {
  var isPacked: Bool {
    if case .packed = self { return true }
    return false
  }

  /// The C view; a packed matrix's storage must outlive its use (see `withExtendedLifetime`).
  var cOperand: ck_gemm_operand {
    switch self {
    case .packed(let p):
      return ck_gemm_operand(packed: p.baseAddress, data: nil, kind: CK_GEMM_SRC_F32, ld: 0, trans: 0)
    case .floats(let pointer, let ld, let transposed):
      return ck_gemm_operand(packed: nil, data: UnsafeRawPointer(pointer), kind: CK_GEMM_SRC_F32, ld: ld, trans: transposed ? 1 : 0)
    case .halves(let pointer, let ld, let transposed, let isBFloat16):
      return ck_gemm_operand(
        packed: nil, data: UnsafeRawPointer(pointer), kind: isBFloat16 ? CK_GEMM_SRC_BF16 : CK_GEMM_SRC_F16, ld: ld,
        trans: transposed ? 1 : 0)
    }
  }

  /// This operand packed whole for `side` as the logical `rows × columns` op(X).
  func packedWhole(side: GEMMSide, rows: Int, columns: Int) -> PackedMatrix<Element> {
    switch self {
    case .packed(let p): return p
    case .floats(let pointer, let ld, let transposed):
      return PackedMatrix(side: side, rows: rows, columns: columns, floats: pointer, leadingDimension: ld, transposed: transposed)
    case .halves(let pointer, let ld, let transposed, let isBFloat16):
      return PackedMatrix(
        side: side, rows: rows, columns: columns, halfBits: pointer, isBFloat16: isBFloat16, leadingDimension: ld,
        transposed: transposed)
    }
  }
}
