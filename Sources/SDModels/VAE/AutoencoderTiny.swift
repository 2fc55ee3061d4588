import Foundation
import SDTensor

/// diffusers `AutoencoderTiny` (madebyollin's TAESD): a small convolutional image ⇄ latent
/// codec for the SD latent space, about 40× cheaper than `AutoencoderKL` to decode.
/// `EncoderTiny`: `(x + 1)/2`, then conv, [blocks], (stride-2 conv, [blocks])…, conv to the
/// latents. `DecoderTiny`: `tanh(x/3)·3`, conv, ReLU, ([blocks], nearest 2×, conv)…, [blocks],
/// conv; then `2x − 1`. Each block is `ReLU(conv(ReLU(conv(ReLU(conv(x))))) + x)`.
/// Weights use diffusers' names: `encoder.layers.N.…`, `decoder.layers.N.…`, where N counts every
/// module of the `nn.Sequential`, ReLUs and upsamplings included.
/// Encoding is deterministic (diffusers' `retrieve_latents` returns `.latents`: no draw).
public struct AutoencoderTiny: Sendable {
  public let config: TinyAutoencoderConfig
  let encoder: [Layer]?
  let decoder: [Layer]

  /// One module of either `nn.Sequential`.
  enum Layer: Sendable {
    case conv(Conv2DLayer)
    /// A convolution of the nearest-2× upsampled input (`nn.Upsample` + the next conv, fused).
    case upsamplingConv(Conv2DLayer)
    case block(TinyBlock)
    case relu
  }

  /// `AutoencoderTinyBlock` with equal widths (the skip is the identity).
  struct TinyBlock: Sendable {
    let conv0: Conv2DLayer, conv2: Conv2DLayer, conv4: Conv2DLayer

    init(_ w: WeightScope, channels c: Int) throws {
      let convs = w("conv")
      conv0 = try Conv2DLayer(convs(0), in: c, out: c, kernel: 3)
      conv2 = try Conv2DLayer(convs(2), in: c, out: c, kernel: 3)
      conv4 = try Conv2DLayer(convs(4), in: c, out: c, kernel: 3)
    }

    func callAsFunction(_ x: Tensor) -> Tensor {
      var h = conv0(x)
      h.applyLeakyReLU(slope: 0)
      h = conv2(h)
      h.applyLeakyReLU(slope: 0)
      h = conv4(h)
      h += x
      h.applyLeakyReLU(slope: 0)
      return h
    }
  }

  /// `w` is the scope of a diffusers `AutoencoderTiny` (`encoder.layers.*`, `decoder.layers.*`).
  public init(_ w: WeightScope, config: TinyAutoencoderConfig, loadEncoder: Bool = true) throws {
    self.config = config
    encoder = loadEncoder ? try Self.encoderLayers(w("encoder")("layers"), config: config) : nil
    decoder = try Self.decoderLayers(w("decoder")("layers"), config: config)
  }

  static func encoderLayers(_ w: WeightScope, config: TinyAutoencoderConfig) throws -> [Layer] {
    var layers: [Layer] = []
    let c = config.encoderChannels[0]
    for (i, blocks) in config.encoderBlocks.enumerated() {
      layers.append(.conv(i == 0
        ? try Conv2DLayer(w(layers.count), in: config.inChannels, out: c, kernel: 3)
        : try Conv2DLayer(w(layers.count), in: c, out: c, kernel: 3, stride: 2, bias: false)))
      for _ in 0..<blocks { layers.append(.block(try TinyBlock(w(layers.count), channels: c))) }
    }
    layers.append(.conv(try Conv2DLayer(w(layers.count), in: c, out: config.latentChannels, kernel: 3)))
    return layers
  }

  static func decoderLayers(_ w: WeightScope, config: TinyAutoencoderConfig) throws -> [Layer] {
    let c = config.decoderChannels[0]
    var layers: [Layer] = [.conv(try Conv2DLayer(w(0), in: config.latentChannels, out: c, kernel: 3)), .relu]
    var index = 2  // the next module of the nn.Sequential
    for (i, blocks) in config.decoderBlocks.enumerated() {
      for _ in 0..<blocks {
        layers.append(.block(try TinyBlock(w(index), channels: c)))
        index += 1
      }
      if i == config.decoderBlocks.count - 1 {
        layers.append(.conv(try Conv2DLayer(w(index), in: c, out: config.outChannels, kernel: 3)))
      } else {
        // Module `index` is the parameterless `nn.Upsample`; its conv follows it.
        layers.append(.upsamplingConv(try Conv2DLayer(w(index + 1), in: c, out: c, kernel: 3, bias: false)))
        index += 2
      }
    }
    return layers
  }

  static func run(_ layers: [Layer], _ input: Tensor) -> Tensor {
    var x = input
    for layer in layers {
      switch layer {
      case .conv(let conv): x = conv(x)
      case .upsamplingConv(let conv): x = conv.upsampling2x(x)  // [N, C, 2h, 2w]
      case .block(let block): x = block(x)
      case .relu: x.applyLeakyReLU(slope: 0)
      }
    }
    return x
  }

  /// Image `[N, 3, H, W]` in [−1, 1] → unscaled latents `[N, latent, H/f, W/f]`.
  public func encode(_ image: Tensor) -> Tensor {
    guard let encoder else { preconditionFailure("AutoencoderTiny: loaded without its encoder") }
    return Self.run(encoder, image.map { ($0 + 1) / 2 })
  }

  /// Unscaled latents → image `[N, 3, H·f, W·f]` in roughly [−1, 1].
  public func decode(_ latents: Tensor) -> Tensor {
    let x = Self.run(decoder, latents.map { tanhf($0 / 3) * 3 })
    return x.map { $0 * 2 - 1 }
  }
}
