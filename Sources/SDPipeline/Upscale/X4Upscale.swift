import SDImage
import SDModels
import SDTensor

/// diffusers `StableDiffusionUpscalePipeline.__call__` (REFERENCE B15), tiled:
/// 1. the prompt and negative prompt through the text encoder (`encode_prompt`, `[uncond, cond]`);
/// 2. the image in [−1, 1], noised with the first draw of the generator by the low-res DDPM
///    schedule at `noise_level`. Sides that are not multiples of the UNet's down factor
///    (2^(blocks−1): 8 for stabilityai/stable-diffusion-x4-upscaler) are padded with edge pixels
///    and the ×4 result cropped back, as img2img does, so every input gives exactly ×4 and the
///    UNet's skip connections stay aligned. (diffusers instead resizes the input, bicubic, down to
///    a multiple of the VAE factor, 4, which changes the output size and the aspect; inputs that
///    are multiples of the UNet factor are computed exactly as diffusers does);
/// 3. latents `randn(1, 4, h, w)·init_noise_sigma` at the input size (second draw);
/// 4. per step: `unet(scale_model_input(latents) ⊕ noised image, t, text, class_labels =
///    noise_level)`, classifier-free guidance, the sampler's update (ancestral samplers draw
///    their noise from the same generator after that);
/// 5. `vae.decode(latents / scaling_factor)` at ×4.
struct X4Upscale {
  let components: DiffusionUpscaler.Components

  func run(_ image: RGBImage, options: UpscaleOptions, progress: ProgressHandler) throws -> DiffusionUpscaler.Output {
    let g = options.generation
    let c = components
    let vaeFactor = c.vae.config.downFactor
    guard c.unet.config.inChannels == c.vae.config.latentChannels + 3, c.unet.config.classEmbeddings != nil else {
      throw GenerationError("this UNet (in_channels \(c.unet.config.inChannels)) is not an x4 upscaler's (latent + 3 image channels, noise-level class embedding)")
    }
    guard let lowRes = c.lowResSchedule else { throw GenerationError("the x4 upscaler needs its low_res_scheduler") }

    let conditioning = TextConditioning(tokenizer: c.tokenizer, encoder: c.textEncoder)
    let warnings = [g.prompt, g.negativePrompt].compactMap { conditioning.warning($0, longPrompt: g.longPrompt) }
    guard progress(Progress(phase: .encoding, step: 0, stepCount: g.stepCount)) else { throw CancelledError() }
    let context = conditioning.context(
      prompt: g.prompt, negativePrompt: g.negativePrompt, guidance: g.usesGuidance, clipSkip: g.clipSkip,
      longPrompt: g.longPrompt)  // [2 or 1, 77, D]

    var sampler = try makeSampler(kind: g.sampler, config: c.schedulerConfig, stepCount: g.stepCount, karras: g.karras)
    var rng = TorchRandom(seed: g.seed)
    let unetFactor = 1 << (c.unet.config.blockOutChannels.count - 1)
    func roundUp(_ n: Int) -> Int { (n + unetFactor - 1) / unetFactor * unetFactor }
    let (h, w) = (roundUp(image.height), roundUp(image.width))
    let pixels = ImageTensor.tensor(from: image.padded(toWidth: w, height: h))  // [1, 3, H, W] in [−1, 1]
    let noisedImage = lowRes.addNoise(pixels, noise: rng.randn([1, 3, h, w]), timestep: options.noiseLevel)
    let latents0 = sampler.initialLatents(noise: rng.randn([1, c.vae.config.latentChannels, h, w]))

    var unetTiling = DiffusionTiling(tile: options.tileSize, multiple: unetFactor)
    unetTiling.ramps = options.seamBlending
    let model = TiledUNet(
      unet: c.unet, context: context, tiling: unetTiling,
      classLabels: [Int](repeating: options.noiseLevel, count: context.dim(0)))
    let total = sampler.timesteps.count
    let latents = try sampler.sample(latents0, rng: &rng, denoise: { input, t in
      let raw = model(input, extra: noisedImage, timestep: t)  // [B, 4, h, w]
      return context.dim(0) == 2 ? Guidance.combine(raw, scale: g.guidanceScale) : raw
    }) { step, _ in
      guard progress(Progress(phase: .sampling, step: step + 1, stepCount: total)) else { throw CancelledError() }
    }

    guard progress(Progress(phase: .decoding, step: total, stepCount: total)) else { throw CancelledError() }
    let decoded = TiledVAE(vae: c.vae, tileSize: options.tileSize, ramps: options.seamBlending).decode(scaledLatents: latents)  // [1, 3, 4h, 4w]
    precondition(decoded.dim(2) == h * vaeFactor && decoded.dim(3) == w * vaeFactor, "x4: decoded \(decoded.shape)")
    let upscaled = ImageTensor.image(from: decoded).cropped(toWidth: image.width * vaeFactor, height: image.height * vaeFactor)
    return .init(image: upscaled, warnings: warnings, windowCount: unetTiling.count(height: h, width: w))
  }
}
