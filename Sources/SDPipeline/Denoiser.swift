import SDModels
import SDTensor

/// The UNet call a sampler's `denoise` closure makes: duplicates the latents for CFG, appends
/// the conditioning channels some models take (the 9-channel inpainting mask and masked-image
/// latents, the x4 upscaler's noised low-res image), runs the UNet and applies guidance.
struct Denoiser {
  let unet: UNet
  /// `[2 or 1, S, D]` text states, uncond first when guiding.
  let context: Tensor
  let guidanceScale: Float
  /// Channels concatenated after the latents, `[1, C, h, w]` (already batched for CFG if needed).
  var extraChannels: Tensor?
  var classLabels: [Int]?
  /// `[1, time_cond_proj_dim]`: the guidance embedding of guidance-distilled (LCM) UNets.
  var timestepCondition: Tensor?
  /// SDXL's pooled text and time ids, batched like `context`.
  var added: AddedConditions?

  var guides: Bool { context.dim(0) == 2 }

  /// The denoiser of the SD pipelines for `model`: classifier-free guidance when the context
  /// holds `[uncond, cond]`, and diffusers' `timestep_cond` — the embedding of `guidance − 1` —
  /// when the UNet has `time_cond_proj_dim` (then there is no CFG batch; see `usesCFG`).
  init(model: ModelBundle, conditioning: Conditioning, options: GenerationOptions) {
    unet = model.unet
    context = conditioning.context
    added = conditioning.added
    guidanceScale = options.guidanceScale
    timestepCondition = model.unet.config.timeCondProjDim.map {
      GuidanceEmbedding.embedding(w: options.guidanceScale - 1, dim: $0)
    }
  }

  /// diffusers' `do_classifier_free_guidance`: guidance > 1 and a UNet without a guidance embedding.
  static func usesCFG(_ options: GenerationOptions, unet: UNet) -> Bool {
    options.usesGuidance && unet.config.timeCondProjDim == nil
  }

  func callAsFunction(_ modelInput: Tensor, _ timestep: Float) -> Tensor {
    var x = guides ? Tensor.concat([modelInput, modelInput], axis: 0) : modelInput  // [B, 4, h, w]
    if let extraChannels {
      let extra = guides && extraChannels.dim(0) == 1 ? Tensor.concat([extraChannels, extraChannels], axis: 0) : extraChannels
      x = Tensor.concat([x, extra], axis: 1)  // [B, 4 + C, h, w]
    }
    let labels = classLabels.map { guides && $0.count == 1 ? $0 + $0 : $0 }
    let condition = timestepCondition.map { guides ? Tensor.concat([$0, $0], axis: 0) : $0 }
    let prediction = unet(
      x, timesteps: [timestep], context: context, classLabels: labels, timestepCondition: condition, added: added)
    return guides ? Guidance.combine(prediction, scale: guidanceScale) : prediction
  }
}
