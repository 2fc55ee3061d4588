import Foundation

/// Numerically stable softmax over the last dimension.
enum SoftmaxKernel {
  /// Softmax of each of `rows` rows of `length` scalars, in place. The scores may be
  /// pre-multiplied by `scale` (attention's 1/√d), folded in here to save a pass.
  @inlinable
  static func rows(_ base: UnsafeMutablePointer<Float>, rows: Int, length: Int, scale: Float = 1) {
    Threading.parallelFor(rows, grain: 4) { range in
      for r in range {
        let x = base + r * length
        var maximum = -Float.infinity
        for i in 0..<length { maximum = max(maximum, x[i]) }
        var sum: Float = 0
        for i in 0..<length {
          let e = expf((x[i] - maximum) * scale)
          x[i] = e
          sum += e
        }
        let inv = 1 / sum
        for i in 0..<length { x[i] *= inv }
      }
    }
  }
}

extension Tensor {
  /// Softmax over the last dimension.
  public func softmax() -> Tensor {
    var copy = self
    let length = dim(-1)
    copy.withUnsafeMutableBufferPointer { x in
      SoftmaxKernel.rows(x.baseAddress!, rows: x.count / max(length, 1), length: length)
    }
    return copy
  }
}
