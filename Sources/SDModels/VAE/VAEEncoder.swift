import SDTensor

/// diffusers `Encoder` of `AutoencoderKL` (+ `quant_conv`): image `[N, 3, H, W]` in [−1, 1] →
/// the latent distribution's mean and log-variance `[N, latent, H/f, W/f]` each.
struct VAEEncoder: Sendable {
  struct DownBlock: Sendable {
    let resnets: [ResBlock]
    let downsample: Conv2DLayer?
  }

  let convIn: Conv2DLayer
  let downBlocks: [DownBlock]
  let midBlock: VAEMidBlock
  let convNormOut: GroupNormLayer
  let convOut: Conv2DLayer
  let quantConv: Conv2DLayer?

  init(_ w: WeightScope, quantConv q: WeightScope, config: VAEConfig) throws {
    let blocks = config.blockOutChannels, groups = config.normGroups
    convIn = try Conv2DLayer(w("conv_in"), in: config.inChannels, out: blocks[0], kernel: 3)
    var input = blocks[0]
    downBlocks = try blocks.indices.map { i in
      let out = blocks[i]
      let b = w("down_blocks")(i)
      let resnets = try (0..<config.layersPerBlock).map { j in
        try ResBlock(b("resnets")(j), in: j == 0 ? input : out, out: out, timeEmbedDim: nil, groups: groups, eps: 1e-6)
      }
      input = out
      // Downsample2D(padding=0): pad right and bottom by one, then a stride-2 convolution.
      let down = i == blocks.count - 1 ? nil : Conv2DLayer(
        weight: try b("downsamplers")(0)("conv").tensor("weight", shape: [out, out, 3, 3]),
        bias: try b("downsamplers")(0)("conv").tensor("bias", shape: [out]),
        stride: 2, padding: Conv2DPadding(top: 0, left: 0, bottom: 1, right: 1))
      return DownBlock(resnets: resnets, downsample: down)
    }
    midBlock = try VAEMidBlock(w("mid_block"), channels: blocks.last!, groups: groups, attention: config.midBlockAttention)
    convNormOut = try GroupNormLayer(w("conv_norm_out"), channels: blocks.last!, groups: groups, eps: 1e-6)
    convOut = try Conv2DLayer(w("conv_out"), in: blocks.last!, out: 2 * config.latentChannels, kernel: 3)
    quantConv = config.useQuantConv
      ? try Conv2DLayer(q, in: 2 * config.latentChannels, out: 2 * config.latentChannels, kernel: 1) : nil
  }

  /// Returns the moments `[N, 2·latent, h, w]` (mean channels first, then log-variance).
  func callAsFunction(_ x: Tensor) -> Tensor {
    var h = convIn(x)
    for block in downBlocks {
      for resnet in block.resnets { h = resnet(h) }
      if let down = block.downsample { h = down(h) }  // [N, C, H/2, W/2]
    }
    h = midBlock(h)
    h = convOut(convNormOut(h, activation: .silu))
    return quantConv.map { $0(h) } ?? h
  }
}
