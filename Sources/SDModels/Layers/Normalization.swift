import SDTensor

/// `torch.nn.GroupNorm` with affine parameters; `activation` fuses a following SiLU.
public struct GroupNormLayer: Sendable {
  public let groups: Int
  public let eps: Float
  public let weight: Tensor
  public let bias: Tensor

  public init(_ w: WeightScope, channels: Int, groups: Int, eps: Float) throws {
    self.groups = groups
    self.eps = eps
    weight = try w.tensor("weight", shape: [channels])
    bias = try w.tensor("bias", shape: [channels])
  }

  public func callAsFunction(_ x: Tensor, activation: Activation? = nil) -> Tensor {
    x.groupNorm(groups: groups, weight: weight, bias: bias, eps: eps, activation: activation)
  }

  /// This GroupNorm (then SiLU when `silu`) as the map a convolution applies to its input while
  /// reading it (`Conv2DLayer.callAsFunction(_:normalizedBy:silu:)`).
  public func convInput(_ x: Tensor, silu: Bool) -> ConvInputNorm {
    Profiler.measure("groupNorm") {
      let (scale, shift) = x.groupNormCoefficients(groups: groups, weight: weight, bias: bias, eps: eps)
      return ConvInputNorm(scale: scale, shift: shift, silu: silu)
    }
  }
}

/// `torch.nn.LayerNorm` over the last dimension.
public struct LayerNormLayer: Sendable {
  public let eps: Float
  public let weight: Tensor
  public let bias: Tensor

  public init(_ w: WeightScope, features: Int, eps: Float) throws {
    self.eps = eps
    weight = try w.tensor("weight", shape: [features])
    bias = try w.tensor("bias", shape: [features])
  }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    x.layerNorm(weight: weight, bias: bias, eps: eps)
  }
}
