import SDTensor
import Testing

/// `conv2d(…, normalized:)` applies GroupNorm (+ SiLU) while packing its input (`fuseNorm: true`;
/// by default only for large maps) or to a copy first: either is bit-identical to
/// `groupNorm(…, activation:)` then `conv2d`, for every weight form and with zero padding kept
/// zero (padding is applied after the normalisation, as in PyTorch).
@Suite struct NormalizedConvTests {
  @Test(arguments: [(3, 1, 1, 5, 7, true), (3, 2, 1, 9, 6, true), (1, 1, 0, 4, 3, false), (3, 1, 1, 17, 33, true), (3, 1, 2, 3, 3, false)])
  func matchesNormalisingFirst(kernel: Int, stride: Int, padding: Int, height: Int, width: Int, silu: Bool) {
    var rng = TorchRandom(seed: UInt64(kernel * 1000 + height * 10 + width))
    let channels = 8, groups = 4
    let x = rng.randn([2, channels, height, width]) * 3 + 1
    let gamma = rng.randn([channels]), beta = rng.randn([channels])
    let weight = rng.randn([10, channels, kernel, kernel]), bias = rng.randn([10])
    let normalized = x.groupNorm(groups: groups, weight: gamma, bias: beta, eps: 1e-6, activation: silu ? .silu : nil)
    let (scale, shift) = x.groupNormCoefficients(groups: groups, weight: gamma, bias: beta, eps: 1e-6)
    let norm = ConvInputNorm(scale: scale, shift: shift, silu: silu)
    var forms: [(String, MatrixWeight)] = [("fp32", MatrixWeight(weight, role: .convolution, precision: .fp32))]
    if BF16GEMM.isAvailable { forms.append(("bf16", MatrixWeight(weight, role: .convolution, precision: .bf16))) }
    for (name, w) in forms {
      let reference = normalized.conv2d(weight: w, bias: bias, stride: stride, padding: .uniform(padding))
      for fuse in [true, false, nil] as [Bool?] {
        let y = x.conv2d(weight: w, bias: bias, stride: stride, padding: .uniform(padding), normalized: norm, fuseNorm: fuse)
        #expect(y.data == reference.data, "\(name), fuse \(String(describing: fuse)): kernel \(kernel) stride \(stride) padding \(padding) \(height)×\(width)")
      }
    }
  }
}
