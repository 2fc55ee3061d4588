import SDTensor

/// The VAE's single-head spatial self-attention (diffusers `Attention` with `group_norm`,
/// biased q/k/v, residual connection), over the H·W positions.
struct VAEAttention: Sendable {
  let groupNorm: GroupNormLayer
  let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear

  init(_ w: WeightScope, channels: Int, groups: Int) throws {
    groupNorm = try GroupNormLayer(w("group_norm"), channels: channels, groups: groups, eps: 1e-6)
    toQ = try Linear(w("to_q"), in: channels, out: channels, acceptingPointwiseConv: true)
    toK = try Linear(w("to_k"), in: channels, out: channels, acceptingPointwiseConv: true)
    toV = try Linear(w("to_v"), in: channels, out: channels, acceptingPointwiseConv: true)
    toOut = try Linear(w("to_out")(0), in: channels, out: channels, acceptingPointwiseConv: true)
  }

  func callAsFunction(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    let tokens = groupNorm(x).permuted(0, 2, 3, 1).reshaped([n, h * w, c])  // [N, HW, C]
    let a = Attention.scaledDotProduct(q: toQ(tokens), k: toK(tokens), v: toV(tokens), heads: 1, precision: toQ.weight.precision)
    var y = toOut(a).reshaped([n, h, w, c]).permuted(0, 3, 1, 2)  // [N, C, H, W]
    y += x
    return y
  }
}

/// diffusers `UNetMidBlock2D` as the VAE uses it: resnet → attention → resnet, no time embedding.
struct VAEMidBlock: Sendable {
  let resnets: [ResBlock]
  let attention: VAEAttention?

  init(_ w: WeightScope, channels: Int, groups: Int, attention hasAttention: Bool) throws {
    resnets = try (0..<2).map {
      try ResBlock(w("resnets")($0), in: channels, out: channels, timeEmbedDim: nil, groups: groups, eps: 1e-6)
    }
    attention = hasAttention ? try VAEAttention(w("attentions")(0), channels: channels, groups: groups) : nil
  }

  func callAsFunction(_ x: Tensor) -> Tensor {
    var h = resnets[0](x)
    if let attention { h = attention(h) }
    return resnets[1](h)
  }
}
