import CKernels
import Foundation

/// Numerically stable softmax over the last dimension (the exp is vectorised in C,
/// `Sources/CKernels/Softmax.c`).
enum SoftmaxKernel {
  /// Softmax of each of `rows` rows of `length` scalars, in place. The scores may be
  /// pre-multiplied by `scale` (attention's 1/√d), folded in here to save a pass.
  @inlinable
  static func rows(_ base: UnsafeMutablePointer<Float>, rows: Int, length: Int, scale: Float = 1) {
    Profiler.measure("softmax") {
      Threading.parallelFor(rows, grain: 4) { range in
        ck_softmax_rows(base + range.lowerBound * length, range.count, length, length, scale)
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
