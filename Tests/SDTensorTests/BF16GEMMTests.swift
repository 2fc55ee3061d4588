import SDTensor
import Testing

/// The BF16 GEMM (`BF16GEMM`, `PackedBF16Matrix`) against an fp64 product of the same operands
/// rounded to bfloat16 with `HalfConversion` (round to nearest even, as torch's `.bfloat16()`).
///
/// Three kinds of check, none with typed-in numbers:
/// - small-integer operands: every product and partial sum is an integer below 2^24, so any
///   summation order is exact in fp32 and the result must equal the reference exactly — this
///   catches any lost, doubled or misplaced term (indexing, padding, edge tiles, k blocks);
/// - random normal operands: the error must stay within the fp32 summation bound (below);
/// - identity products: `X · I` returns bf16(X) exactly, which checks the rounding of every
///   packing path (fp32, fp16 and bf16 sources, both sides, both layouts) bit for bit.
@Suite(.enabled(if: BF16GEMM.isAvailable, "this CPU has no AVX512_BF16: the bf16 GEMM is not used here"))
struct BF16GEMMTests {
  /// A product `C[m×n] = op(A)·op(B) (+ C0)` with stored operands padded to leading dimensions
  /// wider than their rows (so that row strides are exercised).
  struct Problem {
    let m: Int, n: Int, k: Int, transA: Bool, transB: Bool
    let lda: Int, ldb: Int, ldc: Int
    let a: [Float], b: [Float], c0: [Float]

    init(m: Int, n: Int, k: Int, transA: Bool, transB: Bool, seed: UInt64, integers: Bool) {
      self.m = m; self.n = n; self.k = k; self.transA = transA; self.transB = transB
      lda = (transA ? m : k) + 3
      ldb = (transB ? k : n) + 5
      ldc = n + 2
      var rng = TorchRandom(seed: seed)
      func values(_ count: Int) -> [Float] {
        if integers { return (0..<count).map { _ in Float(Int(rng.nextUInt32() % 7) - 3) } }
        return rng.randn([count]).data
      }
      a = values(lda * (transA ? k : m))
      b = values(ldb * (transB ? n : k))
      c0 = values(ldc * m)
    }

    func aAt(_ i: Int, _ q: Int) -> Float { transA ? a[q * lda + i] : a[i * lda + q] }
    func bAt(_ q: Int, _ j: Int) -> Float { transB ? b[j * ldb + q] : b[q * ldb + j] }

    func operand(_ side: PackedBF16Matrix.Side, packed: Bool, _ data: UnsafePointer<Float>) -> BF16GEMM.Operand {
      let (rows, columns, ld, t) = side == .a ? (m, k, lda, transA) : (k, n, ldb, transB)
      if packed {
        return .packed(PackedBF16Matrix(side: side, rows: rows, columns: columns, floats: data, leadingDimension: ld, transposed: t))
      }
      return .floats(data, leadingDimension: ld, transposed: t)
    }

    /// C after the product (all threads, or one call per range in `pieces`), starting from C0.
    func run(packA: Bool, packB: Bool, accumulate: Bool, pieces: [(Range<Int>, Range<Int>)]? = nil) -> [Float] {
      var c = c0
      a.withUnsafeBufferPointer { ap in
        b.withUnsafeBufferPointer { bp in
          c.withUnsafeMutableBufferPointer { cp in
            let oa = operand(.a, packed: packA, ap.baseAddress!), ob = operand(.b, packed: packB, bp.baseAddress!)
            guard let pieces else {
              BF16GEMM.multiply(m: m, n: n, k: k, a: oa, b: ob, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate)
              return
            }
            for (rows, columns) in pieces {
              BF16GEMM.multiply(
                m: m, n: n, k: k, a: oa, b: ob, c: cp.baseAddress!, ldc: ldc, accumulate: accumulate,
                rows: rows, columns: columns)
            }
          }
        }
      }
      return c
    }

    /// fp64 reference on bf16-rounded operands, and Σ|a·b| (+ |C0|) per element.
    func reference(accumulate: Bool) -> (value: [Double], magnitude: [Double]) {
      let ra = roundedToBF16(a), rb = roundedToBF16(b)
      let rounded = Problem(copying: self, a: ra, b: rb)
      var value = [Double](repeating: 0, count: m * n), magnitude = value
      for i in 0..<m {
        for j in 0..<n {
          var s = accumulate ? Double(c0[i * ldc + j]) : 0, mag = abs(s)
          for q in 0..<k {
            let p = Double(rounded.aAt(i, q)) * Double(rounded.bAt(q, j))
            s += p
            mag += abs(p)
          }
          value[i * n + j] = s
          magnitude[i * n + j] = mag
        }
      }
      return (value, magnitude)
    }

    init(copying p: Problem, a: [Float], b: [Float]) {
      m = p.m; n = p.n; k = p.k; transA = p.transA; transB = p.transB
      lda = p.lda; ldb = p.ldb; ldc = p.ldc
      self.a = a; self.b = b; c0 = p.c0
    }
  }

  static func roundedToBF16(_ x: [Float]) -> [Float] {
    var bits = [UInt16](repeating: 0, count: x.count), out = [Float](repeating: 0, count: x.count)
    HalfConversion.floatToBFloat16(x, &bits, count: x.count)
    HalfConversion.bfloat16ToFloat(bits, &out, count: x.count)
    return out
  }

  /// Shapes: single elements, everything below one micro-tile (8 × 48), exact tiles, one past,
  /// odd k, k across several 256-deep cache blocks, > 256 rows (several A blocks when A is fp32),
  /// > 528 columns (several B blocks when B is fp32), and head-sized attention products.
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (3, 5, 7), (8, 48, 2), (9, 49, 3), (7, 47, 385), (17, 97, 513), (64, 40, 257),
    (33, 100, 800), (100, 33, 1001), (300, 70, 50), (20, 600, 31), (256, 40, 130), (64, 130, 40),
  ]
  /// Operand modes: (transpose A, transpose B, pack A, pack B), all 16.
  static let modes: [(Bool, Bool, Bool, Bool)] = (0..<16).map { ($0 & 1 != 0, $0 & 2 != 0, $0 & 4 != 0, $0 & 8 != 0) }

  @Test(arguments: shapes)
  func exactOnSmallIntegers(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (index, (ta, tb, pa, pb)) in Self.modes.enumerated() {
      let problem = Problem(m: m, n: n, k: k, transA: ta, transB: tb, seed: UInt64(index + 1), integers: true)
      let accumulate = index % 3 == 0
      let c = problem.run(packA: pa, packB: pb, accumulate: accumulate)
      let ref = problem.reference(accumulate: accumulate).value
      var mismatches = 0
      for i in 0..<m {
        for j in 0..<n where Double(c[i * problem.ldc + j]) != ref[i * n + j] { mismatches += 1 }
        for j in n..<problem.ldc where c[i * problem.ldc + j] != problem.c0[i * problem.ldc + j] { mismatches += 1 }
      }
      #expect(mismatches == 0, "\(m)×\(n)×\(k) transA \(ta) transB \(tb) packA \(pa) packB \(pb): \(mismatches) wrong")
    }
  }

  /// fp32 summation bound. Products of two bf16 values are exact in fp32 (8 + 8 significand
  /// bits ≤ 24), so the only errors are the roundings of the running sums: at most one per
  /// product (vdpbf16ps may round after each of its two products), one per k block when the
  /// partial sum is added to C, and one for the initial C. Each rounding adds at most
  /// u = 2⁻²⁴ times the magnitude of a partial sum, itself ≤ S = Σ|a·b| + |C0|, so
  /// |C − reference| ≤ (k + k/256 + 2) · u · S; we allow (2k + 4) · u · S.
  @Test(arguments: shapes)
  func randomWithinSummationBound(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (index, (ta, tb, pa, pb)) in Self.modes.enumerated() where index % 3 != 1 {
      let problem = Problem(m: m, n: n, k: k, transA: ta, transB: tb, seed: UInt64(100 + index), integers: false)
      let accumulate = index % 2 == 1
      let c = problem.run(packA: pa, packB: pb, accumulate: accumulate)
      let (ref, magnitude) = problem.reference(accumulate: accumulate)
      var worst = 0.0
      for i in 0..<m {
        for j in 0..<n {
          let bound = Double(2 * k + 4) * 0x1p-24 * magnitude[i * n + j]
          let excess = abs(Double(c[i * problem.ldc + j]) - ref[i * n + j]) - bound
          worst = max(worst, excess)
        }
      }
      #expect(worst <= 0, "\(m)×\(n)×\(k) transA \(ta) transB \(tb) packA \(pa) packB \(pb): beyond the bound by \(worst)")
    }
  }

  /// Row and column ranges computed one call at a time (as a caller splitting work would) give
  /// the all-threads result bit for bit and leave the rest of C alone.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func subRangesMatchWholeProduct(packA: Bool, packB: Bool) {
    let (m, n, k) = (70, 150, 450)
    let problem = Problem(m: m, n: n, k: k, transA: false, transB: true, seed: 7, integers: false)
    let whole = problem.run(packA: packA, packB: packB, accumulate: true)
    // Split points: panel-aligned where the operand is packed, arbitrary otherwise.
    let rowCut = packA ? 3 * BF16GEMM.rowPanel : 29, columnCut = packB ? BF16GEMM.columnPanel : 61
    let pieces = [
      (0..<rowCut, 0..<columnCut), (0..<rowCut, columnCut..<n), (rowCut..<m, 0..<columnCut), (rowCut..<m, columnCut..<n),
    ]
    #expect(problem.run(packA: packA, packB: packB, accumulate: true, pieces: pieces) == whole)
    let partial = problem.run(packA: packA, packB: packB, accumulate: false, pieces: [pieces[3]])
    var outside = 0
    for i in 0..<m {
      for j in 0..<problem.ldc where !(i >= rowCut && j >= columnCut && j < n) && partial[i * problem.ldc + j] != problem.c0[i * problem.ldc + j] {
        outside += 1
      }
    }
    #expect(outside == 0, "\(outside) elements outside the range changed")
  }

  /// `k = 0`: C = 0 without accumulation, unchanged with it.
  @Test func emptyInnerDimension() {
    let problem = Problem(m: 5, n: 9, k: 0, transA: false, transB: false, seed: 3, integers: false)
    let zeroed = problem.run(packA: false, packB: false, accumulate: false)
    #expect((0..<5).allSatisfy { i in (0..<9).allSatisfy { zeroed[i * problem.ldc + $0] == 0 } })
    #expect(problem.run(packA: false, packB: false, accumulate: true) == problem.c0)
  }

  // MARK: - Rounding of each packing path

  /// Normal fp32 values whose bf16 rounding is interesting: exact ties (low 16 bits 0x8000,
  /// both parities), one ulp either side of a tie, values that carry into the exponent, and
  /// random values; no subnormals (the kernel reads those as zero) and nothing that rounds to ∞.
  static func roundingProbe(count: Int, seed: UInt64) -> [Float] {
    var rng = TorchRandom(seed: seed)
    let tails: [UInt32] = [0x8000, 0x7fff, 0x8001, 0xffff, 0x0000, 0x0001]
    return (0..<count).map { index in
      let high = (rng.nextUInt32() % 0x7e00 + 0x0100) | (rng.nextUInt32() & 1) << 15  // sign, exponent 2...253
      let bits = index % 3 == 2 ? rng.nextUInt32() & 0x7eff_ffff | 0x0080_0000 : high << 16 | tails[index % tails.count]
      return Float(bitPattern: bits)
    }
  }

  /// Random 16-bit patterns: fp16 with every exponent but inf/NaN (fp16 subnormals are normal
  /// in bf16), or bf16 with a normal exponent.
  static func randomBits(count: Int, seed: UInt64, float16: Bool) -> [UInt16] {
    var rng = TorchRandom(seed: seed)
    return (0..<count).map { _ in
      let r = rng.nextUInt32()
      if float16 { return UInt16(r & 0xffff) & 0x7bff | UInt16(r >> 16 & 1) << 15 }  // exponent ≤ 30
      return UInt16(r % 0x7e00 + 0x0100) | UInt16(r >> 31) << 15
    }
  }

  /// `X · I` with X packed as A and `I · X` with X packed as B return bf16(X) exactly, for X
  /// from fp32 (rounded here), fp16 bits (exact fp32, then rounded) and bf16 bits (as is), in
  /// both stored layouts with a padded leading dimension.
  @Test(arguments: [false, true])
  func identityProductsReturnRoundedOperand(transposed: Bool) {
    let (rows, columns) = (13, 50)
    let ld = (transposed ? rows : columns) + 1
    let storedCount = ld * (transposed ? columns : rows)
    func logical(_ stored: [Float]) -> [Float] {
      (0..<rows * columns).map { transposed ? stored[($0 % columns) * ld + $0 / columns] : stored[($0 / columns) * ld + $0 % columns] }
    }
    let f32 = Self.roundingProbe(count: storedCount, seed: 11)
    let f16Bits = Self.randomBits(count: storedCount, seed: 12, float16: true)
    let bf16Bits = Self.randomBits(count: storedCount, seed: 13, float16: false)
    var f16Floats = [Float](repeating: 0, count: storedCount), bf16Floats = f16Floats
    HalfConversion.float16ToFloat(f16Bits, &f16Floats, count: storedCount)
    HalfConversion.bfloat16ToFloat(bf16Bits, &bf16Floats, count: storedCount)

    typealias Packer = (PackedBF16Matrix.Side) -> PackedBF16Matrix
    let cases: [(String, [Float], Packer)] = [
      ("fp32", f32, { side in f32.withUnsafeBufferPointer {
        PackedBF16Matrix(side: side, rows: rows, columns: columns, floats: $0.baseAddress!, leadingDimension: ld, transposed: transposed)
      } }),
      ("fp16", f16Floats, { side in f16Bits.withUnsafeBufferPointer {
        PackedBF16Matrix(side: side, rows: rows, columns: columns, halfBits: $0.baseAddress!, isBFloat16: false, leadingDimension: ld, transposed: transposed)
      } }),
      ("bf16", bf16Floats, { side in bf16Bits.withUnsafeBufferPointer {
        PackedBF16Matrix(side: side, rows: rows, columns: columns, halfBits: $0.baseAddress!, isBFloat16: true, leadingDimension: ld, transposed: transposed)
      } }),
    ]
    func identity(_ size: Int) -> [Float] { (0..<size * size).map { $0 / size == $0 % size ? 1 : 0 } }
    let (left, right) = (identity(rows), identity(columns))
    for (name, stored, pack) in cases {
      let want = Self.roundedToBF16(logical(stored))
      var viaA = [Float](repeating: .nan, count: rows * columns), viaB = viaA
      right.withUnsafeBufferPointer { ip in
        BF16GEMM.multiply(
          m: rows, n: columns, k: columns, a: .packed(pack(.a)), b: .floats(ip.baseAddress!, leadingDimension: columns),
          c: &viaA, ldc: columns)
      }
      left.withUnsafeBufferPointer { ip in
        BF16GEMM.multiply(
          m: rows, n: columns, k: rows, a: .floats(ip.baseAddress!, leadingDimension: rows), b: .packed(pack(.b)),
          c: &viaB, ldc: columns)
      }
      #expect(viaA == want, "\(name) packed as A, transposed \(transposed)")
      #expect(viaB == want, "\(name) packed as B, transposed \(transposed)")
    }
  }

  /// A tensor packed with `init(side:matrix:transposed:)` (linear and conv weight layouts)
  /// gives the same product as the same values through fp32 pointers.
  @Test func tensorInitialiserReadsWeightLayouts() {
    var rng = TorchRandom(seed: 21)
    let x = rng.randn([37, 40]), linearWeight = rng.randn([56, 40]), convWeight = rng.randn([9, 4, 3, 3])
    let columns = rng.randn([36, 70])
    // linear: y[37 × 56] = x · Wᵀ.
    var y1 = [Float](repeating: 0, count: 37 * 56), y2 = y1
    x.withUnsafeBufferPointer { xp in
      linearWeight.withUnsafeBufferPointer { wp in
        let a = BF16GEMM.Operand.floats(xp.baseAddress!, leadingDimension: 40)
        BF16GEMM.multiply(
          m: 37, n: 56, k: 40, a: a, b: .packed(PackedBF16Matrix(side: .b, matrix: linearWeight, transposed: true)),
          c: &y1, ldc: 56)
        BF16GEMM.multiply(
          m: 37, n: 56, k: 40, a: a, b: .floats(wp.baseAddress!, leadingDimension: 40, transposed: true), c: &y2, ldc: 56)
      }
    }
    #expect(y1 == y2)
    // conv as GEMM: y[9 × 70] = W[9 × 36] · columns[36 × 70].
    var z1 = [Float](repeating: 0, count: 9 * 70), z2 = z1
    convWeight.withUnsafeBufferPointer { wp in
      columns.withUnsafeBufferPointer { cp in
        let b = BF16GEMM.Operand.floats(cp.baseAddress!, leadingDimension: 70)
        BF16GEMM.multiply(m: 9, n: 70, k: 36, a: .packed(PackedBF16Matrix(side: .a, matrix: convWeight)), b: b, c: &z1, ldc: 70)
        BF16GEMM.multiply(m: 9, n: 70, k: 36, a: .floats(wp.baseAddress!, leadingDimension: 36), b: b, c: &z2, ldc: 70)
      }
    }
    #expect(z1 == z2)
  }
}
