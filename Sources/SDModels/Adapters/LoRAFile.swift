import Foundation
import SDTensor

/// A LoRA `.safetensors` file read into modules: for each adapted layer, the down (A) and up (B)
/// factors and the factor `alpha / rank` its product is scaled by.
///
/// Formats (tensor-name suffixes, as data in `LoRAFileNaming`):
/// - kohya / A1111 (`lora_unet_…`, `lora_te_…`): `.lora_down.weight`, `.lora_up.weight`, `.alpha`
///   (`alpha / rank`; without `.alpha`, 1 — A1111 `network.py` `calc_scale`; an alpha of 0 gives 0, as
///   there). LoCon convolutions: `lora_down` is a k×k conv `[r, in, kh, kw]`, `lora_up` a 1×1 `[out, r, 1, 1]`.
/// - diffusers / PEFT (`unet.…`, `text_encoder.…`): `.lora_A.weight`, `.lora_B.weight`; alpha from the
///   `lora_adapter_metadata` JSON diffusers 0.42 writes (`<component>.lora_alpha`, `alpha_pattern`,
///   `use_rslora` → `alpha / √rank`), else alpha = rank (scale 1, diffusers' `get_peft_kwargs`).
/// - older diffusers: `…processor.to_q_lora.down.weight`, `…q_proj.lora_linear_layer.down.weight`.
///
/// LyCORIS LoHa/LoKr, DoRA, Tucker cores and full differences are refused by name (`AdapterError.
/// unsupportedFormat`): they cannot be verified against the pinned diffusers here. Every tensor must be
/// accounted for: an unknown name is an error, never a silently partial LoRA.
public struct LoRAFile: Sendable {
  public enum Format: String, Sendable, CaseIterable {
    case kohya = "kohya"
    case peft = "PEFT"
    case diffusers = "diffusers"
  }

  /// One adapted layer.
  public struct Module: Sendable {
    /// The module's name in the file, without the part suffix (`lora_unet_down_blocks_0_…_to_q`,
    /// `unet.down_blocks.0.….to_q`).
    public let name: String
    public let format: Format
    public let downKey: String
    public let upKey: String
    /// `[r, in]` or `[r, in, kh, kw]`.
    public let downShape: [Int]
    /// `[out, r]` or `[out, r, 1, 1]`.
    public let upShape: [Int]
    /// `alpha / rank` (or `alpha / √rank` with rsLoRA).
    public let alphaScale: Float
    /// The alpha it came from, for reports (nil: none given, so alpha = rank).
    public let alpha: Float?

    public var rank: Int { downShape[0] }
    /// The delta's natural shape: `[out, in]` or `[out, in, kh, kw]`.
    public var deltaShape: [Int] { [upShape[0]] + downShape.dropFirst() }
  }

  public let path: String
  public let file: SafeTensorsFile
  /// Sorted by name.
  public let modules: [Module]

  /// The formats the file's modules use.
  public var formats: [Format] { Format.allCases.filter { f in modules.contains { $0.format == f } } }

  public init(url: URL) throws {
    try self.init(file: SafeTensorsFile(url: url))
  }

  public init(file: SafeTensorsFile) throws {
    self.file = file
    path = file.path
    let path = file.path
    for name in file.names {
      if let format = LoRAFileNaming.unsupported.first(where: { name.hasSuffix($0.suffix) })?.format {
        throw AdapterError.unsupportedFormat(path: path, format: format, key: name)
      }
    }
    // Group the tensors by module.
    var downs: [String: (key: String, pair: LoRAFileNaming.Pair)] = [:]
    var ups: [String: (key: String, pair: LoRAFileNaming.Pair)] = [:]
    var alphas: [String: String] = [:]
    for name in file.names {
      if name.hasSuffix(LoRAFileNaming.alphaSuffix) {
        alphas[String(name.dropLast(LoRAFileNaming.alphaSuffix.count))] = name
      } else if let pair = LoRAFileNaming.pairs.first(where: { name.hasSuffix($0.down) }) {
        downs[String(name.dropLast(pair.down.count))] = (name, pair)
      } else if let pair = LoRAFileNaming.pairs.first(where: { name.hasSuffix($0.up) }) {
        ups[String(name.dropLast(pair.up.count))] = (name, pair)
      } else {
        throw AdapterError.unknownKey(path: path, key: name)
      }
    }
    for (module, up) in ups where downs[module] == nil {
      throw AdapterError.missingPart(path: path, missing: module + up.pair.down)
    }
    for module in alphas.keys where downs[module] == nil {
      throw AdapterError.missingPart(path: path, missing: module + LoRAFileNaming.pairs[0].down)
    }
    guard !downs.isEmpty else { throw AdapterError.empty(path: path) }
    let metadata = try PEFTMetadata(file: file)
    var modules: [Module] = []
    for (name, down) in downs.sorted(by: { $0.key < $1.key }) {
      guard let up = ups[name] else { throw AdapterError.missingPart(path: path, missing: name + down.pair.up) }
      let downShape = try Self.floatShape(down.key, in: file)
      let upShape = try Self.floatShape(up.key, in: file)
      let isPair =
        (downShape.count == 2 && upShape.count == 2)
        || (downShape.count == 4 && upShape.count == 4 && upShape[2] == 1 && upShape[3] == 1)
      guard isPair, downShape[0] >= 1, upShape[1] == downShape[0], !downShape.contains(0), !upShape.contains(0) else {
        throw AdapterError.malformedModule(path: path, module: name, down: downShape, up: upShape)
      }
      let rank = Float(downShape[0])
      let alpha: Float?
      var rsLoRA = false
      if let key = alphas[name] {
        alpha = try Self.scalar(key, in: file)
      } else if let config = try metadata?.config(for: name) {
        alpha = config.alpha
        rsLoRA = config.rsLoRA
      } else {
        alpha = nil
      }
      let scale = alpha.map { $0 / (rsLoRA ? rank.squareRoot() : rank) } ?? 1
      modules.append(Module(
        name: name, format: down.pair.format, downKey: down.key, upKey: up.key, downShape: downShape, upShape: upShape,
        alphaScale: scale, alpha: alpha))
    }
    self.modules = modules
  }

  /// The shape of a tensor that must convert to Float32 (checked now, not when the weight loads).
  static func floatShape(_ key: String, in file: SafeTensorsFile) throws -> [Int] {
    guard let info = file.info(key) else { throw CheckpointError.missingTensor(key: key, file: file.path) }
    guard [.f32, .f16, .bf16].contains(info.dtype) else {
      throw CheckpointError.unsupportedDType(tensor: key, dtype: info.dtype.rawValue, path: file.path)
    }
    return info.shape
  }

  static func scalar(_ key: String, in file: SafeTensorsFile) throws -> Float {
    let shape = try floatShape(key, in: file)
    guard shape.reduce(1, *) == 1 else { throw AdapterError.invalidAlpha(path: file.path, key: key) }
    let value = try file.tensor(key).data[0]
    guard value.isFinite else { throw AdapterError.invalidAlpha(path: file.path, key: key) }
    return value
  }

  /// The delta `up · down` of `module`, `[out, in·kh·kw]` (a k×k LoCon kernel flattened as torch lays
  /// it out), in Float32: PEFT `get_delta_weight` (`conv2d(A.permute(1,0,2,3), B).permute(1,0,2,3)` for
  /// convolutions is the same product), kohya `merge_to`.
  public func product(_ module: Module) throws -> Tensor {
    let down = try file.tensor(module.downKey)
    let up = try file.tensor(module.upKey)
    let r = module.rank
    let down2 = down.reshaped([r, down.count / r])  // [r, in·kh·kw]
    let up2 = up.reshaped([up.count / r, r])  // [out, r]
    return up2.matmul(down2)  // [out, in·kh·kw]
  }
}

/// The tensor-name rules of LoRA files, as data (STYLE.md §8.4): which suffix is which factor.
enum LoRAFileNaming {
  struct Pair {
    let down: String
    let up: String
    let format: LoRAFile.Format
  }

  static let pairs: [Pair] = [
    Pair(down: ".lora_down.weight", up: ".lora_up.weight", format: .kohya),
    Pair(down: ".lora_A.weight", up: ".lora_B.weight", format: .peft),
    Pair(down: ".lora_A.default.weight", up: ".lora_B.default.weight", format: .peft),
    Pair(down: ".lora_linear_layer.down.weight", up: ".lora_linear_layer.up.weight", format: .diffusers),
    Pair(down: "_lora.down.weight", up: "_lora.up.weight", format: .diffusers),
  ]

  static let alphaSuffix = ".alpha"

  /// Adapter kinds refused by name: tensor-name suffix → what to call it.
  static let unsupported: [(suffix: String, format: String)] =
    [".hada_w1_a", ".hada_w1_b", ".hada_w2_a", ".hada_w2_b", ".hada_t1", ".hada_t2"].map { ($0, "LoHa (LyCORIS)") }
    + [".lokr_w1", ".lokr_w1_a", ".lokr_w1_b", ".lokr_w2", ".lokr_w2_a", ".lokr_w2_b", ".lokr_t2"].map { ($0, "LoKr (LyCORIS)") }
    + [
      (".lora_mid.weight", "LoCon with a Tucker core (lora_mid)"), (".dora_scale", "DoRA"),
      (".lora_magnitude_vector", "DoRA"), (".lora_magnitude_vector.weight", "DoRA"),
      (".diff", "a full weight difference (LyCORIS diff)"), (".diff_b", "a full bias difference (LyCORIS diff_b)"),
      (".w_norm", "a LyCORIS norm adapter"), (".b_norm", "a LyCORIS norm adapter"),
      (".oft_blocks", "OFT"), (".oft_diag", "OFT"), (".on_input", "(IA)³"), (".lora_B.bias", "a LoRA with biases (lora_bias)"),
      (".scale", "an explicit LoRA .scale tensor"),
    ]
}
