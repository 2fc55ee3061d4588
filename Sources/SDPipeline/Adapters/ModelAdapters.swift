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
  /// before any layer is built, embeddings extend each text encoder's tokenizer and token-embedding
  /// table (`slots`' tokenizers and configs are updated: SDXL's two encoders each take their part of an
  /// SDXL embedding), and every LoRA registers its merges on the stores. The layers then load patched
  /// weights and never learn that an adapter exists. `unetLayout` lets LoRAs name UNet layers by their
  /// LDM/sgm names (`lora_unet_input_blocks_4_1_…`, as kohya writes SDXL LoRAs).
  static func applyAdapters(
    _ adapters: ModelAdapters, slots: inout [TowerSlot], unetStore: WeightStore, unetLayout: LDMKeyRules.UNetLayout?
  ) throws -> AppliedAdapters {
    guard !adapters.isEmpty else { return AppliedAdapters() }
    let embeddings = try adapters.embeddings.map { try TextualInversion(url: URL(fileURLWithPath: $0)) }
    let xl = slots.contains { $0.component == .textEncoder2 }
    for embedding in embeddings where embedding.isXL != xl {
      throw AdapterError.embeddingLayout(
        path: embedding.path,
        reason: xl
          ? "one set of vectors for one text encoder (an SD 1.x/2.x embedding); an SDXL model needs an SDXL embedding (clip_l and clip_g)"
          : "an SDXL embedding (clip_l / clip_g), which needs an SDXL model")
    }
    for i in slots.indices {
      (slots[i].tokenizer, slots[i].config) = try TextualInversion.apply(
        embeddings, component: slots[i].component, tokenizer: slots[i].tokenizer, config: slots[i].config, store: slots[i].store)
    }
    var stores: [AdapterComponent: WeightStore] = [.unet: unetStore]
    for slot in slots { stores[slot.component] = slot.store }
    let map = LoRAKeyMap(stores: stores, aliases: unetLayout.map { [.unet: LDMKeyRules.unet($0)] } ?? [:])
    var loras: [AppliedAdapters.LoRA] = []
    for spec in adapters.loras {
      let file = try LoRAFile(url: URL(fileURLWithPath: spec.path))
      loras.append(.init(spec: spec, merge: try LoRAMerge.apply(file, scale: spec.scale, map: map, stores: stores)))
    }
    return AppliedAdapters(loras: loras, embeddings: embeddings)
  }
}
