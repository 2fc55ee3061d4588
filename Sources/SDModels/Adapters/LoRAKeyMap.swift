/// A model component that adapters patch.
public enum AdapterComponent: String, Sendable, CaseIterable, Hashable {
  case unet = "UNet"
  case textEncoder = "text encoder"
  /// SDXL's OpenCLIP-G encoder (`lora_te2_`, `text_encoder_2.`); no SD 1.x/2.x model has one.
  case textEncoder2 = "second text encoder (SDXL)"
}

/// Where a LoRA module lands: a component and the canonical (diffusers) key of the weight it changes.
public struct LoRATarget: Sendable, Hashable {
  public let component: AdapterComponent
  public let key: String

  public init(component: AdapterComponent, key: String) {
    (self.component, self.key) = (component, key)
  }
}

/// How LoRA module names address the layers of a model, as data (STYLE.md §8.4). A naming is a name
/// prefix, the component it selects, and how the layer path follows: dotted (diffusers/PEFT,
/// `unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q`) or underscored (kohya replaces
/// every dot of the path by `_`: `lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q`).
///
/// Layer paths are looked up in an index built from the component's own weight keys, as A1111's
/// `networks.py` builds its name map from the model's modules — so the underscored names need no
/// guessing which `_` was a `.`. New architectures are new table rows: SDXL adds its components to
/// `stores`, and its kohya `input_blocks_4_1_…` (sgm) names come in as `aliases` (LDM → diffusers
/// `KeyRules`, the ones single-file loading already has).
public struct LoRAKeyMap {
  public struct Naming: Sendable {
    public let prefix: String
    public let component: AdapterComponent
    public let underscored: Bool

    public init(_ prefix: String, _ component: AdapterComponent, underscored: Bool) {
      (self.prefix, self.component, self.underscored) = (prefix, component, underscored)
    }
  }

  /// SD 1.x/2.x (and the SDXL names, whose components those models lack). `lora_te1_` is the first
  /// encoder, as in diffusers' `_convert_non_diffusers_lora_to_diffusers`.
  public static let namings: [Naming] = [
    Naming("lora_unet_", .unet, underscored: true),
    Naming("lora_te_", .textEncoder, underscored: true),
    Naming("lora_te1_", .textEncoder, underscored: true),
    Naming("lora_te2_", .textEncoder2, underscored: true),
    Naming("unet.", .unet, underscored: false),
    Naming("text_encoder.", .textEncoder, underscored: false),
    Naming("text_encoder_2.", .textEncoder2, underscored: false),
  ]

  /// Leading parts of a component's canonical keys that files may leave out (transformers 5 saves a
  /// bare `CLIPTextModel` without `text_model.`).
  public static let optionalPrefixes: [AdapterComponent: [String]] = [.textEncoder: ["text_model."], .textEncoder2: ["text_model."]]

  /// Older diffusers attention-processor names (dotted path suffix → the layer's own path).
  public static let moduleAliases: [(from: String, to: String)] = [
    (".processor.to_q", ".to_q"), (".processor.to_k", ".to_k"), (".processor.to_v", ".to_v"),
    (".processor.to_out", ".to_out.0"),
  ]

  private struct Index {
    var dotted: [String: String] = [:]
    /// kohya name → layer path; nil when two paths collapse to the same name.
    var underscored: [String: String?] = [:]
  }

  private let namings: [Naming]
  private let indexes: [AdapterComponent: Index]

  /// `stores`: the components the model has; `aliases`: per component, other names of its layers
  /// (foreign dotted path → canonical dotted path), e.g. LDM/sgm UNet names.
  public init(
    stores: [AdapterComponent: WeightStore], namings: [Naming] = Self.namings,
    aliases: [AdapterComponent: KeyRules] = [:]
  ) {
    self.namings = namings
    var indexes: [AdapterComponent: Index] = [:]
    for (component, store) in stores {
      var index = Index()
      func add(_ name: String, layer: String) {
        index.dotted[name] = layer
        let kohya = name.replacingOccurrences(of: ".", with: "_")
        if let existing = index.underscored[kohya], existing != layer {
          index.underscored[kohya] = .some(nil)
        } else {
          index.underscored[kohya] = layer
        }
      }
      for key in store.keys where key.hasSuffix(".weight") {
        let layer = String(key.dropLast(".weight".count))
        add(layer, layer: layer)
        for prefix in Self.optionalPrefixes[component] ?? [] where layer.hasPrefix(prefix) {
          add(String(layer.dropFirst(prefix.count)), layer: layer)
        }
      }
      if let rules = aliases[component] {
        for key in store.keys where key.hasSuffix(".weight") {
          let layer = String(key.dropLast(".weight".count))
          for foreign in rules.foreignNames(of: key) { add(String(foreign.dropLast(".weight".count)), layer: layer) }
        }
      }
      indexes[component] = index
    }
    self.indexes = indexes
  }

  /// The layer `module` of the file at `path` adapts.
  public func target(of module: LoRAFile.Module, path: String) throws -> LoRATarget {
    guard let naming = namings.filter({ module.name.hasPrefix($0.prefix) }).max(by: { $0.prefix.count < $1.prefix.count })
    else { throw AdapterError.unknownKey(path: path, key: module.downKey) }
    guard let index = indexes[naming.component] else {
      throw AdapterError.missingComponent(path: path, key: module.downKey, component: naming.component.rawValue)
    }
    var rest = String(module.name.dropFirst(naming.prefix.count))
    let layer: String?
    if naming.underscored {
      layer = index.underscored[rest] ?? nil
    } else {
      for (from, to) in Self.moduleAliases where rest.hasSuffix(from) { rest = String(rest.dropLast(from.count)) + to }
      layer = index.dotted[rest]
    }
    guard let layer else {
      throw AdapterError.noTarget(path: path, key: module.downKey, target: "\(naming.component.rawValue) \(rest)")
    }
    return LoRATarget(component: naming.component, key: layer + ".weight")
  }
}
