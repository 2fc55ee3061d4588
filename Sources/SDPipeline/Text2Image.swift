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
    let conditioning = TextConditioning(tokenizer: model.tokenizer, encoder: model.textEncoder)
    let (context, warnings) = try conditioning.prepare(options, guidance: Denoiser.usesCFG(options, unet: model.unet))

    var sampler = try model.makeSampler(options)
    var rng = TorchRandom(seed: options.seed)
    let f = model.autoencoder.downFactor
    let noise = rng.randn([1, model.autoencoder.latentChannels, options.height / f, options.width / f])
    let denoiser = Denoiser(model: model, context: context, options: options)
    let total = sampler.timesteps.count
    let latents = try sampler.sample(sampler.initialLatents(noise: noise), rng: &rng, denoise: denoiser.callAsFunction) { step, x in
      guard progress(Progress(phase: .sampling, step: step + 1, stepCount: total, latents: x)) else { throw CancelledError() }
    }
    guard progress(Progress(phase: .decoding, step: total, stepCount: total)) else { throw CancelledError() }
    let pixels = Self.decode(latents, codec: model.autoencoder)  // [1, 3, H, W]
    return Output(image: ImageTensor.image(from: pixels), latents: latents, warnings: warnings)
  }

  /// Images above `tiledDecodeAbove` pixels are decoded by an `AutoencoderKL` in blended 512×512
  /// windows (`TiledVAE`, like diffusers' `enable_tiling`), which bounds the VAE's memory to one
  /// window; smaller ones decode whole, as diffusers does by default. A TAESD always decodes whole.
  public static let tiledDecodeAbove = 1024 * 1024

  static func decode(_ latents: Tensor, codec: any LatentAutoencoder) -> Tensor {
    let f = codec.downFactor
    let pixels = latents.dim(2) * f * latents.dim(3) * f
    guard pixels > tiledDecodeAbove, let vae = codec as? AutoencoderKL else { return codec.decode(scaledLatents: latents) }
    return TiledVAE(vae: vae, tileSize: TiledVAE.maxWindowPixels).decode(scaledLatents: latents, upscale: 1)
  }

  /// Sizes must be positive multiples of the VAE's factor (8 for SD) and within `maxSide`.
  public static func validate(_ options: GenerationOptions, model: ModelBundle) throws {
    let f = model.autoencoder.downFactor
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
