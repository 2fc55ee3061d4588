import SDTensor

/// transformers `CLIPVisionTransformer` (the vision tower of `CLIPModel`, and of diffusers'
/// `StableDiffusionSafetyChecker`): a patch-embedding convolution (no bias), a learned class token,
/// learned position embeddings, `pre_layrnorm`, the pre-LN transformer without a causal mask, and
/// `post_layernorm` applied to the class token (the pooled output).
///
/// Limitations: images must be `imageSize × imageSize` (transformers' default,
/// `interpolate_pos_encoding=False`); position-embedding interpolation is not implemented.
public struct CLIPVisionModel: Sendable {
  public let config: CLIPVisionConfig
  let patchEmbedding: Conv2DLayer
  let classEmbedding: Tensor
  let positionEmbedding: Embedding
  let preLayerNorm: LayerNormLayer
  let encoder: CLIPEncoder
  let postLayerNorm: LayerNormLayer

  /// `w` is the scope holding `embeddings.*`, `pre_layrnorm.*`, `encoder.*` and `post_layernorm.*`:
  /// `vision_model` in a CLIPModel file, `vision_model.vision_model` in a safety-checker file.
  public init(_ w: WeightScope, config: CLIPVisionConfig) throws {
    self.config = config
    let width = config.encoder.width, e = w("embeddings")
    patchEmbedding = try Conv2DLayer(
      e("patch_embedding"), in: config.channels, out: width, kernel: config.patchSize, stride: config.patchSize,
      padding: 0, bias: false)
    classEmbedding = try e.tensor("class_embedding", shape: [width])
    positionEmbedding = try Embedding(e("position_embedding"), count: config.positions, width: width)
    preLayerNorm = try LayerNormLayer(w("pre_layrnorm"), features: width, eps: config.encoder.layerNormEps)
    encoder = try CLIPEncoder(w("encoder"), config: config.encoder)
    postLayerNorm = try LayerNormLayer(w("post_layernorm"), features: width, eps: config.encoder.layerNormEps)
  }

  public struct Output: Sendable {
    /// The output of the last layer (before `post_layernorm`): `[B, 1 + grid², width]`.
    public let lastHiddenState: Tensor
    /// `post_layernorm` of the class token: `[B, width]` (transformers `pooler_output`).
    public let pooled: Tensor
  }

  /// `pixels`: `[B, 3, imageSize, imageSize]`, normalised as `CLIPImageProcessor` does.
  public func callAsFunction(_ pixels: Tensor) -> Output {
    let s = config.imageSize, width = config.encoder.width
    precondition(
      pixels.rank == 4 && pixels.shape[1] == config.channels && pixels.shape[2] == s && pixels.shape[3] == s,
      "CLIPVisionModel: expected [B, \(config.channels), \(s), \(s)], got \(pixels.shape)")
    let b = pixels.shape[0], g = config.gridSize, tokens = config.positions
    let patches = patchEmbedding(pixels)  // [B, width, g, g]
      .reshaped([b, width, g * g]).permuted(0, 2, 1)  // [B, g², width]
    var x = Tensor(shape: [b, tokens, width]) { out in  // [B, 1 + g², width]
      patches.withUnsafeBufferPointer { p in
        classEmbedding.withUnsafeBufferPointer { cls in
          positionEmbedding.table.withUnsafeBufferPointer { pos in
            for i in 0..<b {
              let dst = out.baseAddress! + i * tokens * width
              for j in 0..<width { dst[j] = cls[j] + pos[j] }
              for t in 1..<tokens {
                let src = p.baseAddress! + (i * (tokens - 1) + t - 1) * width
                for j in 0..<width { dst[t * width + j] = src[j] + pos[t * width + j] }
              }
            }
          }
        }
      }
    }
    x = preLayerNorm(x)
    let states = encoder(x, causal: false)
    let last = states[states.count - 1]  // [B, T, width]
    let cls = Tensor(shape: [b, width]) { out in  // [B, width]
      last.withUnsafeBufferPointer { h in
        for i in 0..<b { (out.baseAddress! + i * width).update(from: h.baseAddress! + i * tokens * width, count: width) }
      }
    }
    return Output(lastHiddenState: last, pooled: postLayerNorm(cls))
  }
}
