import SDTensor

extension WeightScope {
  /// The matrix weight `name`, stored with shape `stored` and used as `shape` (the same count;
  /// e.g. a 1×1 conv weight taken as a linear one), held for `precision`. A checkpoint's F16/BF16
  /// tensor never gets a Float32 copy: in bf16 it is packed straight from the mapped file, in
  /// fp32 its 16-bit values are used in place in the mapped file and widened per product.
  func matrixWeight(
    _ name: String, stored: [Int], shape: [Int], role: MatrixWeight.Role, precision: Precision
  ) throws -> MatrixWeight {
    if precision == .bf16,
      let direct = withHalfBits(name, shape: stored, { bits, isBFloat16 in
        MatrixWeight.packingBFloat16(bits: bits, isBFloat16: isBFloat16, shape: shape, role: role)
      }) ?? nil
    {
      return direct
    }
    if precision == .fp32, let half = borrowHalfBits(name, shape: stored),
      let direct = MatrixWeight.keepingHalfBits(
        bits: half.bits, isBFloat16: half.isBFloat16, shape: shape, role: role, owner: half.owner)
    {
      return direct
    }
    let tensor = try self.tensor(name, shape: stored)
    return MatrixWeight(stored == shape ? tensor : tensor.reshaped(shape), role: role, precision: precision)
  }
}
