import Foundation
import SDImage
import SDModels
import SDTensor

/// Diffusion super-resolution with the two Stability AI upscalers, as diffusers runs them
/// (REFERENCE B15, B16):
/// - `StableDiffusionUpscalePipeline` (stabilityai/stable-diffusion-x4-upscaler): ×4, the
///   low-resolution image noised to `noiseLevel` and concatenated to the latents, the level as
///   the UNet's class label (`X4Upscale.swift`);
/// - `StableDiffusionLatentUpscalePipeline` (stabilityai/sd-x2-latent-upscaler): ×2 in the SD
///   VAE's latent space, Euler on x₀ predictions (`LatentUpscale.swift`).
/// Seeds reproduce diffusers' images: the generator is drawn in the pipelines' order.
///
/// Large inputs are processed in overlapping windows (`DiffusionTiling`): at every sampler step
/// the UNet runs window by window on the full-size latents and the predictions are blended,
/// so the sampler and its noise act on the whole image (no seams, and the same random draws as
/// untiled); the VAE decodes (and the latent upscaler encodes) in blended windows too. Memory is
/// then bounded by the weights plus one window's activations, whatever the image size. An image
/// no larger than a window is computed exactly as diffusers does.
///
/// Memory bound, stable-diffusion-x4-upscaler in Float32 (measured with `sdedit bench
/// --upscale-x4`, made-up weights): the weights take ≈ 3.4 GB (UNet 473M, OpenCLIP-H text
/// encoder 341M parameters, VAE decoder); peak RSS was 3.9 GiB for a 128×128 input (one 128²
/// UNet window, one 512² decode window) and 4.9 GiB for 256×256 (one 256² window, the default
/// tile, and nine decode windows). A 512×512 input (→ 2048×2048) runs nine 256² windows per step
/// and 36 decode windows of the same sizes, so it peaks at the 256×256 figure plus its full-size
/// buffers (latents, noised image, the 2048² float output and its weight plane, ≈ 0.1 GB):
/// ≈ 5 GiB. Untiled (`tileSize` 0) the same input would need the activations of a 512² UNet
/// pass and a 2048² decode, roughly 4× and 16× those of the 256² window.
///
/// Only diffusers folders: single-file checkpoints of the x4 upscaler are refused at load (its
/// noise-level `label_emb` has no mapping), and the latent upscaler has no single-file form.
public struct DiffusionUpscaler {
  public enum Kind: String, Sendable, CaseIterable {
    case x4 = "StableDiffusionUpscalePipeline"
    case latentX2 = "StableDiffusionLatentUpscalePipeline"

    /// Output pixels per input pixel.
    public var scale: Int { self == .x4 ? 4 : 2 }
    /// The VAE encoder is needed (to load it).
    public var needsEncoder: Bool { self == .latentX2 }

    /// The upscaler a diffusers folder holds, from `model_index.json`'s `_class_name`.
    public static func detect(folder: String) throws -> Kind {
      let url = URL(fileURLWithPath: folder).appendingPathComponent("model_index.json")
      guard FileManager.default.fileExists(atPath: url.path) else {
        throw ModelLoadError(path: folder, problem: "is not a diffusers model folder (no model_index.json)")
      }
      return try detect(index: JSONConfig(url: url))
    }

    static func detect(index: JSONConfig) throws -> Kind {
      let name = try index.string("_class_name") ?? "(none)"
      guard let kind = Kind(rawValue: name) else {
        throw ConfigError(
          source: index.source,
          problem: "pipeline \(name) is not a diffusion upscaler (expected \(Kind.allCases.map(\.rawValue).joined(separator: " or ")))")
      }
      return kind
    }
  }

  /// The models and schedules an upscaler runs on (from a `ModelBundle`, or built in memory).
  public struct Components {
    public var tokenizer: CLIPTokenizer
    public var textEncoder: CLIPTextModel
    public var unet: UNet
    public var vae: AutoencoderKL
    /// The denoising scheduler's config (`scheduler/scheduler_config.json`).
    public var schedulerConfig: SchedulerConfig
    /// x4: the `low_res_scheduler` schedule that noises the input image.
    public var lowResSchedule: NoiseSchedule?
    /// x4: `max_noise_level` from `model_index.json` (350).
    public var maxNoiseLevel: Int

    public init(
      tokenizer: CLIPTokenizer, textEncoder: CLIPTextModel, unet: UNet, vae: AutoencoderKL, schedulerConfig: SchedulerConfig,
      lowResSchedule: NoiseSchedule? = nil, maxNoiseLevel: Int = 350
    ) {
      self.tokenizer = tokenizer
      self.textEncoder = textEncoder
      self.unet = unet
      self.vae = vae
      self.schedulerConfig = schedulerConfig
      self.lowResSchedule = lowResSchedule
      self.maxNoiseLevel = maxNoiseLevel
    }
  }

  public let kind: Kind
  public let components: Components

  public init(kind: Kind, components: Components) {
    self.kind = kind
    self.components = components
  }

  /// The upscaler of a loaded diffusers folder (load it with `needsEncoder: kind.needsEncoder`).
  public init(model: ModelBundle) throws {
    guard let index = model.modelIndex else {
      throw GenerationError("\(model.name): diffusion upscalers load from diffusers folders only (single-file checkpoints of them are not supported)")
    }
    kind = try Kind.detect(index: index)
    var lowRes: NoiseSchedule?
    if kind == .x4 {
      // diffusers' DDPMScheduler defaults when the folder has no low_res_scheduler/.
      let config = model.lowResSchedulerConfig.map(SchedulerConfig.init) ?? SchedulerConfig(values: [:], source: "DDPMScheduler defaults")
      lowRes = try NoiseSchedule(ddpmConfig: config)
    }
    guard let vae = model.vae else {
      throw GenerationError("\(model.name): the diffusion upscalers need the model's AutoencoderKL, not a TAESD")
    }
    components = Components(
      tokenizer: model.tokenizer, textEncoder: model.textEncoder, unet: model.unet, vae: vae,
      schedulerConfig: SchedulerConfig(model.schedulerConfig), lowResSchedule: lowRes,
      maxNoiseLevel: try index.int("max_noise_level", default: 350))
  }

  public struct Output {
    public let image: RGBImage
    /// diffusers' prompt-truncation warnings.
    public let warnings: [String]
    /// UNet windows per step (1: untiled).
    public let windowCount: Int
  }

  /// Upscales `image` ×`kind.scale`. Any size is accepted: both upscalers pad the image (edge
  /// pixels) to a size their UNet can halve enough times and crop the result back.
  public func upscale(_ image: RGBImage, options: UpscaleOptions, progress: ProgressHandler = { _ in true }) throws -> Output {
    try validate(image, options)
    switch kind {
    case .x4: return try X4Upscale(components: components).run(image.rgb(), options: options, progress: progress)
    case .latentX2: return try LatentUpscale(components: components).run(image.rgb(), options: options, progress: progress)
    }
  }

  func validate(_ image: RGBImage, _ options: UpscaleOptions) throws {
    let g = options.generation
    let limit = GenerationOptions.maxSide / kind.scale
    guard image.width >= 1, image.height >= 1, image.width <= limit, image.height <= limit else {
      throw GenerationError("the input is \(image.width)×\(image.height); the ×\(kind.scale) upscaler takes up to \(limit)×\(limit)")
    }
    guard g.stepCount >= 1, g.stepCount <= 1000 else { throw GenerationError("--steps must be between 1 and 1000 (got \(g.stepCount))") }
    let width = components.textEncoder.config.encoder.width
    guard components.unet.config.crossAttentionDim.allSatisfy({ $0 == width }) else {
      throw GenerationError("the UNet attends to \(components.unet.config.crossAttentionDim[0])-wide text states but the text encoder is \(width) wide")
    }
    guard options.tileSize == 0 || options.tileSize >= 16 else {
      throw GenerationError("--tile must be 0 (no tiling) or at least 16 pixels (got \(options.tileSize))")
    }
    if kind == .x4 {
      let classes = components.unet.config.classEmbeddings ?? 0
      let top = min(components.maxNoiseLevel, classes - 1, (components.lowResSchedule?.trainTimestepCount ?? 1) - 1)
      guard options.noiseLevel >= 0, options.noiseLevel <= top else {
        throw GenerationError("--noise-level must be between 0 and \(top) (max_noise_level) for this model (got \(options.noiseLevel))")
      }
    }
  }
}

/// What one upscale asks for. `generation` holds the prompt, negative prompt, steps, guidance,
/// sampler, seed and clip skip (its width, height and strength are not used). Defaults: diffusers'
/// guidance 9.0 and noise level 20; 20 steps (diffusers: 75).
public struct UpscaleOptions: Sendable {
  public var generation: GenerationOptions
  /// x4: the low-resolution image's noise level, 0…`max_noise_level` (diffusers' `noise_level`).
  public var noiseLevel = 20
  /// Window side in input pixels; 0 runs the whole image at once.
  public var tileSize = 256
  /// Ramped blending of overlapping windows; false cuts hard at mid-overlap (tests show the seam it leaves).
  var seamBlending = true

  public init(prompt: String = "") {
    generation = GenerationOptions(prompt: prompt)
    generation.guidanceScale = 9
  }
}
