import Foundation
import SDModels
@testable import SDTensor
import SDTestSupport
import Testing

/// fp32 precision with F16/BF16 weights kept at 16 bits (`HalfMatrix`, `F32GEMM.Operand.halves`):
/// the GEMM widens them exactly while packing, so every product must equal, bit for bit, the one
/// with the widened fp32 weight packed once — for linear and convolution layers (both paths of a
/// 16-bit conv weight: packed whole per call, or block by block), raw GEMM operands on either
/// side, and weights loaded from a checkpoint (which must count as used).
@Suite(.enabled(if: F32GEMM.isAvailable, "this CPU has no AVX-512: fp32 keeps Float32 weights"))
struct HalfWeightF32Tests {
  /// Random values rounded to 16 bits: the bits and their exact fp32 widening.
  static func halfValues(_ shape: [Int], bfloat16: Bool, seed: UInt64) -> (bits: [UInt16], widened: Tensor) {
    var rng = TorchRandom(seed: seed)
    let t = rng.randn(shape)
    var bits = [UInt16](repeating: 0, count: t.count)
    var widened = [Float](repeating: 0, count: t.count)
    t.withUnsafeBufferPointer { src in
      bits.withUnsafeMutableBufferPointer { b in
        if bfloat16 {
          HalfConversion.floatToBFloat16(src.baseAddress!, b.baseAddress!, count: t.count)
          HalfConversion.bfloat16ToFloat(b.baseAddress!, &widened, count: t.count)
        } else {
          HalfConversion.floatToFloat16(src.baseAddress!, b.baseAddress!, count: t.count)
          HalfConversion.float16ToFloat(b.baseAddress!, &widened, count: t.count)
        }
      }
    }
    return (bits, Tensor(shape: shape, data: widened))
  }

  static func weight(_ bits: [UInt16], bfloat16: Bool, shape: [Int], role: MatrixWeight.Role) -> MatrixWeight {
    bits.withUnsafeBufferPointer {
      MatrixWeight.keepingHalfBits(bits: $0.baseAddress!, isBFloat16: bfloat16, shape: shape, role: role)!
    }
  }

  @Test(arguments: [false, true])
  func gemmOperandsEqualWidenedOnes(bfloat16: Bool) {
    // (m, n, k, A 16-bit, B 16-bit, transA, transB): k blocks (> 256), A blocks of 128 rows and
    // wider (16-bit A with one B block), B blocks (> 480 columns), odd edges.
    let cases: [(Int, Int, Int, Bool, Bool, Bool, Bool)] = [
      (5, 7, 3, true, false, false, false), (37, 53, 300, false, true, false, true),
      (300, 61, 520, true, false, false, false), (200, 500, 70, true, false, true, false),
      (9, 130, 257, true, true, true, true), (140, 33, 600, false, true, false, false),
      (700, 50, 40, true, false, false, true),
    ]
    for (i, (m, n, k, halfA, halfB, transA, transB)) in cases.enumerated() {
      let a = Self.halfValues(transA ? [k, m] : [m, k], bfloat16: bfloat16, seed: UInt64(10 + i))
      let b = Self.halfValues(transB ? [n, k] : [k, n], bfloat16: bfloat16, seed: UInt64(50 + i))
      let (lda, ldb) = (transA ? m : k, transB ? k : n)
      var expected = [Float](repeating: 0, count: m * n), got = expected, pieces = expected
      a.widened.withUnsafeBufferPointer { af in
        b.widened.withUnsafeBufferPointer { bf in
          a.bits.withUnsafeBufferPointer { ah in
            b.bits.withUnsafeBufferPointer { bh in
              let pa = PackedF32Matrix(side: .a, rows: m, columns: k, floats: af.baseAddress!, leadingDimension: lda, transposed: transA)
              let pb = PackedF32Matrix(side: .b, rows: k, columns: n, floats: bf.baseAddress!, leadingDimension: ldb, transposed: transB)
              F32GEMM.multiply(m: m, n: n, k: k, a: .packed(pa), b: .packed(pb), c: &expected, ldc: n)
              let oa: F32GEMM.Operand = halfA
                ? .halves(ah.baseAddress!, leadingDimension: lda, transposed: transA, isBFloat16: bfloat16)
                : .floats(af.baseAddress!, leadingDimension: lda, transposed: transA)
              let ob: F32GEMM.Operand = halfB
                ? .halves(bh.baseAddress!, leadingDimension: ldb, transposed: transB, isBFloat16: bfloat16)
                : .floats(bf.baseAddress!, leadingDimension: ldb, transposed: transB)
              F32GEMM.multiply(m: m, n: n, k: k, a: oa, b: ob, c: &got, ldc: n)
              // Single ranges on this thread: the raw operands packed block by block in the kernel.
              let half = (m / 2 + 7) / 8 * 8
              for rows in [0..<min(half, m), min(half, m)..<m] where !rows.isEmpty {
                F32GEMM.multiply(m: m, n: n, k: k, a: oa, b: ob, c: &pieces, ldc: n, rows: rows, columns: 0..<n)
              }
            }
          }
        }
      }
      #expect(got == expected, "case \(i)")
      #expect(pieces == expected, "case \(i) in ranges")
    }
  }

  @Test(arguments: [false, true])
  func linearEqualsWidenedWeight(bfloat16: Bool) {
    for (i, (out, inFeatures, rows)) in [(24, 40, 5), (61, 300, 1), (130, 77, 300), (500, 33, 9)].enumerated() {
      let w = Self.halfValues([out, inFeatures], bfloat16: bfloat16, seed: UInt64(100 + i))
      let kept = Self.weight(w.bits, bfloat16: bfloat16, shape: [out, inFeatures], role: .linear)
      #expect(kept.halves != nil && kept.packedFloat == nil && kept.precision == .fp32)
      #expect(kept.byteCount == out * inFeatures * 2)
      let widened = MatrixWeight(w.widened, role: .linear, precision: .fp32)
      var rng = TorchRandom(seed: UInt64(200 + i))
      let x = rng.randn([rows, inFeatures]), bias = rng.randn([out])
      #expect(x.linear(weight: kept, bias: bias).data == x.linear(weight: widened, bias: bias).data, "case \(i)")
    }
  }

  @Test(arguments: [false, true])
  func convolutionEqualsWidenedWeight(bfloat16: Bool) {
    // (out, in, kernel, stride, height, width, batch): 16-bit weights packed block by block
    // (few pixels or channels) and packed whole per call (many of both), 1×1 pointwise too.
    let cases: [(Int, Int, Int, Int, Int, Int, Int)] = [
      (16, 6, 3, 1, 7, 9, 2), (16, 6, 3, 2, 7, 9, 1), (136, 5, 3, 1, 21, 19, 2), (136, 9, 3, 2, 33, 31, 1),
      (140, 11, 1, 1, 23, 17, 2), (12, 7, 1, 2, 9, 9, 1), (200, 40, 3, 1, 4, 5, 2),
    ]
    for (i, (o, c, kernel, stride, h, w, n)) in cases.enumerated() {
      let wt = Self.halfValues([o, c, kernel, kernel], bfloat16: bfloat16, seed: UInt64(300 + i))
      let kept = Self.weight(wt.bits, bfloat16: bfloat16, shape: [o, c, kernel, kernel], role: .convolution)
      let widened = MatrixWeight(wt.widened, role: .convolution, precision: .fp32)
      var rng = TorchRandom(seed: UInt64(400 + i))
      let x = rng.randn([n, c, h, w]), bias = rng.randn([o])
      let padding = Conv2DPadding.uniform(kernel / 2)
      let got = x.conv2d(weight: kept, bias: bias, stride: stride, padding: padding)
      let expected = x.conv2d(weight: widened, bias: bias, stride: stride, padding: padding)
      #expect(got.shape == expected.shape && got.data == expected.data, "case \(i)")
    }
  }

  @Test(arguments: [SafeTensorsDType.f16, .bf16, .f32])
  func checkpointWeightsStay16Bit(dtype: SafeTensorsDType) throws {
    var rng = TorchRandom(seed: 12)
    let linear = rng.randn([24, 40]), conv = rng.randn([16, 6, 3, 3]), pointwise = rng.randn([8, 6])
    let projIn = rng.randn([10, 8, 1, 1]), bias = rng.randn([16])
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let url = dir.appendingPathComponent("w.safetensors")
    try SafeTensorsWriter.write(
      [("lin.weight", linear), ("conv.weight", conv), ("conv.bias", bias), ("pw.weight", pointwise),
       ("proj.weight", projIn)],
      dtype: dtype, to: url)
    let file = try SafeTensorsFile(url: url)
    let store = try WeightStore(files: [file])
    store.precision = .fp32
    let w = WeightScope(store)
    let is16 = dtype != .f32

    let lin = try Linear(w("lin"), in: 40, out: 24, bias: false)
    #expect((lin.weight.halves != nil) == is16 && (lin.weight.packedFloat != nil) == !is16)
    let x = rng.randn([5, 40])
    let widened = MatrixWeight(try file.tensor("lin.weight"), role: .linear, precision: .fp32)
    #expect(lin(x).data == x.linear(weight: widened, bias: nil).data)

    let image = rng.randn([2, 6, 7, 9])
    let convLayer = try Conv2DLayer(w("conv"), in: 6, out: 16, kernel: 3)
    #expect((convLayer.weight.halves != nil) == is16)
    let widenedConv = MatrixWeight(try file.tensor("conv.weight"), role: .convolution, precision: .fp32)
    #expect(
      convLayer(image).data
        == image.conv2d(weight: widenedConv, bias: try file.tensor("conv.bias"), padding: .uniform(1)).data)

    // A 1×1 convolution stored as a linear weight [out, in], and a linear one stored as [out, in, 1, 1].
    let pw = try Conv2DLayer(w("pw"), in: 6, out: 8, kernel: 1, bias: false)
    let widenedPW = MatrixWeight(try file.tensor("pw.weight").reshaped([8, 6, 1, 1]), role: .convolution, precision: .fp32)
    #expect(pw(image).data == image.conv2d(weight: widenedPW, bias: nil, padding: .uniform(0)).data)
    let proj = try Linear(w("proj"), in: 8, out: 10, bias: false, acceptingPointwiseConv: true)
    #expect((proj.weight.halves != nil) == is16 && proj.weight.shape == [10, 8])
    let tokens = rng.randn([3, 8])
    let widenedProj = MatrixWeight(try file.tensor("proj.weight").reshaped([10, 8]), role: .linear, precision: .fp32)
    #expect(proj(tokens).data == tokens.linear(weight: widenedProj, bias: nil).data)
    #expect(store.unclaimedKeys.isEmpty)
  }
}
