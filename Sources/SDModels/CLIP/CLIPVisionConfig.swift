import Foundation

/// transformers `CLIPVisionConfig`: the vision tower's sizes (a ViT over square images cut into
/// square patches). Defaults are transformers' (`configuration_clip.py`), which are ViT-B/32.
public struct CLIPVisionConfig: Sendable, Equatable {
  public var encoder: CLIPEncoderConfig
  /// Side of the (square) input image in pixels, 224 for the OpenAI models.
  public var imageSize: Int
  /// Side of one patch: 32 for ViT-B/32, 14 for ViT-L/14.
  public var patchSize: Int
  /// Input channels: 3.
  public var channels: Int

  public init(encoder: CLIPEncoderConfig, imageSize: Int = 224, patchSize: Int = 32, channels: Int = 3) {
    self.encoder = encoder
    self.imageSize = imageSize
    self.patchSize = patchSize
    self.channels = channels
  }

  /// Patches per side (transformers `image_size // patch_size`).
  public var gridSize: Int { imageSize / patchSize }
  /// Tokens: one class token plus one per patch.
  public var positions: Int { gridSize * gridSize + 1 }

  static let transformersDefaults = CLIPEncoderConfig(
    width: 768, layers: 12, heads: 12, intermediateSize: 3072, activation: .quickGELU, layerNormEps: 1e-5)

  /// openai/clip-vit-base-patch32 `config.json` `vision_config` (the DALL·E-mini rerank model).
  public static let vitB32 = CLIPVisionConfig(encoder: transformersDefaults, imageSize: 224, patchSize: 32)

  /// openai/clip-vit-large-patch14 `vision_config`, the tower of CompVis/stable-diffusion-safety-checker.
  public static let vitL14 = CLIPVisionConfig(
    encoder: CLIPEncoderConfig(width: 1024, layers: 24, heads: 16, intermediateSize: 4096, activation: .quickGELU, layerNormEps: 1e-5),
    imageSize: 224, patchSize: 14)

  /// A vision `config.json`, or the `vision_config` object of a CLIPModel / safety-checker config.
  public init(_ config: JSONConfig) throws {
    encoder = try CLIPEncoderConfig(config, defaults: Self.transformersDefaults)
    imageSize = try config.int("image_size", default: 224)
    patchSize = try config.int("patch_size", default: 32)
    channels = try config.int("num_channels", default: 3)
    guard patchSize > 0, imageSize >= patchSize, imageSize <= 8192 else {
      throw ConfigError(source: config.source, problem: "image_size \(imageSize) and patch_size \(patchSize) do not make a patch grid")
    }
    guard channels == 3 else {
      throw ConfigError(source: config.source, problem: "num_channels \(channels) is not supported (RGB images have 3)")
    }
  }
}

/// transformers `CLIPConfig`: both towers, the shared embedding width and the initial logit scale.
/// Also the config of diffusers' `StableDiffusionSafetyChecker`, which uses the vision side only.
public struct CLIPModelConfig: Sendable, Equatable {
  public var text: CLIPTextConfig
  public var vision: CLIPVisionConfig
  /// Width of the joint embedding space (`projection_dim`, 512 for ViT-B/32, 768 for ViT-L/14).
  public var projectionDim: Int
  /// `logit_scale_init_value` (ln(1/0.07) = 2.6592), used only when a checkpoint has no `logit_scale`.
  public var logitScaleInit: Float

  public init(text: CLIPTextConfig, vision: CLIPVisionConfig, projectionDim: Int = 512, logitScaleInit: Float = 2.6592) {
    self.text = text
    self.vision = vision
    self.projectionDim = projectionDim
    self.logitScaleInit = logitScaleInit
  }

  /// A CLIPModel `config.json` with `text_config` and `vision_config` (transformers defaults for
  /// whatever is missing, as `CLIPConfig` does).
  public init(_ config: JSONConfig) throws {
    let empty = { (key: String) in JSONConfig(values: [:], source: "\(config.source) (\(key))") }
    text = try CLIPTextConfig(config.object("text_config") ?? empty("text_config"))
    vision = try CLIPVisionConfig(config.object("vision_config") ?? empty("vision_config"))
    projectionDim = try config.int("projection_dim", default: 512)
    logitScaleInit = try config.float("logit_scale_init_value", default: 2.6592)
    guard projectionDim > 0, projectionDim <= 1 << 16 else {
      throw ConfigError(source: config.source, problem: "projection_dim \(projectionDim) is not a usable width")
    }
  }
}
