import SDTensor

/// An ncnn `Convolution` layer (groups = 1): weights `[out, in, kh, kw]`, optional bias, and the
/// activation ncnn fuses into it.
///
/// Parameters as in Tencent/ncnn src/layer/convolution.cpp `load_param` and
/// docs/developer-guide/operation-param-weight-table.md: 0 num_output, 1 kernel_w, 11 kernel_h,
/// 2/12 dilation, 3/13 stride, 4 pad_left, 15 pad_right, 14 pad_top, 16 pad_bottom, 5 bias_term,
/// 6 weight_data_size, 9 activation_type, 10 activation_params (array key -23310).
/// Weights (`load_model`): the kernel as a tagged array (fp16 or fp32), then `num_output` raw fp32
/// biases. Activations (src/layer/fused_activation.h): 0 none, 1 ReLU, 2 leaky ReLU with slope
/// `activation_params[0]`. Limits: no dilation, no SAME padding (-233/-234), no int8, no
/// pad_value, no dynamic weights, activation types 3–6 refused.
public struct NCNNConvolution: Sendable {
  public enum Activation: Sendable, Equatable {
    case none
    case relu
    case leakyReLU(slope: Float)

    /// The negative slope to fuse after the bias, or nil for no activation.
    public var negativeSlope: Float? {
      switch self {
      case .none: return nil
      case .relu: return 0
      case .leakyReLU(let slope): return slope
      }
    }
  }

  public let outChannels: Int
  public let inChannels: Int
  public let kernelHeight: Int
  public let kernelWidth: Int
  public let stride: Int
  public let padding: Conv2DPadding
  public let activation: Activation
  /// `[out, in, kh, kw]`.
  public let weight: Tensor
  /// `[out]`.
  public let bias: Tensor?

  /// Largest accepted values; anything larger is refused before weights are read.
  static let maxChannels = 1 << 16, maxKernel = 31, maxStride = 16, maxPad = 1024

  /// Reads the parameters of `spec` (from the `.param` file `file`), then its weights from `weights`.
  init(_ spec: NCNNLayerSpec, file: String, weights: inout NCNNWeightReader) throws(NCNNError) {
    func invalid(_ reason: String) -> NCNNError { .invalidLayer(file: file, layer: spec.name, reason: reason) }
    let (o, kw, kh, dw, dh, sw, sh, pl, pr, pt, pb, biasTerm, size, int8, act, slopes, padValue, dynamic) =
      try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
        try spec.allowOnly([0, 1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19])
        let kw = try p.int(1, default: 0), dw = try p.int(2, default: 1), sw = try p.int(3, default: 1)
        let pl = try p.int(4, default: 0), pt = try p.int(14, default: pl)
        return (
          try p.int(0, default: 0), kw, try p.int(11, default: kw), dw, try p.int(12, default: dw),
          sw, try p.int(13, default: sw), pl, try p.int(15, default: pl), pt, try p.int(16, default: pt),
          try p.int(5, default: 0), try p.int(6, default: 0), try p.int(8, default: 0), try p.int(9, default: 0),
          try p.floats(10), try p.float(18, default: 0), try p.int(19, default: 0)
        )
      }
    guard (1...Self.maxChannels).contains(o) else { throw invalid("num_output \(o) is out of range 1…\(Self.maxChannels)") }
    guard (1...Self.maxKernel).contains(kw), (1...Self.maxKernel).contains(kh) else {
      throw invalid("kernel \(kh)×\(kw) is out of range 1…\(Self.maxKernel)")
    }
    guard dw == 1, dh == 1 else { throw invalid("dilation \(dh)×\(dw) is not supported (only 1)") }
    guard sw == sh, (1...Self.maxStride).contains(sw) else { throw invalid("stride \(sh)×\(sw) is not supported (equal strides 1…\(Self.maxStride))") }
    guard [pl, pr, pt, pb].allSatisfy({ (0...Self.maxPad).contains($0) }) else {
      throw invalid("padding \(pt),\(pl),\(pb),\(pr) is not supported (0…\(Self.maxPad); SAME padding -233/-234 is not)")
    }
    guard biasTerm == 0 || biasTerm == 1 else { throw invalid("bias_term must be 0 or 1 (got \(biasTerm))") }
    guard int8 == 0 else { throw invalid("int8 quantised convolutions are not supported") }
    guard padValue == 0 else { throw invalid("pad_value \(padValue) is not supported (only 0)") }
    guard dynamic == 0 else { throw invalid("dynamic weights are not supported") }
    let perInput = o * kh * kw
    guard size > 0, size % perInput == 0, size / perInput <= Self.maxChannels else {
      throw invalid("weight_data_size \(size) is not num_output × in_channels × \(kh) × \(kw) for num_output \(o)")
    }
    switch act {
    case 0: activation = .none
    case 1: activation = .relu
    case 2:
      guard let slopes, let slope = slopes.first else { throw invalid("leaky ReLU (activation_type 2) needs its slope in -23310") }
      activation = .leakyReLU(slope: slope)
    default: throw invalid("activation_type \(act) is not supported (0 none, 1 ReLU, 2 leaky ReLU)")
    }
    outChannels = o
    inChannels = size / perInput
    kernelHeight = kh
    kernelWidth = kw
    stride = sw
    padding = Conv2DPadding(top: pt, left: pl, bottom: pb, right: pr)
    weight = Tensor(shape: [o, inChannels, kh, kw], data: try weights.tagged(size, layer: spec.name))
    bias = biasTerm == 1 ? Tensor(shape: [o], data: try weights.raw(o, layer: spec.name)) : nil
  }

  /// Output height or width for an input extent, or nil when the kernel does not fit.
  public func outputExtent(_ input: Int, kernel: Int, before: Int, after: Int) -> Int? {
    let padded = input + before + after
    return padded >= kernel ? (padded - kernel) / stride + 1 : nil
  }
}
