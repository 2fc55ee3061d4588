import Foundation
import SDTensor

/// diffusers `UNet2DConditionModel` configuration (`unet/config.json`), the subset that the
/// SD 1.x/2.x, inpainting, x4-upscaler and x2 latent-upscaler UNets use. Anything else is refused at load with a
/// message naming the key, never silently ignored.
public struct UNetConfig: Sendable, Equatable {
  public enum DownBlock: String, Sendable {
    case crossAttn = "CrossAttnDownBlock2D", plain = "DownBlock2D"
    /// K-diffusion blocks (the x2 latent upscaler; `KBlocks.swift`).
    case kCrossAttn = "KCrossAttnDownBlock2D", kPlain = "KDownBlock2D"
  }
  public enum UpBlock: String, Sendable {
    case crossAttn = "CrossAttnUpBlock2D", plain = "UpBlock2D"
    case kCrossAttn = "KCrossAttnUpBlock2D", kPlain = "KUpBlock2D"
  }
  /// `time_embedding_type`: sinusoidal features of t, or a Gaussian Fourier projection (`time_proj.weight`).
  public enum TimeEmbeddingType: String, Sendable { case positional, fourier }

  public var inChannels: Int
  public var outChannels: Int
  public var downBlocks: [DownBlock]
  public var upBlocks: [UpBlock]
  /// `UNetMidBlock2DCrossAttn` when true; no mid block when false.
  public var hasMidBlock: Bool
  public var blockOutChannels: [Int]
  public var layersPerBlock: [Int]
  public var transformerLayersPerBlock: [Int]
  /// Heads per block. diffusers calls this `attention_head_dim` in SD configs (a historical
  /// misnomer: `num_attention_heads = num_attention_heads or attention_head_dim`).
  public var attentionHeads: [Int]
  public var crossAttentionDim: [Int]
  public var normGroups: Int
  public var normEps: Float
  public var useLinearProjection: Bool
  public var upcastAttention: Bool
  /// Per block: the transformer's first attention also attends to the text instead of itself
  /// (the x4 upscaler's `only_cross_attention: [true, true, true, false]`).
  public var onlyCrossAttention: [Bool]
  public var flipSinToCos: Bool
  public var freqShift: Float
  public var timeCondProjDim: Int?
  /// Class-label embedding table size (`num_class_embeds`; the x4 upscaler's noise level).
  public var classEmbeddings: Int?
  public var convInKernel: Int
  public var convOutKernel: Int
  /// `act_fn`: SiLU for SD; GELU for the latent upscaler (time MLP and K resnets).
  public var activation: Activation
  public var timeEmbeddingType: TimeEmbeddingType
  /// `time_embedding_dim` (nil: 4·c0 positional, 2·c0 Fourier).
  public var timeEmbeddingDim: Int?
  /// `timestep_post_act`: an activation after the time MLP (the latent upscaler's GELU).
  public var timestepPostActivation: Activation?
  /// `norm_num_groups` is not null: `conv_norm_out` + activation before `conv_out`.
  public var hasOutputNorm: Bool
  /// Channels per attention head in K blocks: `attention_head_dim` taken literally there.
  public var attentionHeadDim: [Int]
  /// Every block is a K-diffusion block (diffusers does not mix them with the others).
  public var isKDiffusion: Bool
  /// `addition_embed_type: "text_time"` (SDXL), nil otherwise.
  public var textTime: TextTimeEmbedding?
  /// `sample_size` (latent height, width): the pipelines' default image size is this × the VAE
  /// factor (64 for SD 1.5, 128 for SDXL); nil when the config has none.
  public var sampleSize: (height: Int, width: Int)? {
    get { sampleSizeValues.map { ($0[0], $0[1]) } }
    set { sampleSizeValues = newValue.map { [$0.height, $0.width] } }
  }
  var sampleSizeValues: [Int]?

  /// SDXL's added conditioning: the pooled text embedding and the micro-conditioning values
  /// (`time_ids`: original size, crop corner, target size — or the refiner's aesthetic score),
  /// each value embedded by a `addition_time_embed_dim`-wide sinusoid (`add_time_proj`), all
  /// concatenated after the pooled text and passed through `add_embedding` (linear, SiLU, linear).
  public struct TextTimeEmbedding: Sendable, Equatable {
    /// `addition_time_embed_dim`: sinusoid width per time id (256 for SDXL).
    public var timeEmbedDim: Int
    /// `projection_class_embeddings_input_dim`: pooled width + ids × `timeEmbedDim` (2816 for SDXL base).
    public var inputDim: Int
  }

  public var timeEmbedDim: Int {
    timeEmbeddingDim ?? blockOutChannels[0] * (timeEmbeddingType == .fourier ? 2 : 4)
  }
  /// Width of the time features fed to the time MLP (`timestep_input_dim`).
  public var timestepInputDim: Int { timeEmbeddingType == .fourier ? timeEmbedDim : blockOutChannels[0] }

  public init(_ config: JSONConfig) throws {
    func fail(_ problem: String) -> ConfigError { ConfigError(source: config.source, problem: problem) }
    inChannels = try config.int("in_channels", default: 4)
    outChannels = try config.int("out_channels", default: 4)
    let downNames = try config.strings("down_block_types")
      ?? ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"]
    let upNames = try config.strings("up_block_types")
      ?? ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"]
    downBlocks = try downNames.map { name in
      guard let block = DownBlock(rawValue: name) else { throw fail("unsupported down block \"\(name)\"") }
      return block
    }
    upBlocks = try upNames.map { name in
      guard let block = UpBlock(rawValue: name) else { throw fail("unsupported up block \"\(name)\"") }
      return block
    }
    // `mid_block_type`: absent means diffusers' default (`UNetMidBlock2DCrossAttn`), null means none.
    if let raw = config.values["mid_block_type"], !(raw is NSNull) {
      guard (raw as? String) == "UNetMidBlock2DCrossAttn" else { throw fail("unsupported mid block \"\(raw)\"") }
      hasMidBlock = true
    } else {
      hasMidBlock = config.values["mid_block_type"] == nil
    }
    let n = downBlocks.count
    guard n > 0, upBlocks.count == n else { throw fail("down_block_types and up_block_types differ in length") }
    blockOutChannels = try config.ints("block_out_channels") ?? [320, 640, 1280, 1280]
    guard blockOutChannels.count == n else { throw fail("block_out_channels needs \(n) entries") }
    layersPerBlock = try config.intOrList("layers_per_block", count: n) ?? [Int](repeating: 2, count: n)
    transformerLayersPerBlock = try config.intOrList("transformer_layers_per_block", count: n) ?? [Int](repeating: 1, count: n)
    attentionHeads = try config.intOrList("num_attention_heads", count: n)
      ?? config.intOrList("attention_head_dim", count: n) ?? [Int](repeating: 8, count: n)
    crossAttentionDim = try config.intOrList("cross_attention_dim", count: n) ?? [Int](repeating: 1280, count: n)
    hasOutputNorm = !(config.values["norm_num_groups"] is NSNull)
    normGroups = try config.int("norm_num_groups", default: 32)
    normEps = try config.float("norm_eps", default: 1e-5)
    useLinearProjection = try config.bool("use_linear_projection", default: false)
    upcastAttention = try config.bool("upcast_attention", default: false)
    if let list = config.values["only_cross_attention"] as? [Any], !JSONConfig.isBool(config.values["only_cross_attention"]!) {
      guard list.count == n else { throw fail("only_cross_attention needs \(n) entries") }
      onlyCrossAttention = list.map { ($0 as? Bool) ?? false }
    } else {
      onlyCrossAttention = [Bool](repeating: try config.bool("only_cross_attention", default: false), count: n)
    }
    flipSinToCos = try config.bool("flip_sin_to_cos", default: true)
    freqShift = try config.float("freq_shift", default: 0)
    timeCondProjDim = try config.int("time_cond_proj_dim")
    classEmbeddings = try config.int("num_class_embeds")
    convInKernel = try config.int("conv_in_kernel", default: 3)
    convOutKernel = try config.int("conv_out_kernel", default: 3)
    attentionHeadDim = try config.intOrList("attention_head_dim", count: n) ?? [Int](repeating: 8, count: n)
    timeEmbeddingDim = try config.int("time_embedding_dim")
    let kDown = downBlocks.map { $0 == .kPlain || $0 == .kCrossAttn }, kUp = upBlocks.map { $0 == .kPlain || $0 == .kCrossAttn }
    isKDiffusion = !kDown.contains(false) && !kUp.contains(false)
    guard isKDiffusion || (!kDown.contains(true) && !kUp.contains(true)) else {
      throw fail("K-diffusion blocks (KDownBlock2D, …) cannot be mixed with the other block types")
    }
    func activationNamed(_ key: String) throws -> Activation? {
      guard let name = try config.string(key) else { return nil }
      switch name {
      case "silu", "swish": return .silu
      case "gelu": return .gelu
      default: throw fail("\(key) = \"\(name)\" is not supported by sdedit's UNet (silu or gelu)")
      }
    }
    activation = try activationNamed("act_fn") ?? .silu
    timestepPostActivation = try activationNamed("timestep_post_act")
    let timeType = try config.string("time_embedding_type", default: "positional")
    guard let parsedTimeType = TimeEmbeddingType(rawValue: timeType) else {
      throw fail("time_embedding_type = \"\(timeType)\" is not supported (positional or fourier)")
    }
    timeEmbeddingType = parsedTimeType
    let shift = try config.string("resnet_time_scale_shift", default: "default")
    // K blocks always modulate their GroupNorms with the time embedding (AdaGroupNorm) and ignore this key.
    guard shift == "default" || (isKDiffusion && shift == "scale_shift") else {
      throw fail("resnet_time_scale_shift = \(shift) is not supported by sdedit's UNet")
    }
    // Sizes that become loop bounds or divisors: a zero or negative one would trap when the model is built.
    let sizes: [(String, [Int])] = [
      ("block_out_channels", blockOutChannels), ("layers_per_block", layersPerBlock),
      ("transformer_layers_per_block", transformerLayersPerBlock), ("num_attention_heads", attentionHeads),
      ("attention_head_dim", attentionHeadDim), ("cross_attention_dim", crossAttentionDim),
      ("norm_num_groups", hasOutputNorm ? [normGroups] : [1]), ("conv_in_kernel", [convInKernel]),
      ("conv_out_kernel", [convOutKernel]),
    ]
    for (key, values) in sizes {
      if let bad = values.first(where: { $0 <= 0 }) { throw fail("\(key) = \(bad) must be positive") }
    }
    guard isKDiffusion || activation == .silu else { throw fail("act_fn must be silu for these blocks") }
    guard isKDiffusion || hasOutputNorm else { throw fail("norm_num_groups = null needs K-diffusion blocks") }

    if let size = try? config.int("sample_size") {
      sampleSizeValues = size > 0 ? [size, size] : nil
    } else if let sizes = try? config.ints("sample_size"), sizes.count == 2, sizes.allSatisfy({ $0 > 0 }) {
      sampleSizeValues = sizes
    } else {
      sampleSizeValues = nil
    }
    switch try config.string("addition_embed_type") {
    case nil: textTime = nil
    case "text_time"?:
      guard let width = try config.int("addition_time_embed_dim"), let input = try config.int("projection_class_embeddings_input_dim"),
        width > 0, width % 2 == 0, input > 0
      else { throw fail("addition_embed_type text_time needs a positive, even addition_time_embed_dim and projection_class_embeddings_input_dim") }
      textTime = TextTimeEmbedding(timeEmbedDim: width, inputDim: input)
    case let other?: throw fail("addition_embed_type = \(other) is not supported by sdedit's UNet (text_time or none)")
    }

    // Options whose defaults are all sdedit implements.
    let unsupported: [(String, Any)] = [
      ("class_embed_type", NSNull()), ("encoder_hid_dim", NSNull()), ("reverse_transformer_layers_per_block", NSNull()),
      ("dual_cross_attention", false), ("center_input_sample", false),
      ("class_embeddings_concat", false),
      ("attention_type", "default"), ("time_embedding_act_fn", NSNull()),
    ]
    for (key, expected) in unsupported where config.contains(key) {
      let value = config.values[key]!
      if let e = expected as? String, (value as? String) == e { continue }
      if let e = expected as? Bool, (value as? Bool) == e { continue }
      throw fail("\(key) = \(value) is not supported by sdedit's UNet")
    }
    if isKDiffusion {
      try validateKBlocks(fail)
      return
    }
    for (i, c) in blockOutChannels.enumerated() {
      guard c > 0, c % normGroups == 0 else { throw fail("block_out_channels[\(i)] = \(c) is not divisible by norm_num_groups \(normGroups)") }
      guard c % attentionHeads[i] == 0 else { throw fail("block_out_channels[\(i)] = \(c) is not divisible by \(attentionHeads[i]) heads") }
    }
  }
}
