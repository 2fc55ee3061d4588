import Foundation

/// A dense, contiguous, row-major tensor of `Float`.
///
/// Layout decision: feature maps are **NCHW** everywhere in sdedit (the layout of the
/// PyTorch checkpoints we load, so weights need no permutation), and sequences are
/// `[batch, tokens, channels]`. Dimension order in shape comments follows the order in
/// `shape`. Storage is a Swift array (copy on write); kernels borrow its buffer.
public struct Tensor: Sendable, Equatable {
  public private(set) var shape: [Int]
  public var data: [Float]

  public init(shape: [Int], data: [Float]) {
    precondition(shape.allSatisfy { $0 >= 0 }, "Tensor: negative dimension in \(shape)")
    precondition(
      data.count == shape.reduce(1, *),
      "Tensor: \(data.count) scalars do not fill shape \(shape)")
    self.shape = shape
    self.data = data
  }

  /// A tensor of zeros.
  public init(zeros shape: [Int]) {
    self.init(repeating: 0, shape: shape)
  }

  public init(repeating value: Float, shape: [Int]) {
    self.init(shape: shape, data: [Float](repeating: value, count: shape.reduce(1, *)))
  }

  /// A tensor whose storage is filled by `body` (uninitialised memory, every element must be written).
  public init(shape: [Int], unsafeUninitialized body: (UnsafeMutableBufferPointer<Float>) -> Void) {
    let count = shape.reduce(1, *)
    self.shape = shape
    self.data = [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
      body(buffer)
      initialized = count
    }
  }

  public var count: Int { data.count }
  public var rank: Int { shape.count }

  /// The size of dimension `axis`; negative axes count from the end.
  public func dim(_ axis: Int) -> Int { shape[axis < 0 ? shape.count + axis : axis] }

  /// The same storage seen with another shape; one dimension may be -1 (inferred).
  public func reshaped(_ newShape: [Int]) -> Tensor {
    var copy = self
    copy.reshape(newShape)
    return copy
  }

  public mutating func reshape(_ newShape: [Int]) {
    var resolved = newShape
    if let inferred = newShape.firstIndex(of: -1) {
      let known = newShape.enumerated().filter { $0.offset != inferred }.map(\.element).reduce(1, *)
      precondition(known > 0 && count % known == 0, "reshape: cannot infer \(newShape) from \(shape)")
      resolved[inferred] = count / known
    }
    precondition(resolved.reduce(1, *) == count, "reshape: \(shape) → \(newShape) changes the element count")
    shape = resolved
  }

  /// Read-only access to the storage.
  @inlinable
  public func withUnsafeBufferPointer<R>(_ body: (UnsafeBufferPointer<Float>) throws -> R) rethrows -> R {
    try data.withUnsafeBufferPointer(body)
  }

  /// Mutable access to the storage.
  @inlinable
  public mutating func withUnsafeMutableBufferPointer<R>(
    _ body: (inout UnsafeMutableBufferPointer<Float>) throws -> R
  ) rethrows -> R {
    try data.withUnsafeMutableBufferPointer(body)
  }
}

extension Tensor: CustomStringConvertible {
  public var description: String {
    let head = data.prefix(6).map { String(format: "%.5g", $0) }.joined(separator: ", ")
    return "Tensor\(shape)[\(head)\(count > 6 ? ", …" : "")]"
  }
}
