/// diffusers `AutoencoderTiny` configuration (`config.json` of madebyollin/taesd, taesdxl):
/// four blocks of 64 channels, (1, 3, 3, 3) encoder and (3, 3, 3, 1) decoder residual blocks,
/// ReLU, nearest 2× upsampling, 4 latent channels, `scaling_factor` 1.
public struct TinyAutoencoderConfig: Sendable, Equatable {
  public var inChannels: Int
  public var outChannels: Int
  public var latentChannels: Int
  public var encoderChannels: [Int]
  public var decoderChannels: [Int]
  public var encoderBlocks: [Int]
  public var decoderBlocks: [Int]
  /// What the pipelines divide latents by before decoding and multiply encoded latents by.
  public var scalingFactor: Float

  /// Pixels per latent cell along each side: 2^(blocks − 1), as diffusers' `vae_scale_factor`.
  public var downFactor: Int { 1 << (decoderChannels.count - 1) }

  public init(_ config: JSONConfig) throws {
    func fail(_ problem: String) -> ConfigError { ConfigError(source: config.source, problem: problem) }
    inChannels = try config.int("in_channels", default: 3)
    outChannels = try config.int("out_channels", default: 3)
    latentChannels = try config.int("latent_channels", default: 4)
    encoderChannels = try config.ints("encoder_block_out_channels") ?? [64, 64, 64, 64]
    decoderChannels = try config.ints("decoder_block_out_channels") ?? [64, 64, 64, 64]
    encoderBlocks = try config.ints("num_encoder_blocks") ?? [1, 3, 3, 3]
    decoderBlocks = try config.ints("num_decoder_blocks") ?? [3, 3, 3, 1]
    scalingFactor = try config.float("scaling_factor", default: 1)
    for (key, expected) in [("act_fn", "relu"), ("upsample_fn", "nearest")] {
      let value = try config.string(key, default: expected)
      guard value == expected else { throw fail("\(key) = \"\(value)\" is not supported (sdedit's AutoencoderTiny takes \(expected))") }
    }
    guard try config.int("upsampling_scaling_factor", default: 2) == 2 else {
      throw fail("upsampling_scaling_factor must be 2")
    }
    guard !encoderChannels.isEmpty, encoderChannels.count == encoderBlocks.count else {
      throw fail("encoder_block_out_channels and num_encoder_blocks must have the same, non-zero length")
    }
    guard !decoderChannels.isEmpty, decoderChannels.count == decoderBlocks.count else {
      throw fail("decoder_block_out_channels and num_decoder_blocks must have the same, non-zero length")
    }
    guard encoderChannels.count == decoderChannels.count else {
      throw fail("the encoder and decoder must have as many blocks (one down factor)")
    }
    // Each block's convolutions keep their width: diffusers builds `Conv2d(c, c)` between blocks.
    guard Set(encoderChannels).count == 1, Set(decoderChannels).count == 1 else {
      throw fail("the block widths of each side must all be equal (got \(encoderChannels), \(decoderChannels))")
    }
    let sizes = [inChannels, outChannels, latentChannels] + encoderChannels + decoderChannels
    guard sizes.allSatisfy({ $0 > 0 && $0 <= 4096 }), (encoderBlocks + decoderBlocks).allSatisfy({ $0 >= 0 && $0 <= 64 }),
      scalingFactor.isFinite, scalingFactor > 0
    else { throw fail("channel counts, block counts and scaling_factor must be positive") }
  }
}
