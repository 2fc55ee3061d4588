import Foundation
import SDModels

/// The LoRAs and textual-inversion embeddings a model is loaded with (`ModelBundle.Options.adapters`):
/// plain paths and scales, so that a cache keyed by the loading options stays correct.
public struct ModelAdapters: Hashable, Sendable {
  public struct LoRA: Hashable, Sendable {
    public var path: String
    /// The multiplier (A1111's `<lora:name:multiplier>`, diffusers' `fuse_lora(lora_scale:)`).
    public var scale: Float
    /// The name a prompt tag used for it (`<lora:NAME:…>`); nil when it was given by path.
    public var promptName: String?

    public init(path: String, scale: Float = 1, promptName: String? = nil) {
      (self.path, self.scale, self.promptName) = (path, scale, promptName)
    }

    /// The name A1111 writes for it: the tag's name, else the file's stem.
    public var name: String { promptName ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent }
  }

  /// Merged in this order.
  public var loras: [LoRA]
  /// Embedding files; each file's stem is its trigger word.
  public var embeddings: [String]

  public init(loras: [LoRA] = [], embeddings: [String] = []) {
    (self.loras, self.embeddings) = (loras, embeddings)
  }

  public var isEmpty: Bool { loras.isEmpty && embeddings.isEmpty }
}

/// What the adapters of a loaded model did: for `--lora-report` and the PNG parameters.
public struct AppliedAdapters: Sendable {
  public struct LoRA: Sendable {
    public let spec: ModelAdapters.LoRA
    public let merge: LoRAMerge.Applied
  }

  public let loras: [LoRA]
  public let embeddings: [TextualInversion]

  public init(loras: [LoRA] = [], embeddings: [TextualInversion] = []) {
    (self.loras, self.embeddings) = (loras, embeddings)
  }
}

extension ModelBundle {
  /// The one place adapters touch a model (STYLE.md): after the component stores are opened and
  /// before any layer is built, embeddings extend the tokenizer and the token-embedding table, and
  /// every LoRA registers its merges on the stores. The layers then load patched weights and never
  /// learn that an adapter exists. `unetLayout` lets LoRAs name UNet layers by their LDM/sgm names
  /// (`lora_unet_input_blocks_1_1_…`). Returns the tokenizer and text-encoder configuration to build with.
  static func applyAdapters(
    _ adapters: ModelAdapters, tokenizer: CLIPTokenizer, textConfig: CLIPTextConfig,
    stores: [AdapterComponent: WeightStore], unetLayout: LDMKeyRules.UNetLayout?
  ) throws -> (tokenizer: CLIPTokenizer, textConfig: CLIPTextConfig, applied: AppliedAdapters) {
    guard !adapters.isEmpty else { return (tokenizer, textConfig, AppliedAdapters()) }
    let embeddings = try adapters.embeddings.map { try TextualInversion(url: URL(fileURLWithPath: $0)) }
    var tokenizer = tokenizer, textConfig = textConfig
    if let textStore = stores[.textEncoder] {
      (tokenizer, textConfig) = try TextualInversion.apply(
        embeddings, tokenizer: tokenizer, config: textConfig, store: textStore)
    }
    let map = LoRAKeyMap(stores: stores, aliases: unetLayout.map { [.unet: LDMKeyRules.unet($0)] } ?? [:])
    var loras: [AppliedAdapters.LoRA] = []
    for spec in adapters.loras {
      let file = try LoRAFile(url: URL(fileURLWithPath: spec.path))
      loras.append(.init(spec: spec, merge: try LoRAMerge.apply(file, scale: spec.scale, map: map, stores: stores)))
    }
    return (tokenizer, textConfig, AppliedAdapters(loras: loras, embeddings: embeddings))
  }
}
