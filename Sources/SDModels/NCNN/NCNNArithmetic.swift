/// ncnn's element-wise layers between blobs: `Eltwise` (Tencent/ncnn src/layer/eltwise.cpp) and
/// `BinaryOp` (src/layer/binaryop.cpp), limited to operands of one shape (or a scalar).

/// `Eltwise`: 0 op_type (0 product, 1 sum, 2 max), 1 coeffs (array key -23301, sum only: one
/// coefficient per input, `Σ cᵢ·xᵢ`). No weights.
public struct NCNNEltwise: Sendable, Equatable {
  public enum Operation: Int, Sendable { case product = 0, sum = 1, max = 2 }
  public let operation: Operation
  /// One per input; nil means all 1.
  public let coefficients: [Float]?

  init(_ spec: NCNNLayerSpec, file: String) throws(NCNNError) {
    func invalid(_ reason: String) -> NCNNError { .invalidLayer(file: file, layer: spec.name, reason: reason) }
    let (op, coeffs) = try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
      try spec.allowOnly([0, 1])
      return (try p.int(0, default: 0), try p.floats(1))
    }
    guard let operation = Operation(rawValue: op) else { throw invalid("op_type \(op) is not supported (0 product, 1 sum, 2 max)") }
    guard spec.bottoms.count >= 2, spec.tops.count == 1 else { throw invalid("needs at least 2 inputs and 1 output") }
    if let coeffs, !coeffs.isEmpty {
      guard operation == .sum else { throw invalid("coefficients are only supported with op_type 1 (sum)") }
      guard coeffs.count == spec.bottoms.count else {
        throw invalid("\(coeffs.count) coefficients for \(spec.bottoms.count) inputs")
      }
      coefficients = coeffs
    } else {
      coefficients = nil
    }
    self.operation = operation
  }
}

/// `BinaryOp`: 0 op_type (0 add, 1 sub, 2 mul, 3 div, 4 max, 5 min, 7 reverse sub, 8 reverse
/// div), 1 with_scalar (then one input and 2 = the scalar b). Two inputs must have one shape.
public struct NCNNBinaryOp: Sendable, Equatable {
  public enum Operation: Int, Sendable {
    case add = 0, sub = 1, mul = 2, div = 3, max = 4, min = 5, rsub = 7, rdiv = 8

    @inlinable
    public func callAsFunction(_ a: Float, _ b: Float) -> Float {
      switch self {
      case .add: return a + b
      case .sub: return a - b
      case .mul: return a * b
      case .div: return a / b
      case .max: return Swift.max(a, b)
      case .min: return Swift.min(a, b)
      case .rsub: return b - a
      case .rdiv: return b / a
      }
    }
  }
  public let operation: Operation
  /// The constant second operand when the layer has one input.
  public let scalar: Float?

  init(_ spec: NCNNLayerSpec, file: String) throws(NCNNError) {
    func invalid(_ reason: String) -> NCNNError { .invalidLayer(file: file, layer: spec.name, reason: reason) }
    let (op, withScalar, b) = try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
      try spec.allowOnly([0, 1, 2])
      return (try p.int(0, default: 0), try p.int(1, default: 0), try p.float(2, default: 0))
    }
    guard let operation = Operation(rawValue: op) else { throw invalid("op_type \(op) is not supported") }
    guard withScalar == 0 || withScalar == 1 else { throw invalid("with_scalar must be 0 or 1") }
    guard spec.bottoms.count == (withScalar == 1 ? 1 : 2), spec.tops.count == 1 else {
      throw invalid("needs \(withScalar == 1 ? 1 : 2) input(s) and 1 output")
    }
    self.operation = operation
    scalar = withScalar == 1 ? b : nil
  }
}
