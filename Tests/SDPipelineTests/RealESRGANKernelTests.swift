import Foundation
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// The kernels the ncnn graphs use against PyTorch (Tests/Fixtures/realesrgan/kernels.safetensors,
/// from scripts/fixtures/realesrgan.py), and the executor's element-wise layers on a tiny graph.
@Suite struct RealESRGANKernelTests {
  let file: SafeTensorsFile

  init() throws {
    file = try SafeTensorsFile(url: Fixtures.url("realesrgan/kernels.safetensors"))
  }

  func t(_ name: String) throws -> Tensor { try file.tensor(name) }

  func expectClose(_ ours: Tensor, _ reference: String, tolerance: Float = 1e-5) throws {
    let ref = try t(reference)
    #expect(ours.shape == ref.shape, "\(reference): shape \(ours.shape) vs \(ref.shape)")
    let err = Compare.maxAbsDiff(ours.data, ref.data) / max(1, Compare.maxAbs(ref.data))
    #expect(err <= tolerance, "\(reference): relative error \(err)")
  }

  @Test func pixelShuffle() throws {
    let x = try t("pixel_shuffle.x")  // [1, 32, 5, 7]
    try expectClose(x.pixelShuffled(2), "pixel_shuffle.r2", tolerance: 0)
    try expectClose(x.pixelShuffled(4), "pixel_shuffle.r4", tolerance: 0)
    // ncnn mode 1 reads channel (i·r + j)·C + c: the same as mode 0 after regrouping the channels.
    let regrouped = Tensor.concat((0..<8).map { c in Tensor.concat((0..<4).map { q in x.slice(axis: 1, (q * 8 + c)..<(q * 8 + c + 1)) }, axis: 1) }, axis: 1)
    #expect(x.pixelShuffled(2, subpixelMajor: true) == regrouped.pixelShuffled(2))
  }

  @Test func bicubicMatchesTorch() throws {
    try expectClose(try t("bicubic.up4.x").resizedBicubic(height: 28, width: 36), "bicubic.up4")
    let x = try t("bicubic.down.x")  // [1, 3, 24, 20]
    try expectClose(x.resizedBicubic(height: 12, width: 10), "bicubic.half")
    try expectClose(x.resizedBicubic(height: 18, width: 15), "bicubic.threequarter")
    // A band of rows is the same as those rows of the whole resize.
    let whole = x.resizedBicubic(height: 18, width: 15)
    #expect(x.resizedBicubic(height: 18, width: 15, rows: 5..<11) == whole.slice(axis: 2, 5..<11))
  }

  @Test func nearestAndActivations() throws {
    let x = try t("bicubic.down.x")
    try expectClose(x.resizedNearest(height: 48, width: 40, stepY: 0.5, stepX: 0.5), "nearest.up2", tolerance: 0)
    var leaky = try t("relu.x"), prelu = try t("relu.x"), fused = try t("relu.x")
    leaky.applyLeakyReLU(slope: 0.2)
    try expectClose(leaky, "relu.leaky", tolerance: 0)
    prelu.applyPReLU(slopes: try t("relu.slopes").data)
    try expectClose(prelu, "relu.prelu", tolerance: 0)
    fused.addChannelBias(Tensor(zeros: [4]), leakyReLUSlope: 0.2)
    try expectClose(fused, "relu.leaky", tolerance: 0)
  }

  /// Split, BinaryOp with scalars (mul, reverse sub), Eltwise sum with coefficients and max:
  /// output = max(0.5·3x + 2·(1 − x) − x, x) = max(2 − 1.5x, x).
  @Test func elementwiseLayersFollowNCNN() throws {
    let param = """
      7767517
      6 9
      Input     in    0 1 data
      Split     s     1 4 data a b c d
      BinaryOp  mul   1 1 a am 0=2 1=1 2=3.0
      BinaryOp  rsub  1 1 b bm 0=7 1=1 2=1.0
      Eltwise   sum   3 1 am bm c e 0=1 -23301=3,0.5,2.0,-1.0
      Eltwise   mx    2 1 e d output 0=2
      """
    var weights = NCNNWeightReader(data: Data(), file: "tiny.bin")
    let net = try NCNNNet(try NCNNParamFile.parse(param, file: "tiny.param"), weights: &weights)
    let x = Tensor(shape: [1, 2, 3, 4], data: (0..<24).map { Float($0) / 6 - 2 })
    let y = try net.forward(x)
    let expected = x.data.map { max(0.5 * (3 * $0) + 2 * (1 - $0) - $0, $0) }
    #expect(Compare.maxAbsDiff(y.data, expected) <= 1e-6)
    #expect(x.data == (0..<24).map { Float($0) / 6 - 2 }, "the input must not be overwritten")
  }
}
