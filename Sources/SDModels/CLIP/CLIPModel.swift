import SDTensor

/// transformers `CLIPModel`: the text tower (`CLIPTextModel`, pooled at the end-of-text token), the
/// vision tower (`CLIPVisionModel`, pooled at the class token), `text_projection` and
/// `visual_projection` (linear, no bias) into a shared space, and the learned `logit_scale`.
/// Keys (transformers 4 and 5 write the same): `text_model.*`, `vision_model.*`, `text_projection.weight`,
/// `visual_projection.weight`, `logit_scale` (0-dim).
public struct CLIPModel: Sendable {
  public let config: CLIPModelConfig
  public let textModel: CLIPTextModel
  public let visionModel: CLIPVisionModel
  let textProjection: Linear
  let visualProjection: Linear
  /// The stored `logit_scale` (a log; scores are multiplied by its exponential).
  public let logitScale: Float

  /// `w` is the root of a CLIPModel checkpoint. A file without `logit_scale` uses
  /// `config.logitScaleInit`, as transformers' initialisation would.
  public init(_ w: WeightScope, config: CLIPModelConfig) throws {
    self.config = config
    textModel = try CLIPTextModel(w, config: config.text)
    visionModel = try CLIPVisionModel(w("vision_model"), config: config.vision)
    textProjection = try Linear(w("text_projection"), in: config.text.encoder.width, out: config.projectionDim, bias: false)
    visualProjection = try Linear(
      w("visual_projection"), in: config.vision.encoder.width, out: config.projectionDim, bias: false)
    if let scale = try w.optionalTensor("logit_scale", shape: []) ?? w.optionalTensor("logit_scale", shape: [1]) {
      logitScale = scale.data[0]
    } else {
      logitScale = config.logitScaleInit
    }
  }

  /// `get_image_features`: `visual_projection(pooled)`, `[B, projectionDim]`, from normalised
  /// pixels `[B, 3, imageSize, imageSize]`.
  public func imageFeatures(_ pixels: Tensor) -> Tensor {
    visualProjection(visionModel(pixels).pooled)  // [B, width] → [B, P]
  }

  /// `get_text_features`: `text_projection(pooled)`, `[B, projectionDim]`, from token ids `[B][77]`.
  public func textFeatures(_ ids: [[Int]]) -> Tensor {
    textProjection(textModel(ids).pooled)  // [B, width] → [B, P]
  }

  public struct Output: Sendable {
    /// L2-normalised image features, `[I, P]`.
    public let imageEmbeds: Tensor
    /// L2-normalised text features, `[T, P]`.
    public let textEmbeds: Tensor
    /// `exp(logit_scale) · imageEmbeds · textEmbedsᵀ`, `[I, T]`.
    public let logitsPerImage: Tensor
  }

  /// `CLIPModel.forward(input_ids, pixel_values)`.
  public func callAsFunction(ids: [[Int]], pixels: Tensor) -> Output {
    let image = imageFeatures(pixels), text = textFeatures(ids)
    return Output(
      imageEmbeds: CLIPScorer.l2Normalized(image), textEmbeds: CLIPScorer.l2Normalized(text),
      logitsPerImage: CLIPScorer.logitsPerImage(imageFeatures: image, textFeatures: text, logitScale: logitScale))
  }
}
