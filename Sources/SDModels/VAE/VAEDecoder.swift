import SDTensor

/// diffusers `Decoder` of `AutoencoderKL` (after `post_quant_conv`): latents `[N, latent, h, w]`
/// (already divided by the scaling factor) → image `[N, 3, h·f, w·f]`, unclamped.
struct VAEDecoder: Sendable {
  struct UpBlock: Sendable {
    let resnets: [ResBlock]
    let upsample: Conv2DLayer?
  }

  let postQuantConv: Conv2DLayer?
  let convIn: Conv2DLayer
  let midBlock: VAEMidBlock
  let upBlocks: [UpBlock]
  let convNormOut: GroupNormLayer
  let convOut: Conv2DLayer

  init(_ w: WeightScope, postQuantConv p: WeightScope, config: VAEConfig) throws {
    let reversed = Array(config.blockOutChannels.reversed()), groups = config.normGroups
    postQuantConv = config.usePostQuantConv
      ? try Conv2DLayer(p, in: config.latentChannels, out: config.latentChannels, kernel: 1) : nil
    convIn = try Conv2DLayer(w("conv_in"), in: config.latentChannels, out: reversed[0], kernel: 3)
    midBlock = try VAEMidBlock(w("mid_block"), channels: reversed[0], groups: groups, attention: config.midBlockAttention)
    var input = reversed[0]
    upBlocks = try reversed.indices.map { i in
      let out = reversed[i]
      let b = w("up_blocks")(i)
      let resnets = try (0...config.layersPerBlock).map { j in
        try ResBlock(b("resnets")(j), in: j == 0 ? input : out, out: out, timeEmbedDim: nil, groups: groups, eps: 1e-6)
      }
      input = out
      let up = i == reversed.count - 1 ? nil : try Conv2DLayer(b("upsamplers")(0)("conv"), in: out, out: out, kernel: 3)
      return UpBlock(resnets: resnets, upsample: up)
    }
    convNormOut = try GroupNormLayer(w("conv_norm_out"), channels: config.blockOutChannels[0], groups: groups, eps: 1e-6)
    convOut = try Conv2DLayer(w("conv_out"), in: config.blockOutChannels[0], out: config.outChannels, kernel: 3)
  }

  func callAsFunction(_ z: Tensor) -> Tensor {
    var h = convIn(postQuantConv.map { $0(z) } ?? z)  // [N, C, h, w]
    h = midBlock(h)
    for block in upBlocks {
      for resnet in block.resnets { h = resnet(h) }
      if let up = block.upsample { h = up.upsampling2x(h) }  // nearest 2×, conv: [N, C, 2h, 2w]
    }
    return convOut(convNormOut(h, activation: .silu))  // [N, 3, H, W]
  }
}
