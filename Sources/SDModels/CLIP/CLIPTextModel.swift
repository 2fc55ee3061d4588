import SDTensor

/// transformers `CLIPTextModel` (and the text tower of `CLIPModel`): token + position
/// embeddings, a causal pre-LN transformer, a final LayerNorm, and the pooled state at the
/// end-of-text position. SD1 uses `lastHiddenState`; SD2's diffusers text encoder is already
/// cut to the penultimate layer, so it also uses `lastHiddenState`; diffusers' `clip_skip=k`
/// is `hiddenStates[count-1-k]` with the final LayerNorm applied (REFERENCE B12).
public struct CLIPTextModel: Sendable {
  public let config: CLIPTextConfig
  let tokenEmbedding: Embedding
  let positionEmbedding: Embedding
  let encoder: CLIPEncoder
  let finalLayerNorm: LayerNormLayer
  /// `CLIPTextModelWithProjection`'s bias-free `text_projection` (SDXL's second encoder).
  let textProjection: Linear?

  /// `w` is the scope holding `text_model.*` (a diffusers `text_encoder/`, or the text tower of a
  /// CLIPModel). `withProjection`: also load `text_projection` (`CLIPTextModelWithProjection`).
  public init(_ w: WeightScope, config: CLIPTextConfig, withProjection: Bool = false) throws {
    self.config = config
    let t = w("text_model")
    tokenEmbedding = try Embedding(t("embeddings")("token_embedding"), count: config.vocabSize, width: config.encoder.width)
    positionEmbedding = try Embedding(
      t("embeddings")("position_embedding"), count: config.maxPositions, width: config.encoder.width)
    encoder = try CLIPEncoder(t("encoder"), config: config.encoder)
    finalLayerNorm = try LayerNormLayer(t("final_layer_norm"), features: config.encoder.width, eps: config.encoder.layerNormEps)
    if withProjection {
      guard let dim = config.projectionDim else {
        throw CheckpointError.missingTensor(key: w.key("text_projection.weight"), file: w.store.sourceDescription)
      }
      textProjection = try Linear(w("text_projection"), in: config.encoder.width, out: dim, bias: false)
    } else {
      textProjection = nil
    }
  }

  /// `text_embeds` of `CLIPTextModelWithProjection`: the pooled state projected, `[B, projection]`.
  public func textEmbeds(_ output: Output) -> Tensor? { textProjection.map { $0(output.pooled) } }

  public struct Output: Sendable {
    /// The embeddings and the output of every layer, before the final LayerNorm.
    public let hiddenStates: [Tensor]
    /// `final_layer_norm(hiddenStates.last)`: `[B, T, width]`.
    public let lastHiddenState: Tensor
    /// The final-normed state at each sequence's end-of-text position: `[B, width]`.
    public let pooled: Tensor
  }

  /// `ids`: `[B][T]` token ids (T ≤ max positions).
  public func callAsFunction(_ ids: [[Int]]) -> Output {
    let t = ids.first?.count ?? 0
    precondition(t <= config.maxPositions, "CLIPTextModel: \(t) tokens exceed \(config.maxPositions) positions")
    var x = tokenEmbedding(ids)  // [B, T, width]
    x += positionEmbedding([Array(0..<t)]).reshaped([t, config.encoder.width]).broadcastRows(ids.count)
    let states = encoder(x, causal: true)
    let last = finalLayerNorm(states[states.count - 1])  // [B, T, width]
    return Output(hiddenStates: states, lastHiddenState: last, pooled: pool(last, ids: ids))
  }

  /// `hidden_states[-(skip+1)]` with the final LayerNorm, as diffusers' `encode_prompt(clip_skip:)`.
  public func normedHiddenState(_ output: Output, clipSkip: Int) -> Tensor {
    clipSkip == 0 ? output.lastHiddenState : finalLayerNorm(output.hiddenStates[output.hiddenStates.count - 1 - clipSkip])
  }

  /// transformers' pooling: the first position holding `eos_token_id`, or the arg-max id for
  /// legacy configs whose `eos_token_id` is 2.
  func pool(_ last: Tensor, ids: [[Int]]) -> Tensor {
    let width = config.encoder.width, t = ids.first?.count ?? 0
    return Tensor(shape: [ids.count, width]) { out in
      last.withUnsafeBufferPointer { h in
        for (b, row) in ids.enumerated() {
          let position: Int
          if config.eosTokenId == 2 {
            position = row.indices.max { row[$0] < row[$1] } ?? 0
          } else {
            position = row.firstIndex(of: config.eosTokenId) ?? 0
          }
          (out.baseAddress! + b * width).update(from: h.baseAddress! + (b * t + position) * width, count: width)
        }
      }
    }
  }
}

extension Tensor {
  /// `[T, W]` repeated `batch` times → `[batch, T, W]`.
  func broadcastRows(_ batch: Int) -> Tensor {
    Tensor.concat([Tensor](repeating: self.reshaped([1] + shape), count: batch), axis: 0)
  }
}
