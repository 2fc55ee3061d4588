import Foundation
import SDTensor
import Testing

/// The vectorised exact GELU (Sources/CKernels/GELU.c) against `x·½·erfc(−x/√2)` in Double (the
/// same function as `0.5·x·(1 + erf(x/√2))`, without its cancellation in the negative tail),
/// over both tails and zero, as an activation and inside GEGLU.
@Suite struct GELUTests {
  static func reference(_ x: Float) -> Double {
    let d = Double(x)
    return d * 0.5 * erfc(-d / 2.0.squareRoot())
  }

  /// Relative: a few float roundings (the erfc fit itself is within 1.2e-7) plus, in the negative
  /// tail, exp(−x²/2)'s amplification of the rounding of x²/2 in float (≈ x²·2⁻²³; any float
  /// GELU has it). Values below 1e-37 may flush to zero.
  static func tolerance(_ x: Float) -> Double { (Double(x * x) + 8) * 1.2e-7 }

  static let inputs: [Float] = {
    var values: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-4, -1e-4, 0.5, -0.5, 3, -3, 5.5, -5.5, 9, -9, 12, -12, 14, -14, 30, -30]
    var generator = SystemRandomNumberGenerator()
    values += (0..<2000).map { _ in Float.random(in: -8...8, using: &generator) }
    return values
  }()

  @Test func activationMatchesErf() {
    let y = Tensor(shape: [Self.inputs.count], data: Self.inputs).applying(.gelu)
    for (x, got) in zip(Self.inputs, y.data) {
      let expected = Self.reference(x)
      #expect(abs(Double(got) - expected) <= Self.tolerance(x) * abs(expected) + 1e-37, "gelu(\(x)) = \(got), expected \(expected)")
    }
  }

  @Test(arguments: [1, 5, 16, 17, 40])
  func gegluMultipliesByTheGate(inner: Int) {
    var rng = TorchRandom(seed: UInt64(inner))
    let rows = 3
    let hg = rng.randn([rows, 2 * inner]) * 3
    let out = hg.geglu()
    #expect(out.shape == [rows, inner])
    for r in 0..<rows {
      for i in 0..<inner {
        let h = Double(hg.data[r * 2 * inner + i]), g = hg.data[r * 2 * inner + inner + i]
        let expected = h * Self.reference(g)
        #expect(abs(Double(out.data[r * inner + i]) - expected) <= Self.tolerance(g) * abs(expected) + 1e-37)
      }
    }
  }
}
