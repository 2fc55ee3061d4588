/// A layer's weight matrix held the way the current `Precision` multiplies it: the fp32 tensor,
/// or bfloat16 packed once for `BF16GEMM` (the fp32 copy is then dropped, halving the memory
/// the weights take).
public struct MatrixWeight: Sendable {
  /// How the layer multiplies by the weight, which fixes the operand it is packed as.
  public enum Role: Sendable {
    /// `y = x · Wᵀ` with W `[out, in]` (`torch.nn.Linear`): the B operand, transposed.
    case linear
    /// `y = W · columns` with W `[out, in, kh, kw]` read as `out × in·kh·kw` (`conv2d`): the A operand.
    case convolution
  }

  /// The weight's PyTorch shape.
  public let shape: [Int]
  public let role: Role
  /// The fp32 weight (fp32 precision).
  public let float: Tensor?
  /// The packed bfloat16 weight (bf16 precision).
  public let packed: PackedBF16Matrix?

  /// Holds `tensor` for `precision` (bf16 falls back to fp32 where the CPU cannot run it).
  public init(_ tensor: Tensor, role: Role, precision: Precision = .fp32) {
    shape = tensor.shape
    self.role = role
    if precision == .bf16, BF16GEMM.isAvailable {
      switch role {
      case .linear: packed = PackedBF16Matrix(side: .b, matrix: tensor, transposed: true)
      case .convolution: packed = PackedBF16Matrix(side: .a, matrix: tensor)
      }
      float = nil
    } else {
      float = tensor
      packed = nil
    }
  }

  /// Runs `body` with the fp32 weight's storage, or nil when the weight is packed.
  @inlinable
  public func withFloats<R>(_ body: (UnsafePointer<Float>?) throws -> R) rethrows -> R {
    guard let float else { return try body(nil) }
    return try float.withUnsafeBufferPointer { try body($0.baseAddress!) }
  }

  /// The precision products with this weight run in.
  public var precision: Precision { packed == nil ? .fp32 : .bf16 }

  /// Bytes the weight occupies in memory.
  public var byteCount: Int { packed?.byteCount ?? (float?.count ?? 0) * 4 }
}
