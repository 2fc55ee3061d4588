import Foundation
import SDTensor
import Testing

/// The vectorised softmax (Sources/CKernels/Softmax.c) against a Double-precision softmax of
/// the same scores: every row length around the 16-lane vector width and its tails, large
/// spreads (entries whose exp underflows), and −∞ entries (a causal mask) that must give 0.
@Suite struct SoftmaxTests {
  /// `x − max` is rounded to Float first, as every float softmax (PyTorch's too) does: at a
  /// spread of 60 that rounding alone moves exp by ~1e-5 relative, which is not the kernel's error.
  static func reference(_ row: [Float]) -> [Double] {
    let m = row.max()!
    let e = row.map { exp(Double($0 - m)) }
    let s = e.reduce(0, +)
    return e.map { $0 / s }
  }

  @Test(arguments: [1, 2, 15, 16, 17, 31, 32, 33, 77, 257, 4096])
  func matchesDoublePrecision(length: Int) {
    var generator = SystemRandomNumberGenerator()
    for spread in [Float(1), 10, 60] {
      var rows = (0..<3 * length).map { _ in Float.random(in: -spread...spread, using: &generator) }
      if length > 2 { rows[1] = -.infinity; rows[length + 2] = -.infinity }
      let x = Tensor(shape: [3, length], data: rows).softmax()
      for r in 0..<3 {
        let expected = Self.reference(Array(rows[r * length..<(r + 1) * length]))
        for i in 0..<length {
          let got = Double(x.data[r * length + i])
          #expect(abs(got - expected[i]) <= 2e-6 * max(expected[i], 1e-30) + 1e-37, "row \(r) [\(i)] \(got) vs \(expected[i])")
          if rows[r * length + i] == -.infinity { #expect(got == 0) }
        }
      }
    }
  }
}
