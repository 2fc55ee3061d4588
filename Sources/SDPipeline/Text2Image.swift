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
    try generate(options, refiner: nil, progress: progress)
  }

  /// SDXL's ensemble of expert denoisers (diffusers' `denoising_end` / `denoising_start`): the
  /// base model runs the timesteps ≥ `round(T·(1 − start))`, then `model` — the refiner — the
  /// rest, from the base's latents (no VAE round trip, no noise added), with its own text encoder,
  /// time ids and scheduler config, the same sampler settings and the same generator stream.
  public struct Refiner {
    public let model: ModelBundle
    /// The fraction of the schedule the base model runs (0.8 by default).
    public let start: Double

    public init(model: ModelBundle, start: Double = 0.8) {
      self.model = model
      self.start = start
    }

    /// `int(round(T − start·T))`, in diffusers' float64 arithmetic.
    func cutoff(trainSteps: Int) -> Float {
      Float((Double(trainSteps) - start * Double(trainSteps)).rounded(.toNearestOrEven))
    }
  }

  public func generate(_ options: GenerationOptions, refiner: Refiner?, progress: ProgressHandler = { _ in true }) throws -> Output {
    try Self.validate(options, model: model)
    if let refiner, refiner.model.xl == nil || model.xl == nil {
      throw GenerationError("a refiner needs SDXL models (a UNet with text-time embedding) on both sides")
    }
    guard progress(Progress(phase: .encoding, step: 0, stepCount: options.stepCount)) else { throw CancelledError() }
    let conditioning = try Conditioning.prepare(model, options, width: options.width, height: options.height)
    var warnings = conditioning.warnings

    var sampler = try model.makeSampler(options)
    var rng = TorchRandom(seed: options.seed)
    let f = model.autoencoder.downFactor
    let noise = rng.randn([1, model.autoencoder.latentChannels, options.height / f, options.width / f])
    let denoiser = Denoiser(model: model, conditioning: conditioning, options: options)
    let total = sampler.timesteps.count
    let cutoff = refiner.map { $0.cutoff(trainSteps: 1000) }
    let baseSteps = cutoff.map { c in sampler.timesteps.filter { $0 >= c }.count } ?? total
    var latents = try sampler.sample(
      sampler.initialLatents(noise: noise), until: baseSteps, rng: &rng, denoise: denoiser.callAsFunction
    ) { step, x in
      guard progress(Progress(phase: .sampling, step: step + 1, stepCount: total, latents: x)) else { throw CancelledError() }
    }
    var decoder = model.autoencoder
    if let refiner, let cutoff {
      let expert = refiner.model
      let refined = try Conditioning.prepare(expert, options, width: options.width, height: options.height)
      warnings += refined.warnings.filter { !warnings.contains($0) }
      var second = try expert.makeSampler(options)
      let start = second.timesteps.count - second.timesteps.filter { $0 < cutoff }.count
      let expertDenoiser = Denoiser(model: expert, conditioning: refined, options: options)
      latents = try second.sample(latents, from: start, rng: &rng, denoise: expertDenoiser.callAsFunction) { step, x in
        guard progress(Progress(phase: .sampling, step: step + 1, stepCount: total, latents: x)) else { throw CancelledError() }
      }
      decoder = expert.autoencoder
    }
    guard progress(Progress(phase: .decoding, step: total, stepCount: total)) else { throw CancelledError() }
    let pixels = Self.decode(latents, codec: decoder)  // [1, 3, H, W]
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
