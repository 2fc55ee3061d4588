import Foundation
import SDModels

/// What AUTOMATIC1111 writes about LoRAs and embeddings into a PNG's `parameters`, and the
/// `--lora-report` listing.
///
/// - LoRAs given by path (`--lora`) are appended to the prompt line as `<lora:NAME:MULTIPLIER>` tags,
///   so that the text reproduces the image in A1111 (tags already in the prompt stay as typed).
/// - `Lora hashes: "NAME: HASH, …"`: A1111 `extra_networks_lora.py` with `network.py` `NetworkOnDisk`:
///   the file's `sshs_model_hash` metadata if present, else `addnet_hash_safetensors` (SHA-256 of the
///   bytes after the safetensors header), first 12 hex digits; `:` and `,` removed from the name.
/// - `TI hashes: "NAME: HASH, …"`: `sd_hijack_clip.py` with `textual_inversion.py`: the SHA-256 of the
///   whole file, first 12 hex digits, for the embeddings the prompt or negative prompt uses.
public enum AdapterParameters {
  /// The prompt as A1111 would show it: path-given LoRAs appended as tags.
  public static func prompt(_ prompt: String, adapters: AppliedAdapters) -> String {
    let tags = adapters.loras.filter { $0.spec.promptName == nil }.map { "<lora:\($0.spec.name):\(ImageParameters.format($0.spec.scale))>" }
    return tags.isEmpty ? prompt : ([prompt] + tags).joined(separator: " ")
  }

  /// The `Lora hashes` and `TI hashes` fields (none when no adapter applies).
  public static func fields(
    _ adapters: AppliedAdapters, prompt: String, negativePrompt: String, tokenizer: CLIPTokenizer
  ) throws -> [(String, String)] {
    var fields: [(String, String)] = []
    var loraHashes: [String] = []
    for lora in adapters.loras {
      let hash = try lora.merge.file.file.metadata["sshs_model_hash"] ?? cachedHash(lora.spec.path, SHA256.safetensorsData)
      loraHashes.append("\(cleaned(lora.spec.name)): \(hash.prefix(12))")
    }
    if !loraHashes.isEmpty { fields.append(("Lora hashes", loraHashes.joined(separator: ", "))) }
    let used = Set(tokenizer.tokenize(PromptTags.removingLoRAs(from: prompt)) + tokenizer.tokenize(negativePrompt))
    var tiHashes: [String] = []
    for embedding in adapters.embeddings where !used.isDisjoint(with: tokenizer.tokenize(embedding.token)) {
      tiHashes.append("\(cleaned(embedding.token)): \(try cachedHash(embedding.path) { try SHA256.file($0) }.prefix(12))")
    }
    if !tiHashes.isEmpty { fields.append(("TI hashes", tiHashes.joined(separator: ", "))) }
    return fields
  }

  static func cleaned(_ name: String) -> String {
    name.replacingOccurrences(of: ":", with: "").replacingOccurrences(of: ",", with: "")
  }

  nonisolated(unsafe) private static var hashes: [String: String] = [:]
  private static let lock = NSLock()

  /// Hashing a large LoRA takes a moment; `--count` writes many images with the same adapters.
  static func cachedHash(_ path: String, _ compute: (String) throws -> String) throws -> String {
    if let known = lock.withLock({ hashes[path] }) { return known }
    let hash = try compute(path)
    lock.withLock { hashes[path] = hash }
    return hash
  }

  /// `--lora-report`: one line per file, then one per adapted weight.
  public static func report(_ adapters: AppliedAdapters, tokenizer: CLIPTokenizer) -> [String] {
    var lines: [String] = []
    for lora in adapters.loras {
      let merge = lora.merge
      let formats = merge.file.formats.map(\.rawValue).joined(separator: " + ")
      let counts = AdapterComponent.allCases.compactMap { component -> String? in
        let n = merge.patches.filter { $0.target.component == component }.count
        return n == 0 ? nil : "\(n) in the \(component.rawValue)"
      }
      lines.append(
        "\(lora.spec.path): \(formats) LoRA, scale \(ImageParameters.format(lora.spec.scale)), "
          + "\(merge.patches.count) weights (\(counts.joined(separator: ", ")))")
      for patch in merge.patches {
        let m = patch.module
        let kind = m.downShape.count == 4 ? "conv \(m.downShape[2])×\(m.downShape[3])" : "linear"
        let alpha = m.alpha.map { "alpha \(String(format: "%.4g", $0))" } ?? "no alpha"
        lines.append(
          "  \(patch.target.component.rawValue) \(patch.target.key) \(patch.weightShape): \(kind), rank \(m.rank), "
            + "\(alpha), ×\(String(format: "%.4g", m.alphaScale * merge.scale))  ← \(m.name)")
      }
    }
    for embedding in adapters.embeddings {
      let ids = tokenizer.tokenize(embedding.token)
      let widths = embedding.clipG.map { "\(embedding.vectors.dim(1)) (clip_l) + \($0.dim(1)) (clip_g)" } ?? "\(embedding.vectors.dim(1))"
      lines.append(
        "\(embedding.path): textual inversion, trigger '\(embedding.token)', \(embedding.vectors.dim(0)) vector(s) "
          + "of \(widths) → tokens \(embedding.tokens.joined(separator: " ")) (ids \(ids.map(String.init).joined(separator: " ")))")
    }
    return lines
  }
}
