import CKernels
@testable import SDTensor
import Foundation
import Testing

/// Properties of the one blocking driver that every kernel-table row shares (`PackedGEMM`),
/// checked for each element type this CPU runs: results do not depend on how C is split into
/// ranges (threads), at shapes whose edges cut every tile and block, and a 16-bit operand
/// (`.halves`, packed per call or whole) multiplies exactly as its widened fp32 values.
@Suite struct PackedGEMMTests {
  typealias Problem = BF16GEMMTests.Problem

  /// The element types with a kernel here.
  static var elements: [any GEMMElement.Type] {
    [BF16Element.self, F32Element.self].filter { $0.kernel != nil }
  }

  /// C after `op(A)·op(B) + C0` with `Element`'s kernel: one threaded call, or one call per range.
  static func run<Element: GEMMElement>(
    _: Element.Type, _ p: Problem, packA: Bool, packB: Bool, pieces: [(Range<Int>, Range<Int>)]? = nil
  ) -> [Float] {
    var c = p.c0
    p.a.withUnsafeBufferPointer { ap in
      p.b.withUnsafeBufferPointer { bp in
        c.withUnsafeMutableBufferPointer { cp in
          func operand(_ side: GEMMSide, _ pack: Bool, _ data: UnsafePointer<Float>) -> PackedGEMM<Element>.Operand {
            let (rows, columns, ld, t) = side == .a ? (p.m, p.k, p.lda, p.transA) : (p.k, p.n, p.ldb, p.transB)
            guard pack else { return .floats(data, leadingDimension: ld, transposed: t) }
            return .packed(PackedMatrix(side: side, rows: rows, columns: columns, floats: data, leadingDimension: ld, transposed: t))
          }
          let a = operand(.a, packA, ap.baseAddress!), b = operand(.b, packB, bp.baseAddress!)
          guard let pieces else {
            PackedGEMM<Element>.multiply(m: p.m, n: p.n, k: p.k, a: a, b: b, c: cp.baseAddress!, ldc: p.ldc, accumulate: true)
            return
          }
          for (rows, columns) in pieces {
            PackedGEMM<Element>.multiply(
              m: p.m, n: p.n, k: p.k, a: a, b: b, c: cp.baseAddress!, ldc: p.ldc, accumulate: true, rows: rows, columns: columns)
          }
        }
      }
    }
    return c
  }

  /// Shapes with partial tiles on both edges, an odd k (a padded bf16 k-pair) over several
  /// k blocks, and more rows and columns than one cache block of either kernel.
  static let tailShapes: [(Int, Int, Int)] = [(13, 101, 517), (267, 53, 259), (41, 547, 33)]

  @Test(arguments: tailShapes)
  func splitsAtTailShapesAreBitIdentical(shape: (Int, Int, Int)) {
    let (m, n, k) = shape
    for element in Self.elements {
      for (index, (packA, packB)) in [(false, false), (true, false), (false, true), (true, true)].enumerated() {
        let p = Problem(m: m, n: n, k: k, transA: index % 2 == 1, transB: index < 2, seed: UInt64(31 + index), integers: false)
        let whole = Self.run(element, p, packA: packA, packB: packB)
        let kernel = element.kernel!
        // Cuts at panel boundaries (required where the operand is packed), each leaving a ragged remainder.
        let r = min(m - 1, kernel.rowPanel * (packA ? 1 : 3) + (packA ? 0 : 1))
        let q = min(n - 1, kernel.columnPanel * (packB ? 1 : 2) + (packB ? 0 : 5))
        let pieces = [(0..<r, 0..<q), (0..<r, q..<n), (r..<m, 0..<q), (r..<m, q..<n)]
        let split = Self.run(element, p, packA: packA, packB: packB, pieces: pieces)
        let single = Self.run(element, p, packA: packA, packB: packB, pieces: [(0..<m, 0..<n)])
        #expect(split == whole && single == whole, "\(element.name) \(m)×\(n)×\(k) packA \(packA) packB \(packB)")
      }
    }
  }

  /// `.halves` (fp16 or bf16 bits, raw or packed whole, and prepacked by the threaded product)
  /// gives the product of the widened fp32 values bit for bit.
  @Test(arguments: [false, true])
  func halvesMultiplyAsTheirWidenedValues(isBFloat16: Bool) {
    let (m, n, k) = (300, 70, 263)
    for element in Self.elements {
      // A: 16-bit weight [m × k] (stored k-contiguous); B: fp32 activations [k × n].
      let bits = BF16GEMMTests.randomBits(count: m * k, seed: 11, float16: !isBFloat16)
      var widened = [Float](repeating: 0, count: bits.count)
      if isBFloat16 { HalfConversion.bfloat16ToFloat(bits, &widened, count: bits.count) } else {
        HalfConversion.float16ToFloat(bits, &widened, count: bits.count)
      }
      var rng = TorchRandom(seed: 12)
      let b = rng.randn([k * n]).data
      func product(_ a: (UnsafePointer<UInt16>, UnsafePointer<Float>) -> AnyOperand) -> [Float] {
        var c = [Float](repeating: 0, count: m * n)
        bits.withUnsafeBufferPointer { hp in
          widened.withUnsafeBufferPointer { wp in
            b.withUnsafeBufferPointer { bp in
              c.withUnsafeMutableBufferPointer { cp in
                a(hp.baseAddress!, wp.baseAddress!).multiply(element, m: m, n: n, k: k, b: bp.baseAddress!, c: cp.baseAddress!)
              }
            }
          }
        }
        return c
      }
      let reference = product { _, w in .floats(w) }
      #expect(product { h, _ in .halves(h, isBFloat16: isBFloat16) } == reference, "\(element.name) raw")
      #expect(product { h, _ in .packedHalves(h, isBFloat16: isBFloat16) } == reference, "\(element.name) packed")
    }
  }

  /// An A operand of `halvesMultiplyAsTheirWidenedValues`, for any element type.
  enum AnyOperand {
    case floats(UnsafePointer<Float>)
    case halves(UnsafePointer<UInt16>, isBFloat16: Bool)
    case packedHalves(UnsafePointer<UInt16>, isBFloat16: Bool)

    func multiply(
      _ element: any GEMMElement.Type, m: Int, n: Int, k: Int, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>
    ) {
      func run<Element: GEMMElement>(_: Element.Type) {
        let a: PackedGEMM<Element>.Operand
        switch self {
        case .floats(let w): a = .floats(w, leadingDimension: k)
        case .halves(let h, let isBFloat16): a = .halves(h, leadingDimension: k, isBFloat16: isBFloat16)
        case .packedHalves(let h, let isBFloat16):
          a = .packed(PackedMatrix(side: .a, rows: m, columns: k, halfBits: h, isBFloat16: isBFloat16, leadingDimension: k))
        }
        PackedGEMM<Element>.multiply(m: m, n: n, k: k, a: a, b: .floats(b, leadingDimension: n), c: c, ldc: n)
      }
      run(element)
    }
  }

  /// The kernel table: each element's kernel packs its own element, and the kernel path that
  /// `sdedit bench` prints is the one the products use. SDEDIT_DISABLE_AVX512=1 leaves no kernel.
  @Test func kernelTableAndReportedPath() {
    if let kernel = BF16Element.kernel {
      #expect(kernel.pointer.pointee.element == CK_GEMM_BF16 && kernel.pointer.pointee.element_bytes == 2)
    }
    if let kernel = F32Element.kernel {
      #expect(kernel.pointer.pointee.element == CK_GEMM_F32 && kernel.pointer.pointee.element_bytes == 4)
    }
    #expect(CPUInfo.kernelPath(for: .bf16) == (BF16Element.kernel ?? F32Element.kernel)?.name ?? "OpenBLAS")
    #expect(CPUInfo.kernelPath(for: .fp32) == F32Element.kernel?.name ?? "OpenBLAS")
    if let off = ProcessInfo.processInfo.environment["SDEDIT_DISABLE_AVX512"], !off.isEmpty, off != "0" {
      #expect(BF16Element.kernel == nil && F32Element.kernel == nil)
    }
  }
}
