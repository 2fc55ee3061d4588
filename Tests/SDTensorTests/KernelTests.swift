import SDModels
import SDTensor
import SDTestSupport
import Testing

/// Each kernel against PyTorch's output for the same inputs (scripts/fixtures/kernels.py).
/// Error measure: max |ours − torch| / max(1, max |torch|) ≤ 1e-5.
@Suite struct KernelTests {
  let file: SafeTensorsFile

  init() throws {
    file = try SafeTensorsFile(url: Fixtures.url("kernels/kernels.safetensors"))
  }

  func t(_ name: String) throws -> Tensor { try file.tensor(name) }

  func expectMatches(_ ours: Tensor, _ reference: String, tolerance: Float = 1e-5) throws {
    let ref = try t(reference)
    #expect(ours.shape == ref.shape, "\(reference): shape \(ours.shape) vs \(ref.shape)")
    let err = Compare.maxAbsDiff(ours.data, ref.data) / max(1, Compare.maxAbs(ref.data))
    #expect(err <= tolerance, "\(reference): relative error \(err)")
  }

  @Test func linear() throws {
    try expectMatches(try t("linear.x").linear(weight: t("linear.weight"), bias: t("linear.bias")), "linear.out")
  }

  @Test func batchedMatmul() throws {
    try expectMatches(try t("matmul.a").matmul(t("matmul.b")), "matmul.out")
    try expectMatches(try t("matmul.a").matmul(t("matmul.b").transposedLastTwo(), transposeB: true), "matmul.out")
  }

  @Test(arguments: [("conv3x3", 1, 1), ("conv3x3s2", 2, 1), ("conv1x1", 1, 0), ("conv3x3wide", 1, 1)])
  func convolution(name: String, stride: Int, padding: Int) throws {
    let y = try t("\(name).x").conv2d(
      weight: t("\(name).weight"), bias: t("\(name).bias"), stride: stride, padding: padding)
    try expectMatches(y, "\(name).out")
  }

  @Test func asymmetricPaddingConvolution() throws {
    let y = try t("conv3x3s2asym.x").conv2d(
      weight: t("conv3x3s2asym.weight"), bias: t("conv3x3s2asym.bias"), stride: 2,
      padding: Conv2DPadding(top: 0, left: 0, bottom: 1, right: 1))
    try expectMatches(y, "conv3x3s2asym.out")
  }

  @Test func convolutionInSmallBands() throws {
    // Forces several im2col bands, including a short last one.
    let x = try t("conv3x3wide.x")
    let y = Tensor.withColumnBudget(32 * 9 * 18 * 3) {
      x.conv2d(weight: try! t("conv3x3wide.weight"), bias: try! t("conv3x3wide.bias"), padding: 1)
    }
    try expectMatches(y, "conv3x3wide.out")
  }

  @Test func groupNorm() throws {
    let x = try t("groupnorm.x")
    try expectMatches(
      x.groupNorm(groups: 3, weight: t("groupnorm.weight"), bias: t("groupnorm.bias"), eps: 1e-6), "groupnorm.out")
    try expectMatches(
      x.groupNorm(groups: 3, weight: t("groupnorm.weight"), bias: t("groupnorm.bias"), eps: 1e-6, activation: .silu),
      "groupnormsilu.out")
  }

  @Test func layerNorm() throws {
    try expectMatches(
      try t("layernorm.x").layerNorm(weight: t("layernorm.weight"), bias: t("layernorm.bias"), eps: 1e-5),
      "layernorm.out")
  }

  @Test func softmax() throws {
    try expectMatches(try t("softmax.x").softmax(), "softmax.out")
  }

  @Test(arguments: [("silu", Activation.silu), ("gelu", .gelu), ("gelutanh", .geluTanh), ("quickgelu", .quickGELU)])
  func activation(name: String, activation: Activation) throws {
    try expectMatches(try t("\(name).x").applying(activation), "\(name).out")
  }

  @Test func crossAttention() throws {
    let y = try Attention.scaledDotProduct(q: t("attention.q"), k: t("attention.k"), v: t("attention.v"), heads: 4)
    try expectMatches(y, "attention.out")
  }

  @Test func selfAttentionOverSeveralBlocks() throws {
    let q = try t("attentionself.q")
    try expectMatches(Attention.scaledDotProduct(q: q, k: q, v: q, heads: 2), "attentionself.out")
  }

  @Test func resampling() throws {
    let x = try t("upsample2x.x")
    try expectMatches(x.upsampledNearest2x(), "upsample2x.out")
    try expectMatches(x.resizedNearest(height: 3, width: 4), "resizenearest.out")
  }

  @Test func shapeOps() throws {
    let x = try t("permute0213.x")
    try expectMatches(x.permuted(0, 2, 1, 3), "permute0213.out")
    try expectMatches(x.permuted(0, 2, 3, 1), "permute0231.out")
    let cat = Tensor.concat([try t("concat1.a"), try t("concat1.b")], axis: 1)
    try expectMatches(cat, "concat1.out")
    let parts = cat.split(axis: 1, sizes: [3, 2])
    #expect(parts[0] == (try t("concat1.a")))
    #expect(parts[1] == (try t("concat1.b")))
  }

  @Test func float16ToFloatIsExactForEveryBitPattern() throws {
    let reference = try t("f16.values")
    var bits = (0..<65536).map { UInt16($0) }
    var out = [Float](repeating: 0, count: 65536)
    HalfConversion.float16ToFloat(&bits, &out, count: 65536)
    for i in 0..<65536 {
      let a = out[i], b = reference.data[i]
      #expect(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN), "f16 \(i): \(a) vs \(b)")
      if !(a.bitPattern == b.bitPattern || (a.isNaN && b.isNaN)) { break }
    }
  }

  @Test func roundingToSixteenBitsMatchesTorch() throws {
    let x = try t("round.x").data
    var half = [UInt16](repeating: 0, count: x.count), back = [Float](repeating: 0, count: x.count)
    HalfConversion.floatToBFloat16(x, &half, count: x.count)
    HalfConversion.bfloat16ToFloat(half, &back, count: x.count)
    #expect(back == (try t("round.bf16")).data)
    HalfConversion.floatToFloat16(x, &half, count: x.count)
    HalfConversion.float16ToFloat(half, &back, count: x.count)
    #expect(back == (try t("round.f16")).data)
  }
}
