import SDTensor

/// `torch.nn.Conv2d` (groups 1), weight `[out, in, k, k]`.
/// The weight is held for `Precision.current` (packed bf16 or fp32) as it is loaded.
public struct Conv2DLayer: Sendable {
  public let weight: MatrixWeight
  public let bias: Tensor?
  public let stride: Int
  public let padding: Conv2DPadding

  public init(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Conv2DPadding) {
    self.weight = MatrixWeight(weight, role: .convolution)
    self.bias = bias
    self.stride = stride
    self.padding = padding
  }

  /// Loads `weight` `[out, in, kernel, kernel]` and `bias` `[out]`. A 1×1 convolution
  /// stored as a linear weight `[out, in]` (SD2's linear `proj_in` in some exports) is accepted.
  public init(
    _ w: WeightScope, in inChannels: Int, out outChannels: Int, kernel: Int, stride: Int = 1,
    padding: Int? = nil, bias hasBias: Bool = true, precision: Precision? = nil
  ) throws {
    let shape = [outChannels, inChannels, kernel, kernel]
    let stored = kernel == 1 && w.shape(of: "weight") == [outChannels, inChannels] ? [outChannels, inChannels] : shape
    weight = try w.matrixWeight("weight", stored: stored, shape: shape, role: .convolution, precision: precision ?? w.precision)
    bias = hasBias ? try w.tensor("bias", shape: [outChannels]) : nil
    self.stride = stride
    self.padding = .uniform(padding ?? kernel / 2)
  }

  public var outChannels: Int { weight.shape[0] }

  public func callAsFunction(_ x: Tensor) -> Tensor {
    x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding)  // [N, in, H, W] → [N, out, H', W']
  }

  /// The convolution of `norm(x)` followed by SiLU when `silu` — GroupNorm → SiLU → conv, the
  /// ResBlock pattern — with the normalisation applied as the convolution reads its input (the
  /// normalised map is never stored; bit-identical to normalising first).
  public func callAsFunction(_ x: Tensor, normalizedBy norm: GroupNormLayer, silu: Bool) -> Tensor {
    x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, normalized: norm.convInput(x, silu: silu))
  }

  /// The convolution of `x.upsampledNearest2x()`, without storing the enlarged map (diffusers'
  /// `Upsample2D`: nearest 2×, then this conv).
  public func upsampling2x(_ x: Tensor) -> Tensor {
    x.conv2d(weight: weight, bias: bias, stride: stride, padding: padding, upsample: 2)  // [N, in, H, W] → [N, out, 2H', 2W']
  }
}
