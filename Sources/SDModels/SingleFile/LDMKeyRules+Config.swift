extension LDMKeyRules.UNetLayout {
  /// The LDM block layout of a diffusers UNet configuration: the plain SD 1.x/2.x kind (equal
  /// `layers_per_block`, only `CrossAttnDownBlock2D`/`DownBlock2D`); nil for any other.
  public init?(_ config: UNetConfig) {
    guard let layers = config.layersPerBlock.first, config.layersPerBlock.allSatisfy({ $0 == layers }),
      config.downBlocks.allSatisfy({ $0 == .crossAttn || $0 == .plain }), config.hasMidBlock
    else { return nil }
    self.init(
      levels: config.blockOutChannels.count, layersPerBlock: layers,
      attentionLevels: Set(config.downBlocks.indices.filter { config.downBlocks[$0] == .crossAttn }))
  }
}
