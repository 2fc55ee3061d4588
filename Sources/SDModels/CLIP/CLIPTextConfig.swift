import Foundation

/// transformers `CLIPTextConfig`: the text tower's sizes and tokens.
/// Defaults are transformers' (`configuration_clip.py`); SD1.5's text encoder is
/// openai/clip-vit-large-patch14 (768 wide, 12 layers, 12 heads, quick_gelu), SD2's is
/// OpenCLIP ViT-H/14 cut to 23 layers (1024 wide, 16 heads, gelu).
public struct CLIPTextConfig: Sendable, Equatable {
  public var encoder: CLIPEncoderConfig
  public var vocabSize: Int
  public var maxPositions: Int
  public var eosTokenId: Int
  public var projectionDim: Int?

  public init(encoder: CLIPEncoderConfig, vocabSize: Int = 49408, maxPositions: Int = 77, eosTokenId: Int = 49407, projectionDim: Int? = nil) {
    self.encoder = encoder
    self.vocabSize = vocabSize
    self.maxPositions = maxPositions
    self.eosTokenId = eosTokenId
    self.projectionDim = projectionDim
  }

  static let transformersDefaults = CLIPEncoderConfig(
    width: 512, layers: 12, heads: 8, intermediateSize: 2048, activation: .quickGELU, layerNormEps: 1e-5)

  /// openai/clip-vit-large-patch14 text tower (SD 1.x `text_encoder/config.json`).
  public static let sd1 = CLIPTextConfig(encoder: CLIPEncoderConfig(
    width: 768, layers: 12, heads: 12, intermediateSize: 3072, activation: .quickGELU, layerNormEps: 1e-5))

  /// stabilityai/stable-diffusion-2-1 `text_encoder/config.json` (OpenCLIP ViT-H/14, 23 of 24 layers).
  public static let sd2 = CLIPTextConfig(encoder: CLIPEncoderConfig(
    width: 1024, layers: 23, heads: 16, intermediateSize: 4096, activation: .gelu, layerNormEps: 1e-5), projectionDim: 512)

  /// A text `config.json` (or the `text_config` object of a CLIPModel config).
  public init(_ config: JSONConfig) throws {
    encoder = try CLIPEncoderConfig(config, defaults: Self.transformersDefaults)
    vocabSize = try config.int("vocab_size", default: 49408)
    maxPositions = try config.int("max_position_embeddings", default: 77)
    eosTokenId = try config.int("eos_token_id", default: 49407)
    projectionDim = try config.int("projection_dim")
    guard vocabSize > 0, maxPositions > 0 else {
      throw ConfigError(source: config.source, problem: "vocab_size and max_position_embeddings must be positive")
    }
  }
}
