import Foundation
import SDTensor

/// A single-file SD 1.x/2.x checkpoint with CompVis/LDM key names (`model.diffusion_model.*`,
/// `first_stage_model.*`, `cond_stage_model.*`). The architecture is detected from key names
/// and shapes (never from the file name), and each component is offered as a `WeightStore`
/// under diffusers names plus a synthesized diffusers `config.json`, so the models load exactly
/// as from a diffusers folder.
public struct SingleFileCheckpoint: Sendable {
  public enum Family: String, Sendable {
    /// CLIP ViT-L/14 text encoder (HF names under `cond_stage_model.transformer`).
    case sd1
    /// OpenCLIP ViT-H/14 text encoder (`cond_stage_model.model`), linear projections, 64-wide heads.
    case sd2
    /// Stability's sgm layout: CLIP ViT-L (`conditioner.embedders.0.transformer`) and OpenCLIP
    /// ViT-bigG (`conditioner.embedders.1.model`), the UNet's `label_emb` = `add_embedding`.
    case sdxl
    /// The SDXL refiner: OpenCLIP ViT-bigG alone (`conditioner.embedders.0.model`).
    case sdxlRefiner = "sdxl-refiner"

    public var isXL: Bool { self == .sdxl || self == .sdxlRefiner }
  }

  public let file: SafeTensorsFile
  public let family: Family
  public let unetLayout: LDMKeyRules.UNetLayout
  public let unetConfig: JSONConfig
  public let vaeConfig: JSONConfig
  /// The CLIP-L / OpenCLIP-H text encoder (nil for the SDXL refiner, which has none).
  public let textConfig: JSONConfig?
  /// SDXL's OpenCLIP ViT-bigG `CLIPTextModelWithProjection` (all layers kept).
  public let textConfig2: JSONConfig?
  /// What the checkpoint's `sdedit.configs` metadata says of the pipeline (`pipeline` object:
  /// `force_zeros_for_empty_prompt`, `requires_aesthetics_score`), else nil.
  public let pipelineConfig: JSONConfig?
  /// The scheduler configuration stated in the metadata (`sdedit.configs` → `scheduler`), if any.
  public let schedulerConfig: JSONConfig?
  let vaeLevels: Int, vaeLayers: Int, textLayers: Int, textLayers2: Int

  static let unetPrefix = "model.diffusion_model."
  static let vaePrefix = "first_stage_model."
  static let sd1TextPrefix = "cond_stage_model.transformer."
  static let sd2TextPrefix = "cond_stage_model.model."

  public init(url: URL) throws {
    try self.init(file: SafeTensorsFile(url: url))
  }

  /// Detects the architecture of an opened checkpoint (also one held in memory).
  public init(file: SafeTensorsFile) throws {
    self.file = file
    let path = file.path
    func fail(_ problem: String) -> ConfigError { ConfigError(source: path, problem: problem) }
    // Shapes are read by index below (`ShapeReader` refuses a tensor of too low a rank by name).
    let shapes = ShapeReader(file: file)
    func shape(_ key: String, rank: Int = 0) throws -> [Int]? { try shapes.shape(key, rank: rank) }

    // UNet layout.
    let u = Self.unetPrefix
    guard let convIn = try shape(u + "input_blocks.0.0.weight", rank: 4), convIn.count == 4 else {
      throw fail("not a Stable Diffusion checkpoint (no \(u)input_blocks.0.0.weight tensor)")
    }
    guard let firstDown = (2...64).first(where: { file.contains(u + "input_blocks.\($0).0.op.weight") }) else {
      throw fail("cannot find the UNet's first downsampler (\(u)input_blocks.N.0.op.weight)")
    }
    let layers = firstDown - 1
    var levels = 1
    while file.contains(u + "input_blocks.\(levels * (layers + 1)).0.op.weight") { levels += 1 }
    var channels: [Int] = [], attention = Set<Int>(), crossDim = 0, linearProjection = false
    for i in 0..<levels {
      let k = 1 + i * (layers + 1)
      guard let out = try shape(u + "input_blocks.\(k).0.out_layers.3.weight") else {
        throw fail("missing tensor \(u)input_blocks.\(k).0.out_layers.3.weight")
      }
      channels.append(out[0])
      if let projIn = try shape(u + "input_blocks.\(k).1.proj_in.weight") {
        attention.insert(i)
        linearProjection = projIn.count == 2
        crossDim = try shape(u + "input_blocks.\(k).1.transformer_blocks.0.attn2.to_k.weight", rank: 2)?[1] ?? crossDim
      }
    }
    guard let convOut = try shape(u + "out.2.weight") else { throw fail("missing tensor \(u)out.2.weight") }
    unetLayout = .init(levels: levels, layersPerBlock: layers, attentionLevels: attention)

    // Text encoder family.
    if file.contains(Self.xlBigGPrefix + "positional_embedding") {
      family = .sdxl
    } else if file.contains(Self.xlRefinerBigGPrefix + "positional_embedding") {
      family = .sdxlRefiner
    } else if file.contains(Self.sd2TextPrefix + "token_embedding.weight") {
      family = .sd2
    } else if file.names.contains(where: { $0.hasPrefix(Self.sd1TextPrefix) }) {
      family = .sd1
    } else {
      throw fail("no text encoder found (neither \(Self.sd1TextPrefix)* nor \(Self.sd2TextPrefix)* nor conditioner.embedders.* tensors)")
    }
    let addEmbedding = try shape(u + "label_emb.0.0.weight", rank: 2)
    guard family.isXL ? addEmbedding != nil : !file.contains(u + "label_emb.0.weight") && !file.contains(u + "label_emb.weight") else {
      throw fail(family.isXL
        ? "an SDXL checkpoint without \(u)label_emb.0.0.weight (the added time embedding)"
        : "class-conditioned UNets (the x4 upscaler) are only supported as diffusers folders")
    }
    let isSD1 = family == .sd1
    let heads = channels.map { isSD1 ? 8 : max(1, $0 / 64) }
    let overrides = try Self.configOverrides(file)
    schedulerConfig = overrides["scheduler"].map { JSONConfig(values: $0, source: "\(path) (scheduler)") }
    pipelineConfig = overrides["pipeline"].map { JSONConfig(values: $0, source: "\(path) (pipeline)") }
    var inferred: [String: Any] = [
      "in_channels": convIn[1], "out_channels": convOut[0], "block_out_channels": channels,
      "layers_per_block": layers, "attention_head_dim": heads, "cross_attention_dim": crossDim,
      "use_linear_projection": linearProjection, "norm_num_groups": 32, "norm_eps": 1e-5,
      "down_block_types": (0..<levels).map { attention.contains($0) ? "CrossAttnDownBlock2D" : "DownBlock2D" },
      "up_block_types": (0..<levels).reversed().map { attention.contains($0) ? "CrossAttnUpBlock2D" : "UpBlock2D" },
    ]
    if let addEmbedding {
      inferred.merge(try Self.xlUNetConfig(file, layout: unetLayout, addEmbedding: addEmbedding)) { _, new in new }
    }
    unetConfig = JSONConfig(values: overrides["unet", default: [:]].merging(inferred) { given, _ in given }, source: "\(path) (UNet)")

    // VAE.
    let vae = try VAECheckpoint.ldmConfig(file, prefix: Self.vaePrefix, overrides: overrides["vae", default: [:]])
    (vaeLevels, vaeLayers) = (vae.levels, vae.layers)
    vaeConfig = JSONConfig(
      values: vae.config.values.merging(["scaling_factor": 0.18215]) { given, _ in given }, source: "\(path) (VAE)")

    // Text encoders.
    switch family {
    case .sdxl, .sdxlRefiner:
      let text = try Self.xlTextConfigs(file, family: family, overrides: overrides)
      (textConfig, textLayers, textConfig2, textLayers2) = (text.first, text.firstLayers, text.bigG, text.bigGLayers)
    case .sd1:
      (textConfig2, textLayers2) = (nil, 0)
      let t = Self.sd1TextPrefix + (file.contains(Self.sd1TextPrefix + "text_model.embeddings.token_embedding.weight") ? "text_model." : "")
      guard let token = try shape(t + "embeddings.token_embedding.weight", rank: 2),
        let position = try shape(t + "embeddings.position_embedding.weight"),
        let fc1 = try shape(t + "encoder.layers.0.mlp.fc1.weight")
      else { throw fail("incomplete SD1 text encoder under \(t)") }
      var n = 0
      while file.contains(t + "encoder.layers.\(n).layer_norm1.weight") { n += 1 }
      textLayers = n
      textConfig = JSONConfig(values: overrides["text_encoder", default: [:]].merging([
        "hidden_size": token[1], "vocab_size": token[0], "max_position_embeddings": position[0],
        "num_hidden_layers": n, "num_attention_heads": max(1, token[1] / 64), "intermediate_size": fc1[0],
        "hidden_act": "quick_gelu",
      ]) { given, _ in given }, source: "\(path) (text encoder)")
    case .sd2:
      (textConfig2, textLayers2) = (nil, 0)
      let t = Self.sd2TextPrefix
      guard let token = try shape(t + "token_embedding.weight", rank: 2), let position = try shape(t + "positional_embedding"),
        let fc = try shape(t + "transformer.resblocks.0.mlp.c_fc.weight")
      else { throw fail("incomplete OpenCLIP text encoder under \(t)") }
      var n = 0
      while file.contains(t + "transformer.resblocks.\(n).ln_1.weight") { n += 1 }
      guard n >= 2 else { throw fail("OpenCLIP text encoder has \(n) layers") }
      // SD 2.x conditions on the penultimate layer: diffusers drops the last resblock.
      textLayers = n - 1
      textConfig = JSONConfig(values: overrides["text_encoder", default: [:]].merging([
        "hidden_size": token[1], "vocab_size": token[0], "max_position_embeddings": position[0],
        "num_hidden_layers": n - 1, "num_attention_heads": max(1, token[1] / 64), "intermediate_size": fc[0],
        "hidden_act": "gelu",
      ]) { given, _ in given }, source: "\(path) (text encoder)")
    }
  }

  /// Sizes that tensor shapes cannot reveal (GroupNorm groups, head counts) follow SD's
  /// released models. A checkpoint may state them instead in its safetensors metadata under
  /// `sdedit.configs`: a JSON object whose `unet`, `vae`, `text_encoder`, `text_encoder_2` (and `scheduler`, `pipeline`) objects hold diffusers
  /// `config.json` keys that take precedence over the inferred ones (the project's tiny test
  /// checkpoints do this; released SD files do not need it).
  static func configOverrides(_ file: SafeTensorsFile) throws -> [String: [String: Any]] {
    guard let text = file.metadata["sdedit.configs"] else { return [:] }
    let config = try JSONConfig(data: Data(text.utf8), source: "\(file.path) (metadata sdedit.configs)")
    var result: [String: [String: Any]] = [:]
    for key in ["unet", "vae", "text_encoder", "text_encoder_2", "scheduler", "pipeline"] {
      if let object = try config.object(key) { result[key] = object.values }
    }
    return result
  }

  /// The UNet's weights under diffusers names.
  public func unetWeights() throws -> WeightStore {
    let rules = LDMKeyRules.unet(unetLayout)
    let p = Self.unetPrefix
    return try WeightStore(files: [file]) { key in key.hasPrefix(p) ? rules.rename(String(key.dropFirst(p.count))) : nil }
  }

  /// The VAE's weights under diffusers names.
  public func vaeWeights() throws -> WeightStore {
    let rules = LDMKeyRules.vae(levels: vaeLevels, layers: vaeLayers)
    let p = Self.vaePrefix
    return try WeightStore(files: [file]) { key in key.hasPrefix(p) ? rules.rename(String(key.dropFirst(p.count))) : nil }
  }

  /// The (first) text encoder's weights under transformers names (`text_model.*`).
  public func textEncoderWeights() throws -> WeightStore {
    switch family {
    case .sd1: return try hfCLIPWeights(prefix: Self.sd1TextPrefix)
    case .sdxl: return try hfCLIPWeights(prefix: Self.xlCLIPPrefix)
    case .sd2: return try openCLIPWeights(prefix: Self.sd2TextPrefix, layers: textLayers, projection: false)
    case .sdxlRefiner: throw ConfigError(source: file.path, problem: "the SDXL refiner has no first text encoder")
    }
  }

  /// SDXL's OpenCLIP ViT-bigG under transformers `CLIPTextModelWithProjection` names.
  public func textEncoder2Weights() throws -> WeightStore {
    let prefix = family == .sdxl ? Self.xlBigGPrefix : Self.xlRefinerBigGPrefix
    guard family.isXL else { throw ConfigError(source: file.path, problem: "not an SDXL checkpoint: no second text encoder") }
    return try openCLIPWeights(prefix: prefix, layers: textLayers2, projection: true)
  }

  /// A CLIP text model stored under transformers names below `prefix` (with or without `text_model.`).
  func hfCLIPWeights(prefix p: String) throws -> WeightStore {
    try WeightStore(files: [file]) { key in
      guard key.hasPrefix(p) else { return nil }
      let rest = key.dropFirst(p.count)
      if rest.hasSuffix("position_ids") { return nil }
      return rest.hasPrefix("text_model.") ? String(rest) : "text_model." + rest
    }
  }

  /// An OpenCLIP text tower below `prefix`, its first `layers` resblocks, renamed to transformers
  /// names; with `projection`, `text_projection` (stored `[width, projection]`, used as `x @ P`)
  /// becomes the Linear weight `text_projection.weight` = Pᵀ.
  func openCLIPWeights(prefix p: String, layers: Int, projection: Bool) throws -> WeightStore {
    let rules = LDMKeyRules.openCLIPText(layers: layers)
    let store = try WeightStore(files: [file]) { key in
      guard key.hasPrefix(p) else { return nil }
      let rest = String(key.dropFirst(p.count))
      if rest == "positional_embedding" { return "text_model.embeddings.position_embedding.weight" }
      if rest == "text_projection" { return projection ? "text_projection.stored" : nil }
      if rest.hasSuffix("attn.in_proj_weight") || rest.hasSuffix("attn.in_proj_bias") { return rest }
      return rules.rename(rest)
    }
    splitFusedAttention(store, layers: layers)
    if projection, let stored = store.shape(of: "text_projection.stored"), stored.count == 2 {
      store.register("text_projection.weight", shape: [stored[1], stored[0]], consuming: ["text_projection.stored"]) {
        [unowned store] () throws(CheckpointError) -> Tensor in try store.tensor("text_projection.stored").transposedLastTwo()
      }
    }
    return store
  }

  /// OpenCLIP stores q, k, v as one `in_proj` tensor `[3·width, …]`; register the three thirds.
  func splitFusedAttention(_ store: WeightStore, layers: Int) {
    for n in 0..<layers {
      let layer = "text_model.encoder.layers.\(n).self_attn"
      for (suffix, target) in [("in_proj_weight", "weight"), ("in_proj_bias", "bias")] {
        let fused = "transformer.resblocks.\(n).attn.\(suffix)"
        guard let shape = store.shape(of: fused), !shape.isEmpty, shape[0] % 3 == 0 else { continue }
        let part = shape[0] / 3
        for (i, name) in ["q_proj", "k_proj", "v_proj"].enumerated() {
          // `unowned`: the closure lives in the store, so a strong capture would be a cycle that
          // keeps the store and the mapped checkpoint alive forever (found by the fuzzer's LSan).
          store.register("\(layer).\(name).\(target)", shape: [part] + shape.dropFirst(), consuming: [fused]) {
            [unowned store] () throws(CheckpointError) -> Tensor in
            try store.tensor(fused).slice(axis: 0, (i * part)..<((i + 1) * part))
          }
        }
      }
    }
  }
}
