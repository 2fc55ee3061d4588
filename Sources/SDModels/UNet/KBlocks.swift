import SDTensor

/// diffusers `ResnetBlockCondNorm2D` with `time_embedding_norm="ada_group"`, as the K blocks
/// build it: AdaGroupNorm → act → conv → AdaGroupNorm → act → conv, plus a bias-free 1×1
/// `conv_shortcut` when the input width differs from `conv2`'s output width.
struct KResBlock: Sendable {
  let norm1: AdaGroupNorm, conv1: Conv2DLayer
  let norm2: AdaGroupNorm, conv2: Conv2DLayer
  let shortcut: Conv2DLayer?
  let activation: Activation

  init(_ w: WeightScope, plan p: KBlockPlan.Resnet, timeEmbedDim: Int, eps: Float, activation: Activation) throws {
    norm1 = try AdaGroupNorm(w("norm1"), embedDim: timeEmbedDim, channels: p.inChannels, groups: p.groups, eps: eps)
    conv1 = try Conv2DLayer(w("conv1"), in: p.inChannels, out: p.outChannels, kernel: 3)
    norm2 = try AdaGroupNorm(w("norm2"), embedDim: timeEmbedDim, channels: p.outChannels, groups: p.groupsOut, eps: eps)
    conv2 = try Conv2DLayer(w("conv2"), in: p.outChannels, out: p.conv2Out, kernel: 3)
    shortcut = p.inChannels == p.conv2Out ? nil
      : try Conv2DLayer(w("conv_shortcut"), in: p.inChannels, out: p.conv2Out, kernel: 1, bias: false)
    self.activation = activation
  }

  /// `x` `[N, in, H, W]`, `emb` `[N, timeEmbedDim]` → `[N, conv2Out, H, W]`.
  func callAsFunction(_ x: Tensor, emb: Tensor) -> Tensor {
    var h = conv1(norm1(x, emb: emb, activation: activation))  // [N, out, H, W]
    h = conv2(norm2(h, emb: emb, activation: activation))  // [N, conv2Out, H, W]
    h += shortcut.map { $0(x) } ?? x
    return h
  }
}

/// diffusers `KAttentionBlock` ("no feed-forward" transformer block): optional self-attention,
/// then cross-attention whose text states go through a LayerNorm (`cross_attention_norm=
/// "layer_norm"`, `attn2.norm_cross`); each is AdaGroupNorm-modulated by the time embedding,
/// has q/k/v biases, and adds back onto the NCHW input.
struct KAttentionBlock: Sendable {
  let norm1: AdaGroupNorm?, attn1: CrossAttention?
  let norm2: AdaGroupNorm, attn2: CrossAttention
  let normCross: LayerNormLayer

  init(_ w: WeightScope, plan p: KBlockPlan.Attention, timeEmbedDim: Int) throws {
    if p.selfAttention {
      norm1 = try AdaGroupNorm(w("norm1"), embedDim: timeEmbedDim, channels: p.dim, groups: p.groups, eps: 1e-5)
      attn1 = try CrossAttention(w("attn1"), queryDim: p.dim, contextDim: p.dim, heads: p.heads, headDim: p.headDim, bias: true)
    } else {
      (norm1, attn1) = (nil, nil)
    }
    norm2 = try AdaGroupNorm(w("norm2"), embedDim: timeEmbedDim, channels: p.dim, groups: p.groups, eps: 1e-5)
    attn2 = try CrossAttention(w("attn2"), queryDim: p.dim, contextDim: p.contextDim, heads: p.heads, headDim: p.headDim, bias: true)
    normCross = try LayerNormLayer(w("attn2")("norm_cross"), features: p.contextDim, eps: 1e-5)
  }

  /// `x` `[N, C, H, W]`, `context` `[N, S, D]`, `emb` `[N, E]` → `[N, C, H, W]`.
  func callAsFunction(_ x: Tensor, context: Tensor, emb: Tensor) -> Tensor {
    let (n, c, hgt, wid) = (x.dim(0), x.dim(1), x.dim(2), x.dim(3))
    func tokens(_ t: Tensor) -> Tensor { t.permuted(0, 2, 3, 1).reshaped([n, hgt * wid, c]) }  // [N, HW, C]
    func planes(_ t: Tensor) -> Tensor { t.reshaped([n, hgt, wid, c]).permuted(0, 3, 1, 2) }  // [N, C, H, W]
    var h = x
    if let norm1, let attn1 { h += planes(attn1(tokens(norm1(h, emb: emb)))) }
    h += planes(attn2(tokens(norm2(h, emb: emb)), context: normCross(context)))
    return h
  }
}

/// One level of the K UNet: `KDownBlock2D`/`KCrossAttnDownBlock2D` (resamples = downsample after)
/// or `KUpBlock2D`/`KCrossAttnUpBlock2D` (the skip is concatenated first, upsample after).
struct KBlock: Sendable {
  let plan: KBlockPlan
  let resnets: [KResBlock]
  let attentions: [KAttentionBlock]

  init(_ w: WeightScope, plan: KBlockPlan, config: UNetConfig) throws {
    self.plan = plan
    resnets = try plan.resnets.enumerated().map { j, p in
      try KResBlock(w("resnets")(j), plan: p, timeEmbedDim: config.timeEmbedDim, eps: config.normEps, activation: config.activation)
    }
    attentions = try plan.attentions.enumerated().map { j, p in
      try KAttentionBlock(w("attentions")(j), plan: p, timeEmbedDim: config.timeEmbedDim)
    }
  }

  /// Runs the resnet (+ attention) pairs; returns the output and each pair's output.
  func layers(_ x: Tensor, emb: Tensor, context: Tensor) -> (Tensor, [Tensor]) {
    var h = x, states: [Tensor] = []
    for (j, resnet) in resnets.enumerated() {
      h = resnet(h, emb: emb)
      if !attentions.isEmpty { h = attentions[j](h, context: context, emb: emb) }
      states.append(h)
    }
    return (h, states)
  }
}

/// The contracting and expanding paths of diffusers' K-diffusion UNet (the x2 latent upscaler),
/// between `conv_in` and `conv_out`; there is no mid block and `conv_in`'s output is never used
/// as a skip (diffusers collects it, but the K up blocks only read the last state of their share).
struct KUNetBody: Sendable {
  let down: [KBlock]
  let up: [KBlock]

  init(_ w: WeightScope, config: UNetConfig) throws {
    down = try config.downBlocks.indices.map { try KBlock(w("down_blocks")($0), plan: config.kDownPlan($0), config: config) }
    up = try config.upBlocks.indices.map { try KBlock(w("up_blocks")($0), plan: config.kUpPlan($0), config: config) }
  }

  /// `x` `[N, c0, h, w]` with h, w multiples of 2^(levels−1) → `[N, c0, h, w]`.
  func callAsFunction(_ x: Tensor, emb: Tensor, context: Tensor) -> Tensor {
    var h = x
    var states: [Tensor?] = [x]
    for block in down {
      let (out, pairs) = block.layers(h, emb: emb, context: context)
      states += block.plan.emitsStates ? pairs.map { $0 } : [Tensor?](repeating: nil, count: pairs.count)
      h = block.plan.resamples ? KResampling.downsample(out) : out  // [N, C, h/2, w/2]
    }
    for block in up {
      let share = states.suffix(block.resnets.count)
      states.removeLast(block.resnets.count)
      if let skip = share.last ?? nil { h = Tensor.concat([h, skip], axis: 1) }  // [N, C + Cskip, h, w]
      h = block.layers(h, emb: emb, context: context).0
      if block.plan.resamples { h = KResampling.upsample(h) }  // [N, C, 2h, 2w]
    }
    return h
  }
}
