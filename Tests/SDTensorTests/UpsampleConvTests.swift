import SDTensor
import Testing

/// `conv2d(…, upsample: 2)` reads the nearest-2× enlargement straight from the image
/// (`ck_conv_source.upsample`): bit-identical to enlarging first and convolving, for every
/// weight form (packed fp32, packed bf16, 16-bit bits, plain fp32 fallback).
@Suite struct UpsampleConvTests {
  @Test(arguments: [
    (3, 1, 1, 5, 7), (3, 1, 1, 1, 1), (3, 2, 1, 6, 9), (1, 1, 0, 4, 3), (3, 1, 0, 8, 8), (3, 1, 2, 3, 5), (3, 1, 1, 17, 33),
  ])
  func matchesEnlargingFirst(kernel: Int, stride: Int, padding: Int, height: Int, width: Int) {
    var rng = TorchRandom(seed: UInt64(kernel * 100 + height * 10 + width))
    let x = rng.randn([2, 6, height, width]), weight = rng.randn([10, 6, kernel, kernel]), bias = rng.randn([10])
    let enlarged = x.upsampledNearest2x()
    var forms: [(String, MatrixWeight)] = [("fp32", MatrixWeight(weight, role: .convolution, precision: .fp32))]
    if BF16GEMM.isAvailable { forms.append(("bf16", MatrixWeight(weight, role: .convolution, precision: .bf16))) }
    var halves = [UInt16](repeating: 0, count: weight.count)
    weight.data.withUnsafeBufferPointer { HalfConversion.floatToFloat16($0.baseAddress!, &halves, count: weight.count) }
    if let half = halves.withUnsafeBufferPointer({
      MatrixWeight.keepingHalfBits(bits: $0.baseAddress!, isBFloat16: false, shape: weight.shape, role: .convolution)
    }) {
      forms.append(("f16 bits", half))
    }
    for (name, w) in forms {
      let fused = x.conv2d(weight: w, bias: bias, stride: stride, padding: .uniform(padding), upsample: 2)
      let reference = enlarged.conv2d(weight: w, bias: bias, stride: stride, padding: .uniform(padding))
      #expect(fused.shape == reference.shape, "\(name)")
      #expect(fused.data == reference.data, "\(name): kernel \(kernel) stride \(stride) padding \(padding) \(height)×\(width)")
    }
  }
}
