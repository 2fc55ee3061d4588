import Foundation
import SDImage
import SDModels
import SDTensor

/// Text-to-image as diffusers' `StableDiffusionPipeline` does it: encode the prompt and the
/// negative prompt, draw the initial latents `randn(seed) · init_noise_sigma` at
/// `[1, 4, H/f, W/f]`, run the sampler with classifier-free guidance, decode with the VAE.
public struct Text2Image {
  public let model: ModelBundle

  public init(model: ModelBundle) {
    self.model = model
  }

  public struct Output {
    public let image: RGBImage
    /// The final latents (scaled), for a following latent upscaler.
    public let latents: Tensor
    /// The warning diffusers prints when the prompt was truncated.
    public let warnings: [String]
  }

  public func generate(_ options: GenerationOptions, progress: ProgressHandler = { _ in true }) throws -> Output {
    try Self.validate(options, model: model)
    guard progress(Progress(phase: .encoding, step: 0, stepCount: options.stepCount)) else { throw CancelledError() }
    let (context, warnings) = try TextConditioning(tokenizer: model.tokenizer, encoder: model.textEncoder).prepare(options)

    var sampler = try makeSampler(
      kind: options.sampler, config: SchedulerConfig(model.schedulerConfig), stepCount: options.stepCount,
      karras: options.karras)
    var rng = TorchRandom(seed: options.seed)
    let f = model.vae.config.downFactor
    let noise = rng.randn([1, model.vae.config.latentChannels, options.height / f, options.width / f])
    let denoiser = Denoiser(unet: model.unet, context: context, guidanceScale: options.guidanceScale)
    let total = sampler.timesteps.count
    let latents = try sampler.sample(sampler.initialLatents(noise: noise), rng: &rng, denoise: denoiser.callAsFunction) { step, _ in
      guard progress(Progress(phase: .sampling, step: step + 1, stepCount: total)) else { throw CancelledError() }
    }
    guard progress(Progress(phase: .decoding, step: total, stepCount: total)) else { throw CancelledError() }
    let pixels = Self.decode(latents, vae: model.vae)  // [1, 3, H, W]
    return Output(image: ImageTensor.image(from: pixels), latents: latents, warnings: warnings)
  }

  /// Images above `tiledDecodeAbove` pixels are decoded in blended 512×512 windows (`TiledVAE`,
  /// like diffusers' `enable_tiling`), which bounds the VAE's memory to one window; smaller ones
  /// decode whole, as diffusers does by default.
  public static let tiledDecodeAbove = 1024 * 1024

  static func decode(_ latents: Tensor, vae: AutoencoderKL) -> Tensor {
    let f = vae.config.downFactor
    let pixels = latents.dim(2) * f * latents.dim(3) * f
    guard pixels > tiledDecodeAbove else { return vae.decode(scaledLatents: latents) }
    return TiledVAE(vae: vae, tileSize: TiledVAE.maxWindowPixels).decode(scaledLatents: latents, upscale: 1)
  }

  /// Sizes must be positive multiples of the VAE's factor (8 for SD) and within `maxSide`.
  public static func validate(_ options: GenerationOptions, model: ModelBundle) throws {
    let f = model.vae.config.downFactor
    for (name, value) in [("width", options.width), ("height", options.height)] {
      guard value > 0, value % f == 0, value <= GenerationOptions.maxSide else {
        throw GenerationError("--\(name) must be a positive multiple of \(f) up to \(GenerationOptions.maxSide) for this model (got \(value))")
      }
    }
    guard options.stepCount >= 1, options.stepCount <= 1000 else {
      throw GenerationError("--steps must be between 1 and 1000 (got \(options.stepCount))")
    }
  }
}

/// Invalid generation settings for the model at hand.
public struct GenerationError: Error, CustomStringConvertible {
  public let description: String
  public init(_ description: String) { self.description = description }
}
