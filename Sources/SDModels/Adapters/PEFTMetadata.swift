import Foundation

/// The PEFT `LoraConfig` of each component that diffusers 0.42 stores in a LoRA file's safetensors
/// metadata under `lora_adapter_metadata` (`LoraBaseMixin.write_lora_layers`): a JSON object whose keys
/// are the config's fields prefixed by the component, `unet.lora_alpha`, `unet.r`,
/// `unet.alpha_pattern`, `text_encoder.use_rslora`, ….
///
/// Reproduces PEFT's scaling: `lora_alpha / r` (`lora_alpha / √r` with rsLoRA), with a module's own
/// alpha from `alpha_pattern` when a pattern key equals its name or a dotted suffix of it (PEFT
/// matches the key as a regular expression; diffusers writes plain module names).
struct PEFTMetadata {
  struct Config {
    var alpha: Float
    var rsLoRA: Bool
  }

  let path: String
  let values: [String: Any]

  static let key = "lora_adapter_metadata"

  /// nil when the file has no such metadata.
  init?(file: SafeTensorsFile) throws {
    guard let text = file.metadata[Self.key] else { return nil }
    guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any] else {
      throw AdapterError.invalidMetadata(path: file.path, reason: "not a JSON object")
    }
    path = file.path
    values = object
  }

  /// The config for a module named `component.path…` (`unet.down_blocks.0.….to_q`), or nil when the
  /// metadata has no `lora_alpha` for its component.
  func config(for module: String) throws -> Config? {
    let components = Set(values.keys.compactMap { key in key.split(separator: ".").first.map(String.init) })
    guard let component = components.filter({ module.hasPrefix($0 + ".") }).max(by: { $0.count < $1.count }) else {
      return nil
    }
    let name = String(module.dropFirst(component.count + 1))
    func number(_ any: Any?) -> Float? { (any as? NSNumber).map { $0.floatValue } }
    if let dora = values["\(component).use_dora"] as? Bool, dora {
      throw AdapterError.unsupportedFormat(path: path, format: "DoRA", key: "\(Self.key) \(component).use_dora")
    }
    guard let base = number(values["\(component).lora_alpha"]) else { return nil }
    var alpha = base
    if let patterns = values["\(component).alpha_pattern"] as? [String: Any] {
      let matches = patterns.keys.filter { name == $0 || name.hasSuffix("." + $0) }.sorted()
      if let match = matches.first {
        guard let value = number(patterns[match]) else {
          throw AdapterError.invalidMetadata(path: path, reason: "\(component).alpha_pattern[\"\(match)\"] is not a number")
        }
        alpha = value
      }
    }
    guard alpha.isFinite else {
      throw AdapterError.invalidMetadata(path: path, reason: "\(component).lora_alpha is not finite")
    }
    return Config(alpha: alpha, rsLoRA: values["\(component).use_rslora"] as? Bool ?? false)
  }
}
