import Foundation
import SDTensor

/// An `AutoencoderKL` stored on its own in one `.safetensors` file (e.g.
/// `vae-ft-mse-840000-ema-pruned.safetensors`), in CompVis/LDM names (`encoder.down.0.block.0…`,
/// optionally under `first_stage_model.`) or in diffusers names (`encoder.down_blocks.0.resnets.0…`).
/// The architecture comes from the shapes, as for whole checkpoints; what shapes cannot tell
/// (GroupNorm groups: 32, SD's) may be stated in the `sdedit.configs` metadata (`vae` object).
public struct VAECheckpoint: Sendable {
  public let file: SafeTensorsFile
  /// The inferred diffusers `vae/config.json` (without `scaling_factor`: a lone VAE file does
  /// not know the model it serves; the caller supplies it).
  public let config: JSONConfig
  let prefix: String
  let ldmLayout: (levels: Int, layers: Int)?

  public init(url: URL) throws {
    try self.init(file: SafeTensorsFile(url: url))
  }

  public init(file: SafeTensorsFile) throws {
    self.file = file
    let overrides = try SingleFileCheckpoint.configOverrides(file)["vae", default: [:]]
    if file.contains("encoder.down_blocks.0.resnets.0.conv1.weight") {
      prefix = ""
      ldmLayout = nil
      config = try Self.diffusersConfig(file, overrides: overrides)
      return
    }
    prefix = file.contains(SingleFileCheckpoint.vaePrefix + "encoder.conv_in.weight") ? SingleFileCheckpoint.vaePrefix : ""
    let detected = try Self.ldmConfig(file, prefix: prefix, overrides: overrides)
    config = detected.config
    ldmLayout = (detected.levels, detected.layers)
  }

  /// The weights under diffusers names.
  public func weights() throws -> WeightStore {
    guard let (levels, layers) = ldmLayout else { return try WeightStore(files: [file]) }
    let rules = LDMKeyRules.vae(levels: levels, layers: layers)
    let p = prefix
    return try WeightStore(files: [file]) { key in key.hasPrefix(p) ? rules.rename(String(key.dropFirst(p.count))) : nil }
  }

  /// The diffusers config of the LDM-named VAE under `prefix`: levels and channels from the
  /// encoder's resnets, latent channels from `post_quant_conv`.
  static func ldmConfig(_ file: SafeTensorsFile, prefix v: String, overrides: [String: Any]) throws
    -> (config: JSONConfig, levels: Int, layers: Int)
  {
    let shapes = ShapeReader(file: file)
    var channels: [Int] = []
    while let s = try shapes.shape(v + "encoder.down.\(channels.count).block.0.conv1.weight") { channels.append(s[0]) }
    guard !channels.isEmpty, let postQuant = try shapes.shape(v + "post_quant_conv.weight"),
      let input = try shapes.shape(v + "encoder.conv_in.weight", rank: 2)
    else { throw ConfigError(source: file.path, problem: "no VAE found (\(v)encoder.down.0.block.0.conv1.weight, \(v)post_quant_conv.weight)") }
    var layers = 0
    while file.contains(v + "encoder.down.0.block.\(layers).conv1.weight") { layers += 1 }
    let config = JSONConfig(values: overrides.merging([
      "in_channels": input[1], "out_channels": input[1], "latent_channels": postQuant[0],
      "block_out_channels": channels, "layers_per_block": layers, "norm_num_groups": 32,
    ]) { given, _ in given }, source: "\(file.path) (VAE)")
    return (config, channels.count, layers)
  }

  /// The diffusers config of a VAE saved under diffusers names without its config.json.
  static func diffusersConfig(_ file: SafeTensorsFile, overrides: [String: Any]) throws -> JSONConfig {
    let shapes = ShapeReader(file: file)
    var channels: [Int] = []
    while let s = try shapes.shape("encoder.down_blocks.\(channels.count).resnets.0.conv1.weight") { channels.append(s[0]) }
    guard let postQuant = try shapes.shape("post_quant_conv.weight"), let input = try shapes.shape("encoder.conv_in.weight", rank: 2) else {
      throw ConfigError(source: file.path, problem: "incomplete VAE (no post_quant_conv.weight or encoder.conv_in.weight)")
    }
    var layers = 0
    while file.contains("encoder.down_blocks.0.resnets.\(layers).conv1.weight") { layers += 1 }
    return JSONConfig(values: overrides.merging([
      "in_channels": input[1], "out_channels": input[1], "latent_channels": postQuant[0],
      "block_out_channels": channels, "layers_per_block": layers, "norm_num_groups": 32,
    ]) { given, _ in given }, source: "\(file.path) (VAE)")
  }
}

/// Reads tensor shapes by name, refusing (by name) a tensor with fewer dimensions than the
/// layer it belongs to has: a hostile or damaged file must not crash a loader that indexes shapes.
struct ShapeReader {
  let file: SafeTensorsFile

  func shape(_ key: String, rank: Int = 0) throws -> [Int]? {
    guard let found = file.info(key)?.shape else { return nil }
    let needed = max(rank, 1)
    guard found.count >= needed else {
      throw ConfigError(
        source: file.path, problem: "tensor \(key) has shape \(found), expected \(needed) dimension\(needed == 1 ? "" : "s") or more")
    }
    return found
  }
}
