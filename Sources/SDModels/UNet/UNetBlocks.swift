import SDTensor

/// diffusers `Downsample2D` (3×3 conv, stride 2, padding 1) and `Upsample2D` (nearest 2× or to
/// the skip connection's size, then a 3×3 conv).
struct Downsample: Sendable {
  let conv: Conv2DLayer

  init(_ w: WeightScope, channels: Int) throws {
    conv = try Conv2DLayer(w("conv"), in: channels, out: channels, kernel: 3, stride: 2, padding: 1)
  }

  func callAsFunction(_ x: Tensor) -> Tensor { conv(x) }  // [N, C, H, W] → [N, C, ⌈H/2⌉, ⌈W/2⌉]
}

struct Upsample: Sendable {
  let conv: Conv2DLayer

  init(_ w: WeightScope, channels: Int) throws {
    conv = try Conv2DLayer(w("conv"), in: channels, out: channels, kernel: 3)
  }

  /// `size`: the (H, W) to reach when the input was not a multiple of the UNet's down factor.
  func callAsFunction(_ x: Tensor, size: (Int, Int)? = nil) -> Tensor {
    let (h, w) = size ?? (x.dim(2) * 2, x.dim(3) * 2)
    if h == x.dim(2) * 2, w == x.dim(3) * 2 { return conv.upsampling2x(x) }  // [N, C, 2H, 2W]
    return conv(x.resizedNearest(height: h, width: w))  // [N, C, h, w]
  }
}

/// One level of the contracting path: `CrossAttnDownBlock2D` or `DownBlock2D`.
struct UNetDownBlock: Sendable {
  let resnets: [ResBlock]
  let attentions: [SpatialTransformer]
  let downsampler: Downsample?

  init(_ w: WeightScope, config: UNetConfig, index i: Int, inChannels: Int) throws {
    let out = config.blockOutChannels[i]
    resnets = try (0..<config.layersPerBlock[i]).map { j in
      try ResBlock(
        w("resnets")(j), in: j == 0 ? inChannels : out, out: out, timeEmbedDim: config.timeEmbedDim,
        groups: config.normGroups, eps: config.normEps)
    }
    attentions = config.downBlocks[i] == .plain ? [] : try (0..<config.layersPerBlock[i]).map { j in
      try SpatialTransformer(
        w("attentions")(j), channels: out, heads: config.attentionHeads[i],
        layers: config.transformerLayersPerBlock[i], contextDim: config.crossAttentionDim[i], groups: config.normGroups,
        onlyCross: config.onlyCrossAttention[i])
    }
    let isFinal = i == config.downBlocks.count - 1
    downsampler = isFinal ? nil : try Downsample(w("downsamplers")(0), channels: out)
  }

  /// Returns the block output and the states it hands to the expanding path.
  func callAsFunction(_ x: Tensor, emb: Tensor, context: Tensor) -> (Tensor, [Tensor]) {
    var h = x, skips: [Tensor] = []
    for (j, resnet) in resnets.enumerated() {
      h = resnet(h, emb: emb)
      if !attentions.isEmpty { h = attentions[j](h, context: context) }
      skips.append(h)
    }
    if let downsampler {
      h = downsampler(h)
      skips.append(h)
    }
    return (h, skips)
  }
}

/// `UNetMidBlock2DCrossAttn`: resnet, then (transformer, resnet) pairs.
struct UNetMidBlock: Sendable {
  let resnets: [ResBlock]
  let attentions: [SpatialTransformer]

  init(_ w: WeightScope, config: UNetConfig) throws {
    let c = config.blockOutChannels.last!, last = config.blockOutChannels.count - 1
    resnets = try (0..<2).map { j in
      try ResBlock(w("resnets")(j), in: c, out: c, timeEmbedDim: config.timeEmbedDim, groups: config.normGroups, eps: config.normEps)
    }
    attentions = [
      try SpatialTransformer(
        w("attentions")(0), channels: c, heads: config.attentionHeads[last],
        layers: config.transformerLayersPerBlock[last], contextDim: config.crossAttentionDim[last], groups: config.normGroups)
    ]
  }

  func callAsFunction(_ x: Tensor, emb: Tensor, context: Tensor) -> Tensor {
    var h = resnets[0](x, emb: emb)
    for (j, attention) in attentions.enumerated() {
      h = attention(h, context: context)
      h = resnets[j + 1](h, emb: emb)
    }
    return h
  }
}

/// One level of the expanding path: `CrossAttnUpBlock2D` or `UpBlock2D`. Each resnet takes the
/// running state concatenated with one skip state from the contracting path.
struct UNetUpBlock: Sendable {
  let resnets: [ResBlock]
  let attentions: [SpatialTransformer]
  let upsampler: Upsample?

  init(_ w: WeightScope, config: UNetConfig, index i: Int) throws {
    let n = config.blockOutChannels.count
    let reversed = Array(config.blockOutChannels.reversed())
    let out = reversed[i]
    let prevOut = reversed[max(i - 1, 0)]
    let input = reversed[min(i + 1, n - 1)]
    let layers = config.layersPerBlock[n - 1 - i] + 1
    resnets = try (0..<layers).map { j in
      let skip = j == layers - 1 ? input : out
      let resIn = j == 0 ? prevOut : out
      return try ResBlock(
        w("resnets")(j), in: resIn + skip, out: out, timeEmbedDim: config.timeEmbedDim,
        groups: config.normGroups, eps: config.normEps)
    }
    let level = n - 1 - i
    attentions = config.upBlocks[i] == .plain ? [] : try (0..<layers).map { j in
      try SpatialTransformer(
        w("attentions")(j), channels: out, heads: config.attentionHeads[level],
        layers: config.transformerLayersPerBlock[level], contextDim: config.crossAttentionDim[level], groups: config.normGroups,
        onlyCross: config.onlyCrossAttention[level])
    }
    upsampler = i == n - 1 ? nil : try Upsample(w("upsamplers")(0), channels: out)
  }

  /// `skips` holds this block's skip states, consumed last-first.
  func callAsFunction(_ x: Tensor, skips: [Tensor], emb: Tensor, context: Tensor, upsampleSize: (Int, Int)?) -> Tensor {
    var h = x
    var remaining = skips
    for (j, resnet) in resnets.enumerated() {
      let skip = remaining.removeLast()
      h = resnet(Tensor.concat([h, skip], axis: 1), emb: emb)  // [N, C + Cskip, H, W] → [N, out, H, W]
      if !attentions.isEmpty { h = attentions[j](h, context: context) }
    }
    if let upsampler { h = upsampler(h, size: upsampleSize) }
    return h
  }
}
