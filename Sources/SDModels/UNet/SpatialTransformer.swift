import SDTensor

/// diffusers `Attention` as the UNet uses it: q/k/v projections (bias-free, except in the K
/// blocks' `attention_bias=True`), `to_out.0` with bias.
/// `upcast_attention` only matters in half precision; sdedit attends in Float32 always.
struct CrossAttention: Sendable {
  let toQ: Linear, toK: Linear, toV: Linear, toOut: Linear
  let heads: Int

  init(_ w: WeightScope, queryDim: Int, contextDim: Int, heads: Int, headDim: Int, bias: Bool = false) throws {
    let inner = heads * headDim
    toQ = try Linear(w("to_q"), in: queryDim, out: inner, bias: bias)
    toK = try Linear(w("to_k"), in: contextDim, out: inner, bias: bias)
    toV = try Linear(w("to_v"), in: contextDim, out: inner, bias: bias)
    toOut = try Linear(w("to_out")(0), in: inner, out: queryDim)
    self.heads = heads
  }

  /// `x` `[B, T, queryDim]`, `context` `[B, S, contextDim]` (nil: self-attention).
  func callAsFunction(_ x: Tensor, context: Tensor? = nil) -> Tensor {
    let c = context ?? x
    let h = Attention.scaledDotProduct(q: toQ(x), k: toK(c), v: toV(c), heads: heads, precision: toQ.weight.precision)  // [B, T, inner]
    return toOut(h)
  }
}

/// diffusers `FeedForward` with GEGLU: `proj` to 2×inner, `hidden · gelu(gate)`, then back.
struct GEGLUFeedForward: Sendable {
  let proj: Linear, out: Linear
  let inner: Int

  init(_ w: WeightScope, dim: Int, mult: Int = 4) throws {
    inner = dim * mult
    proj = try Linear(w("net")(0)("proj"), in: dim, out: inner * 2)
    out = try Linear(w("net")(2), in: inner, out: dim)
  }

  func callAsFunction(_ x: Tensor) -> Tensor {
    let gated = proj(x).geglu()  // [B, T, 2·inner] → [B, T, inner]
    return out(gated)
  }
}

/// diffusers `BasicTransformerBlock` (norm_type "layer_norm"): self-attention, cross-attention,
/// GEGLU feed-forward, each pre-LayerNorm with a residual.
struct BasicTransformerBlock: Sendable {
  let norm1: LayerNormLayer, attn1: CrossAttention
  let norm2: LayerNormLayer, attn2: CrossAttention
  let norm3: LayerNormLayer, ff: GEGLUFeedForward
  /// `only_cross_attention`: the first attention attends to the text too.
  let onlyCross: Bool

  init(_ w: WeightScope, dim: Int, contextDim: Int, heads: Int, onlyCross: Bool) throws {
    let headDim = dim / heads
    self.onlyCross = onlyCross
    norm1 = try LayerNormLayer(w("norm1"), features: dim, eps: 1e-5)
    attn1 = try CrossAttention(
      w("attn1"), queryDim: dim, contextDim: onlyCross ? contextDim : dim, heads: heads, headDim: headDim)
    norm2 = try LayerNormLayer(w("norm2"), features: dim, eps: 1e-5)
    attn2 = try CrossAttention(w("attn2"), queryDim: dim, contextDim: contextDim, heads: heads, headDim: headDim)
    norm3 = try LayerNormLayer(w("norm3"), features: dim, eps: 1e-5)
    ff = try GEGLUFeedForward(w("ff"), dim: dim)
  }

  func callAsFunction(_ x: Tensor, context: Tensor) -> Tensor {
    var h = x + attn1(norm1(x), context: onlyCross ? context : nil)  // [B, T, dim]
    h += attn2(norm2(h), context: context)
    h += ff(norm3(h))
    return h
  }
}

/// diffusers `Transformer2DModel` for continuous inputs: GroupNorm (eps 1e-6) → `proj_in`
/// (1×1 conv in SD1, linear in SD2) → transformer blocks over the H·W tokens → `proj_out`, + residual.
struct SpatialTransformer: Sendable {
  let norm: GroupNormLayer
  let projIn: Linear, projOut: Linear
  let blocks: [BasicTransformerBlock]

  init(
    _ w: WeightScope, channels: Int, heads: Int, layers: Int, contextDim: Int, groups: Int, onlyCross: Bool = false
  ) throws {
    norm = try GroupNormLayer(w("norm"), channels: channels, groups: groups, eps: 1e-6)
    // A 1×1 convolution over NCHW is the same linear map over [B, HW, C] tokens; both are loaded as Linear.
    projIn = try Linear(w("proj_in"), in: channels, out: channels, acceptingPointwiseConv: true)
    projOut = try Linear(w("proj_out"), in: channels, out: channels, acceptingPointwiseConv: true)
    blocks = try (0..<layers).map {
      try BasicTransformerBlock(
        w("transformer_blocks")($0), dim: channels, contextDim: contextDim, heads: heads, onlyCross: onlyCross)
    }
  }

  func callAsFunction(_ x: Tensor, context: Tensor) -> Tensor {
    let (n, c, hgt, wid) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
    var h = norm(x).permuted(0, 2, 3, 1).reshaped([n, hgt * wid, c])  // [N, HW, C]
    h = projIn(h)
    for block in blocks { h = block(h, context: context) }
    h = projOut(h).reshaped([n, hgt, wid, c]).permuted(0, 3, 1, 2)  // [N, C, H, W]
    h += x
    return h
  }
}
