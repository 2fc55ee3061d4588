/// diffusers `AutoencoderKL` configuration (`vae/config.json`). SD 1.x/2.x: 4 blocks
/// (128, 256, 512, 512), 4 latent channels, scaling 0.18215; the x4 upscaler: 3 blocks, 0.08333.
public struct VAEConfig: Sendable, Equatable {
  public var inChannels: Int
  public var outChannels: Int
  public var latentChannels: Int
  public var blockOutChannels: [Int]
  public var layersPerBlock: Int
  public var normGroups: Int
  public var scalingFactor: Float
  public var shiftFactor: Float?
  public var useQuantConv: Bool
  public var usePostQuantConv: Bool
  public var midBlockAttention: Bool

  /// Pixels per latent cell along each side: 2^(blocks − 1).
  public var downFactor: Int { 1 << (blockOutChannels.count - 1) }

  public init(_ config: JSONConfig) throws {
    func fail(_ problem: String) -> ConfigError { ConfigError(source: config.source, problem: problem) }
    inChannels = try config.int("in_channels", default: 3)
    outChannels = try config.int("out_channels", default: 3)
    latentChannels = try config.int("latent_channels", default: 4)
    blockOutChannels = try config.ints("block_out_channels") ?? [64]
    layersPerBlock = try config.int("layers_per_block", default: 1)
    normGroups = try config.int("norm_num_groups", default: 32)
    scalingFactor = try config.float("scaling_factor", default: 0.18215)
    shiftFactor = try config.double("shift_factor").map(Float.init)
    useQuantConv = try config.bool("use_quant_conv", default: true)
    usePostQuantConv = try config.bool("use_post_quant_conv", default: true)
    midBlockAttention = try config.bool("mid_block_add_attention", default: true)
    for name in ["down_block_types", "up_block_types"] {
      for block in try config.strings(name) ?? [] where block != "DownEncoderBlock2D" && block != "UpDecoderBlock2D" {
        throw fail("unsupported VAE block \"\(block)\"")
      }
    }
    guard normGroups > 0, !blockOutChannels.isEmpty, blockOutChannels.allSatisfy({ $0 > 0 && $0 % normGroups == 0 }) else {
      throw fail("block_out_channels \(blockOutChannels) must be positive multiples of norm_num_groups \(normGroups)")
    }
    guard latentChannels > 0, layersPerBlock > 0, scalingFactor > 0 else {
      throw fail("latent_channels, layers_per_block and scaling_factor must be positive")
    }
  }
}
