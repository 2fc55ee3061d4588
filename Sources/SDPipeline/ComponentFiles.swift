import Foundation
import SDModels

/// Finds the weight files of one diffusers component folder (`unet/`, `vae/`, `text_encoder/`):
/// a single safetensors file under one of diffusers' names, or a sharded set listed by an
/// `*.safetensors.index.json`. Pickled weights are refused: unpickling runs code.
enum ComponentFiles {
  static let singleNames = [
    "diffusion_pytorch_model.safetensors", "model.safetensors",
    "diffusion_pytorch_model.fp16.safetensors", "model.fp16.safetensors",
  ]
  static let indexNames = [
    "diffusion_pytorch_model.safetensors.index.json", "model.safetensors.index.json",
    "diffusion_pytorch_model.fp16.safetensors.index.json", "model.fp16.safetensors.index.json",
  ]
  static let pickleNames = ["diffusion_pytorch_model.bin", "pytorch_model.bin", "model.ckpt"]

  /// The component's weights. `keyPrefix`: the prefix the model's keys carry (transformers'
  /// `text_model.`); files saved without it (transformers 5 writes a bare CLIPTextModel's keys
  /// unprefixed) get it added, as transformers' own loader does.
  static func weights(in folder: URL, keyPrefix: String? = nil) throws -> WeightStore {
    let files = try safetensorsFiles(in: folder)
    if let keyPrefix, !files.contains(where: { $0.names.contains { $0.hasPrefix(keyPrefix) } }) {
      return try WeightStore(files: files) { keyPrefix + $0 }
    }
    return try WeightStore(files: files)
  }

  static func safetensorsFiles(in folder: URL) throws -> [SafeTensorsFile] {
    let fm = FileManager.default
    for name in singleNames where fm.fileExists(atPath: folder.appendingPathComponent(name).path) {
      return [try SafeTensorsFile(url: folder.appendingPathComponent(name))]
    }
    for name in indexNames where fm.fileExists(atPath: folder.appendingPathComponent(name).path) {
      let index = try JSONConfig(url: folder.appendingPathComponent(name))
      guard let map = index.values["weight_map"] as? [String: String] else {
        throw ConfigError(source: index.source, problem: "has no \"weight_map\" object")
      }
      var files: [SafeTensorsFile] = []
      for shard in Set(map.values).sorted() {
        let url = try ModelPaths.child(folder, shard, source: index.source)
        files.append(try SafeTensorsFile(url: url))
      }
      return files
    }
    for name in pickleNames where fm.fileExists(atPath: folder.appendingPathComponent(name).path) {
      throw CheckpointError.pickleRefused(path: folder.appendingPathComponent(name).path)
    }
    throw ModelLoadError(path: folder.path, problem: "holds no .safetensors weights (looked for \(singleNames.joined(separator: ", ")))")
  }
}

/// Path rules for names read from model files: a name from JSON may only name a file inside
/// the model folder (no `..`, no absolute path, no sub-folder escape).
enum ModelPaths {
  static func child(_ folder: URL, _ name: String, source: String) throws -> URL {
    guard !name.isEmpty, !name.hasPrefix("/"), !name.split(separator: "/").contains(".."), !name.contains("\\"),
      !name.contains("\0")
    else {
      throw ConfigError(source: source, problem: "names a file outside the model folder: \"\(name)\"")
    }
    return folder.appendingPathComponent(name)
  }
}

/// A model path that is not a usable diffusers folder or checkpoint.
public struct ModelLoadError: Error, CustomStringConvertible {
  public let path: String
  public let problem: String

  public init(path: String, problem: String) {
    self.path = path
    self.problem = problem
  }

  public var description: String { "\(path): \(problem)" }
}
