import SDModels
import SDTensor

/// What the UNet is conditioned on for one generation: the text states (`[uncond, cond]` with
/// classifier-free guidance) and, for SDXL, the added conditions (pooled text + micro-conditioning).
struct Conditioning {
  var context: Tensor
  var added: AddedConditions?
  var warnings: [String]

  /// The conditioning of `model` for `options` at an image of `width`×`height` pixels (SDXL's
  /// default original and target size; for img2img/inpaint the padded image size, as diffusers
  /// takes it from the latents).
  static func prepare(_ model: ModelBundle, _ options: GenerationOptions, width: Int, height: Int) throws -> Conditioning {
    defer { model.releaseTextEncoderPages() }
    let guides = Denoiser.usesCFG(options, unet: model.unet)
    guard let xl = model.xl else {
      let conditioning = TextConditioning(tokenizer: model.tokenizer, encoder: model.textEncoder)
      let (context, warnings) = try conditioning.prepare(options, guidance: guides)
      return Conditioning(context: context, added: nil, warnings: warnings)
    }
    let text = try XLTextConditioning(towers: model.textTowers).prepare(
      options, guidance: guides, forceZeros: xl.forceZerosForEmptyPrompt)
    let ids = xl.timeIds(options, width: width, height: height)
    let expected = xl.textTime.inputDim, got = text.pooled.dim(1) + ids.positive.count * xl.textTime.timeEmbedDim
    guard expected == got else {
      throw GenerationError(
        "this UNet's add_embedding takes \(expected) features, but the pooled text (\(text.pooled.dim(1))) and \(ids.positive.count) time ids give \(got) (check requires_aesthetics_score)")
    }
    let rows = guides ? [ids.negative, ids.positive] : [ids.positive]
    let timeIds = Tensor(shape: [rows.count, ids.positive.count], data: rows.flatMap { $0 })
    return Conditioning(
      context: text.context, added: AddedConditions(textEmbeds: text.pooled, timeIds: timeIds), warnings: text.warnings)
  }
}

extension XLSettings {
  /// diffusers' `_get_add_time_ids`: `[original H, W, crop top, left, target H, W]` (negative = the
  /// same), or with `requires_aesthetics_score` `[original H, W, crop top, left, aesthetic score]`
  /// and a negative `[original H, W, 0, 0, negative aesthetic score]`. Sizes default to the image's.
  func timeIds(_ options: GenerationOptions, width: Int, height: Int) -> (positive: [Float], negative: [Float]) {
    let original = options.originalSize ?? ImageSize(width: width, height: height)
    let target = options.targetSize ?? ImageSize(width: width, height: height)
    let crop = options.cropTopLeft
    let head: [Float] = [Float(original.height), Float(original.width)]
    if requiresAestheticsScore {
      return (head + [Float(crop.y), Float(crop.x), options.aestheticScore], head + [0, 0, options.negativeAestheticScore])
    }
    let positive = head + [Float(crop.y), Float(crop.x), Float(target.height), Float(target.width)]
    return (positive, positive)
  }
}
