/// In-place, multi-threaded element-wise updates (used where a graph's intermediate can be
/// overwritten instead of copied).
extension Tensor {
  /// `self = self · factor` (skipped when `factor` is 1).
  public mutating func scale(by factor: Float) {
    guard factor != 1 else { return }
    update { $0 * factor }
  }

  /// `self += factor · other`.
  public mutating func add(_ other: Tensor, scaledBy factor: Float = 1) {
    if factor == 1 { combine(other) { $0 + $1 } } else { combine(other) { $0 + factor * $1 } }
  }

  /// `self[i] = op(self[i])`.
  @inlinable
  public mutating func update(_ op: (Float) -> Float) {
    withUnsafeMutableBufferPointer { x in
      let a = x.baseAddress!
      Threading.parallelFor(x.count, grain: 1 << 16) { range in
        for i in range { a[i] = op(a[i]) }
      }
    }
  }

  /// `self[i] = op(self[i], other[i])`.
  @inlinable
  public mutating func combine(_ other: Tensor, _ op: (Float, Float) -> Float) {
    precondition(other.shape == shape, "combine: shapes \(shape) and \(other.shape) differ")
    withUnsafeMutableBufferPointer { x in
      other.withUnsafeBufferPointer { y in
        let a = x.baseAddress!, b = y.baseAddress!
        Threading.parallelFor(x.count, grain: 1 << 16) { range in
          for i in range { a[i] = op(a[i], b[i]) }
        }
      }
    }
  }
}
