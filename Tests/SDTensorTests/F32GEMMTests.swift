@testable import SDTensor
import SDTestSupport
import Testing

/// The FP32 GEMM (`F32GEMM`, `PackedF32Matrix`) against an fp64 product of the same operands.
/// - small-integer operands: every partial sum is an integer below 2^24, so any order is exact
///   and the result must equal the reference exactly (catches lost, doubled or misplaced terms:
///   indexing, padding, edge tiles, k blocks, transposes, packed and raw operands);
/// - random normal operands: within the fp32 summation bound (below);
/// - determinism: any split of C into ranges, and the threaded product, are bit-identical.
@Suite(.enabled(if: F32GEMM.isAvailable, "this CPU has no AVX-512: sgemm is used instead"))
struct F32GEMMTests {
  typealias Problem = BF16GEMMTests.Problem

  static func run(_ p: Problem, packA: Bool, packB: Bool, accumulate: Bool, pieces: [(Range<Int>, Range<Int>)]? = nil) -> [Float] {
    var c = p.c0
    p.a.withUnsafeBufferPointer { ap in
      p.b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          func operand(_ side: PackedF32Matrix.Side, _ pack: Bool, _ data: UnsafePointer<Float>) -> F32GEMM.Operand {
            let (rows, columns, ld, t) = side == .a ? (p.m, p.k, p.lda, p.transA) : (p.k, p.n, p.ldb, p.transB)
            guard pack else { return .floats(data, leadingDimension: ld, transposed: t) }
            return .packed(PackedF32Matrix(side: side, rows: rows, columns: columns, floats: data, leadingDimension: ld, transposed: t))
          }
          let oa = operand(.a, packA, ap.baseAddress!), ob = operand(.b, packB, bp.baseAddress!)
          guard let pieces else {
            F32GEMM.multiply(m: p.m, n: p.n, k: p.k, a: oa, b: ob, c: cp.baseAddress!, ldc: p.ldc, accumulate: accumulate)
            return
          }
          for (rows, columns) in pieces {
            F32GEMM.multiply(
              m: p.m, n: p.n, k: p.k, a: oa, b: ob, c: cp.baseAddress!, ldc: p.ldc, accumulate: accumulate,
              rows: rows, columns: columns)
          }
        }
      }
    }
    return c
  }

  /// fp64 reference (no rounding of the operands) and Σ|a·b| + |C0| per element.
  static func reference(_ p: Problem, accumulate: Bool) -> (value: [Double], magnitude: [Double]) {
    var value = [Double](repeating: 0, count: p.m * p.n), magnitude = value
    for i in 0..<p.m {
      for j in 0..<p.n {
        var s = accumulate ? Double(p.c0[i * p.ldc + j]) : 0, mag = abs(s)
        for q in 0..<p.k {
          let x = Double(p.aAt(i, q)) * Double(p.bAt(q, j))
          s += x
          mag += abs(x)
        }
        value[i * p.n + j] = s
        magnitude[i * p.n + j] = mag
      }
    }
    return (value, magnitude)
  }

  /// As the BF16 shapes, with the fp32 blocking in mind: KC 256 (k 255/256/257, 513, 1001),
  /// MC 128 (> 128 and > 256 rows), NC 480 (> 480 columns), edge tiles below 8 × 48 and 16.
  static let shapes: [(Int, Int, Int)] = [
    (1, 1, 1), (3, 5, 7), (8, 48, 2), (9, 49, 3), (7, 47, 385), (17, 97, 513), (64, 40, 257),
    (33, 100, 800), (100, 33, 1001), (300, 70, 50), (20, 600, 31), (130, 17, 256), (16, 500, 255), (129, 33, 9),
  ]

  @Test(arguments: shapes)
  func exactOnSmallIntegers(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (index, (ta, tb, pa, pb)) in BF16GEMMTests.modes.enumerated() {
      let p = Problem(m: m, n: n, k: k, transA: ta, transB: tb, seed: UInt64(index + 1), integers: true)
      let accumulate = index % 3 == 0
      let c = Self.run(p, packA: pa, packB: pb, accumulate: accumulate)
      let ref = Self.reference(p, accumulate: accumulate).value
      var mismatches = 0
      for i in 0..<m {
        for j in 0..<n where Double(c[i * p.ldc + j]) != ref[i * n + j] { mismatches += 1 }
        for j in n..<p.ldc where c[i * p.ldc + j] != p.c0[i * p.ldc + j] { mismatches += 1 }
      }
      #expect(mismatches == 0, "\(m)×\(n)×\(k) transA \(ta) transB \(tb) packA \(pa) packB \(pb): \(mismatches) wrong")
    }
  }

  /// fp32 summation bound: products are rounded once inside each FMA together with the running
  /// sum, so a block's FMA chain makes one rounding per k; adding a block sum to C makes one per
  /// k block, plus one for C0. Each rounding is at most u = 2⁻²⁴ times a partial sum's
  /// magnitude ≤ S = Σ|a·b| + |C0|: |C − reference| ≤ (k + k/256 + 2)·u·S ≤ (2k + 4)·u·S.
  @Test(arguments: shapes)
  func randomWithinSummationBound(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for (index, (ta, tb, pa, pb)) in BF16GEMMTests.modes.enumerated() where index % 3 != 1 {
      let p = Problem(m: m, n: n, k: k, transA: ta, transB: tb, seed: UInt64(100 + index), integers: false)
      let accumulate = index % 2 == 1
      let c = Self.run(p, packA: pa, packB: pb, accumulate: accumulate)
      let (ref, magnitude) = Self.reference(p, accumulate: accumulate)
      var worst = 0.0
      for i in 0..<m {
        for j in 0..<n {
          let bound = Double(2 * k + 4) * 0x1p-24 * magnitude[i * n + j]
          worst = max(worst, abs(Double(c[i * p.ldc + j]) - ref[i * n + j]) - bound)
        }
      }
      #expect(worst <= 0, "\(m)×\(n)×\(k) transA \(ta) transB \(tb) packA \(pa) packB \(pb): beyond the bound by \(worst)")
    }
  }

  /// Every split of C into row and column ranges — what the threads do — gives the threaded
  /// result bit for bit, for packed and raw operands, and leaves C outside the range alone.
  @Test(arguments: [(false, false), (true, false), (false, true), (true, true)])
  func splitsAreBitIdentical(packA: Bool, packB: Bool) {
    let (m, n, k) = (150, 530, 600)
    let p = Problem(m: m, n: n, k: k, transA: false, transB: true, seed: 7, integers: false)
    let whole = Self.run(p, packA: packA, packB: packB, accumulate: true)
    let rowPanel = packA ? F32GEMM.rowPanel : 1, columnPanel = packB ? F32GEMM.columnPanel : 1
    for (rowCut, columnCut) in [(3, 1), (16, 10), (1, 7)] {
      let r = min(m - 1, rowCut * rowPanel * (packA ? 1 : 13)), q = min(n - 1, columnCut * columnPanel * (packB ? 1 : 29))
      let pieces = [(0..<r, 0..<q), (0..<r, q..<n), (r..<m, 0..<q), (r..<m, q..<n)]
      #expect(Self.run(p, packA: packA, packB: packB, accumulate: true, pieces: pieces) == whole, "cut \(r), \(q)")
    }
    let single = Self.run(p, packA: packA, packB: packB, accumulate: true, pieces: [(0..<m, 0..<n)])
    #expect(single == whole)
    let partial = Self.run(p, packA: packA, packB: packB, accumulate: false, pieces: [(8..<m, 48..<n)])
    var outside = 0
    for i in 0..<m {
      for j in 0..<p.ldc where !(i >= 8 && j >= 48 && j < n) && partial[i * p.ldc + j] != p.c0[i * p.ldc + j] { outside += 1 }
    }
    #expect(outside == 0, "\(outside) elements outside the range changed")
  }

  @Test func emptyInnerDimension() {
    let p = Problem(m: 5, n: 9, k: 0, transA: false, transB: false, seed: 3, integers: false)
    let zeroed = Self.run(p, packA: false, packB: false, accumulate: false)
    #expect((0..<5).allSatisfy { i in (0..<9).allSatisfy { zeroed[i * p.ldc + $0] == 0 } })
    #expect(Self.run(p, packA: false, packB: false, accumulate: true) == p.c0)
  }

  /// Layers hold their fp32 weights packed and only packed (no second copy).
  @Test func matrixWeightHoldsOnePackedCopy() {
    var rng = TorchRandom(seed: 5)
    let w = rng.randn([40, 36])
    let weight = MatrixWeight(w, role: .linear, precision: .fp32)
    #expect(weight.packedFloat != nil && weight.float == nil && weight.packed == nil)
    #expect(weight.byteCount == 48 * 36 * 4)  // B side: 36 k-rows × 40 columns padded to one 48-wide panel
    let x = rng.randn([37, 36])
    let y = x.linear(weight: weight, bias: nil)
    let ref = x.matmul(w, transposeB: true)
    #expect(Compare.maxAbsDiff(y.data, ref.data) < 1e-4)
  }
}
