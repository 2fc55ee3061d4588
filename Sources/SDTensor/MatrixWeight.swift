/// A layer's weight matrix held the way the current `Precision` multiplies it: bfloat16 packed
/// once for `BF16GEMM`, fp32 packed once for `F32GEMM` (where the CPU has AVX-512), a
/// checkpoint's fp16/bf16 values kept as they are and widened by `F32GEMM` while it packs each
/// product (`halves`, fp32 precision from a 16-bit checkpoint), or the plain fp32 tensor for
/// OpenBLAS elsewhere. Only one form is kept, so packing never doubles the memory the weights
/// take (bf16 and 16-bit storage halve it).
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
  /// The fp32 weight (fp32 precision on CPUs without AVX-512: products go through `GEMM.sgemm`).
  public let float: Tensor?

  /// The weight as an fp32 matrix for OpenBLAS: `float`, or the 16-bit values widened for this call.
  public func floatMatrix() -> Tensor {
    if let float { return float }
    guard let halves else { preconditionFailure("MatrixWeight: a packed weight has no fp32 matrix") }
    return halves.widened().reshaped(shape)
  }
  /// The packed fp32 weight (fp32 precision where `F32GEMM.isAvailable`).
  public let packedFloat: PackedF32Matrix?
  /// The packed bfloat16 weight (bf16 precision).
  public let packed: PackedBF16Matrix?
  /// The checkpoint's 16-bit values, stored row-major `[shape[0], rest]` (fp32 precision from an
  /// F16/BF16 checkpoint).
  public let halves: HalfMatrix?

  /// Holds `tensor` for `precision` (bf16 falls back to fp32 where the CPU cannot run it).
  public init(_ tensor: Tensor, role: Role, precision: Precision = .fp32) {
    shape = tensor.shape
    self.role = role
    let side: GEMMSide = role == .linear ? .b : .a
    let transposed = role == .linear
    var float: Tensor?, packed: PackedBF16Matrix?, packedFloat: PackedF32Matrix?
    if precision == .bf16, BF16GEMM.isAvailable {
      packed = PackedBF16Matrix(side: side, matrix: tensor, transposed: transposed)
    } else if F32GEMM.isAvailable, tensor.count > 0 {
      packedFloat = PackedF32Matrix(side: side, matrix: tensor, transposed: transposed)
    } else {
      float = tensor
    }
    self.float = float
    self.packed = packed
    self.packedFloat = packedFloat
    halves = nil
  }

  /// Packs a checkpoint's 16-bit weight (F16 or BF16 bits, dense, of PyTorch `shape`) straight to
  /// bfloat16 with no Float32 copy — bf16 precision on a CPU that runs it; nil otherwise.
  public static func packingBFloat16(
    bits: UnsafePointer<UInt16>, isBFloat16: Bool, shape: [Int], role: Role
  ) -> MatrixWeight? {
    guard BF16GEMM.isAvailable, let rows = shape.first, rows > 0 else { return nil }
    let columns = shape.dropFirst().reduce(1, *)
    guard columns > 0 else { return nil }
    // Stored row-major [rows, columns]; linear uses the transpose as B, conv the matrix as A.
    let (side, logical, transposed): (GEMMSide, (Int, Int), Bool) =
      role == .linear ? (.b, (columns, rows), true) : (.a, (rows, columns), false)
    let packed = PackedBF16Matrix(
      side: side, rows: logical.0, columns: logical.1, halfBits: bits, isBFloat16: isBFloat16, leadingDimension: columns,
      transposed: transposed)
    return MatrixWeight(shape: shape, role: role, packed: packed, halves: nil)
  }

  /// Keeps a checkpoint's 16-bit weight (F16 or BF16 bits, dense, of PyTorch `shape`) as a
  /// copy of its bits for fp32 products that widen it per call (`F32GEMM` while packing; on
  /// other CPUs a transient fp32 copy for OpenBLAS).
  /// `owner`: when given, the bits are used in place (`HalfMatrix(borrowing:)`), else copied.
  public static func keepingHalfBits(
    bits: UnsafePointer<UInt16>, isBFloat16: Bool, shape: [Int], role: Role, owner: AnyObject? = nil
  ) -> MatrixWeight? {
    guard let rows = shape.first, rows > 0 else { return nil }
    let columns = shape.dropFirst().reduce(1, *)
    guard columns > 0 else { return nil }
    let halves = owner.map { HalfMatrix(borrowing: bits, owner: $0, rows: rows, columns: columns, isBFloat16: isBFloat16) }
      ?? HalfMatrix(copying: bits, rows: rows, columns: columns, isBFloat16: isBFloat16)
    return MatrixWeight(shape: shape, role: role, packed: nil, halves: halves)
  }

  private init(shape: [Int], role: Role, packed: PackedBF16Matrix?, halves: HalfMatrix?) {
    self.shape = shape
    self.role = role
    self.packed = packed
    self.halves = halves
    float = nil
    packedFloat = nil
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
  public var byteCount: Int {
    packed?.byteCount ?? packedFloat?.byteCount ?? halves?.byteCount ?? (float?.count ?? 0) * 4
  }
}
