import SDTensor

/// `torch.nn.Linear`: `y = x·Wᵀ + b`, weight `[out, in]`.
/// The weight is held for `Precision.current` (packed bf16 or fp32) as it is loaded.
public struct Linear: Sendable {
  public let weight: MatrixWeight
  public let bias: Tensor?

  public init(weight: Tensor, bias: Tensor?) {
    self.weight = MatrixWeight(weight, role: .linear)
    self.bias = bias
  }

  /// Loads `weight` `[out, in]` and `bias` `[out]`. With `acceptingPointwiseConv`, a 1×1
  /// convolution weight `[out, in, 1, 1]` is taken as the same linear map (SD1's conv `proj_in`).
  public init(
    _ w: WeightScope, in inFeatures: Int, out outFeatures: Int, bias hasBias: Bool = true,
    acceptingPointwiseConv: Bool = false
  ) throws {
    let shape = [outFeatures, inFeatures]
    let stored = acceptingPointwiseConv && w.shape(of: "weight") == shape + [1, 1] ? shape + [1, 1] : shape
    weight = try w.matrixWeight("weight", stored: stored, shape: shape, role: .linear, precision: w.precision)
    bias = hasBias ? try w.tensor("bias", shape: [outFeatures]) : nil
  }

  public var inFeatures: Int { weight.shape[1] }
  public var outFeatures: Int { weight.shape[0] }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    x.linear(weight: weight, bias: bias)  // [..., in] → [..., out]
  }
}
