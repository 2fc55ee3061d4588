import Foundation
import SDImage
import SDModels
import SDTensor

/// diffusers `StableDiffusionLatentUpscalePipeline.__call__` (REFERENCE B16), tiled:
/// 1. text: `hidden_states[-1]` of the CLIP text encoder (before its final LayerNorm) and the
///    pooled output, for the prompt and (with guidance) the negative prompt; guidance 0 replaces
///    the prompt by "" as diffusers does;
/// 2. the image in [−1, 1] → `vae.encode(image).latent_dist.sample(generator) · scaling` (the
///    first draw), then `image_cond` = nearest ×2 of those latents · (0² + 1)^−½;
/// 3. `timestep_cond` = `[1]·64 ⊕ [0]·64 ⊕ pooled` (a fixed noise-level embedding and the text);
/// 4. latents `randn(1, 4, 2h, 2w)·init_noise_sigma` (second draw);
/// 5. per step (σ = sigmas[i]): `out = unet(x/√(σ²+1) ⊕ image_cond, t = ¼·ln σ, text,
///    timestep_cond)[:, :-1]`, `x₀ = x/(σ²+1) + σ/√(σ²+1)·out`, guidance on x₀, then the Euler
///    update with `prediction_type="original_sample"`;
/// 6. `vae.decode(latents / scaling)` at ×2 the input size.
/// Only `EulerDiscreteScheduler` (the model's own, optionally with `--karras`) is supported: the
/// step above is written in terms of its σ.
struct LatentUpscale {
  let components: DiffusionUpscaler.Components
  /// Width of each constant half of the noise-level embedding (the pipeline's literal 64).
  static let noiseLevelWidth = 64

  func run(_ original: RGBImage, options: UpscaleOptions, progress: ProgressHandler) throws -> DiffusionUpscaler.Output {
    let g = options.generation
    let c = components
    let f = c.vae.config.downFactor, latentChannels = c.vae.config.latentChannels
    let width = c.textEncoder.config.encoder.width
    guard c.unet.config.isKDiffusion, c.unet.config.inChannels == 2 * latentChannels,
      c.unet.config.timeCondProjDim == 2 * Self.noiseLevelWidth + width
    else {
      throw GenerationError("this UNet is not a latent upscaler's (K-diffusion blocks, \(2 * latentChannels) input channels, time_cond_proj_dim \(2 * Self.noiseLevelWidth + width))")
    }
    guard g.sampler == nil || g.sampler == .euler else {
      throw GenerationError("the latent upscaler runs with the euler sampler only (its x₀ preconditioning is written for EulerDiscreteScheduler)")
    }
    var sampler = try makeSampler(kind: .euler, config: c.schedulerConfig, stepCount: g.stepCount, karras: g.karras)
    guard sampler.prediction == .sample, let sigmas = sampler.sigmas else {
      throw GenerationError("the latent upscaler's scheduler must predict original_sample (\(c.schedulerConfig.json.source))")
    }

    // The UNet halves the 2× latent (levels − 1) times and its K upsampler reflects one sample
    // at each edge: pad the image (edge pixels) to a multiple of f·factor/2 that is at least
    // f·factor, so every level is a whole number of samples and the smallest is 2×2.
    let unetFactor = 1 << (c.unet.config.blockOutChannels.count - 1)
    let m = max(f * unetFactor / 2, f)
    func padded(_ n: Int) -> Int { max((n + m - 1) / m * m, 2 * m) }
    let (paddedW, paddedH) = (padded(original.width), padded(original.height))
    let image = original.padded(toWidth: paddedW, height: paddedH)

    // 1. Text.
    let guiding = g.usesGuidance
    let prompt = g.guidanceScale == 0 ? "" : g.prompt
    let tokens = TextConditioning(tokenizer: c.tokenizer, encoder: c.textEncoder)
    let warnings = [prompt, g.negativePrompt].compactMap { tokens.warning($0, longPrompt: false) }
    guard progress(Progress(phase: .encoding, step: 0, stepCount: g.stepCount)) else { throw CancelledError() }
    let texts = guiding ? [g.negativePrompt, prompt] : [prompt]
    let encoded = c.textEncoder(texts.map { c.tokenizer.encodePadded($0).ids })
    let context = encoded.hiddenStates[encoded.hiddenStates.count - 1]  // [B, 77, D], before the final LayerNorm
    let ones = Tensor(shape: [texts.count, Self.noiseLevelWidth], data: [Float](repeating: 1, count: texts.count * Self.noiseLevelWidth))
    let timestepCondition = Tensor.concat([ones, Tensor(zeros: [texts.count, Self.noiseLevelWidth]), encoded.pooled], axis: 1)  // [B, 128 + D]

    // 2. Image latents (first draw), conditioning at 2×.
    var rng = TorchRandom(seed: g.seed)
    let vae = TiledVAE(vae: c.vae, tileSize: options.tileSize, ramps: options.seamBlending)
    let posterior = vae.encode(ImageTensor.tensor(from: image))  // [1, 4, H/f, W/f] each
    let eps = rng.randn(posterior.mean.shape)
    let imageLatents = c.vae.scale(posterior.mean + posterior.std * eps)
    let imageCondition = imageLatents.upsampledNearest2x()  // · (0² + 1)^−½ = 1

    // 4. Latents (second draw).
    let (h, w) = (imageCondition.dim(2), imageCondition.dim(3))
    var x = sampler.initialLatents(noise: rng.randn([1, latentChannels, h, w]))

    // 5. Denoising.
    var tiling = DiffusionTiling(tile: options.tileSize * 2 / f, multiple: unetFactor)
    tiling.ramps = options.seamBlending
    let model = TiledUNet(unet: c.unet, context: context, tiling: tiling, timestepCondition: timestepCondition)
    let total = sampler.timesteps.count
    for i in 0..<total {
      let sigma = sigmas[i]
      let input = sampler.scaleModelInput(x, step: i)  // x/√(σ²+1)
      let t = logf(sigma) * 0.25
      var out = model(input, extra: imageCondition, timestep: t)  // [B, 4 + 1, h, w]
      out = out.slice(axis: 1, 0..<(out.dim(1) - 1))  // the variance channel is unused
      let invSigma = 1 / (sigma * sigma + 1), cOut = sigma / (sigma * sigma + 1).squareRoot()
      let batched = guiding ? Tensor.concat([x, x], axis: 0) : x
      var x0 = batched * invSigma + out * cOut  // [B, 4, h, w]
      if guiding { x0 = Guidance.combine(x0, scale: g.guidanceScale) }
      x = sampler.step(x0, step: i, sample: x, rng: &rng)
      guard progress(Progress(phase: .sampling, step: i + 1, stepCount: total)) else { throw CancelledError() }
    }

    // 6. Decode at 2×, crop the padding.
    guard progress(Progress(phase: .decoding, step: total, stepCount: total)) else { throw CancelledError() }
    let decoded = vae.decode(scaledLatents: x, upscale: 2)  // [1, 3, 2H, 2W]
    let result = ImageTensor.image(from: decoded).cropped(toWidth: original.width * 2, height: original.height * 2)
    return .init(image: result, warnings: warnings, windowCount: tiling.count(height: h, width: w))
  }
}
