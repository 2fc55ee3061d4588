import Foundation
import SDModels

extension CLIPModel {
  /// Loads a Hugging Face CLIPModel folder (`openai/clip-vit-base-patch32` layout): `config.json` with
  /// `text_config` and `vision_config`, and safetensors weights (`model.safetensors` or a sharded index;
  /// pickled `pytorch_model.bin` is refused). F16, BF16 and F32 weights are computed in F32.
  public init(folder: URL) throws {
    let configURL = folder.appendingPathComponent("config.json")
    guard FileManager.default.fileExists(atPath: configURL.path) else {
      throw ModelLoadError(path: folder.path, problem: "has no config.json (expected a Hugging Face CLIP model folder)")
    }
    let json = try JSONConfig(url: configURL)
    guard json.contains("vision_config") else {
      throw ConfigError(source: json.source, problem: "is not a CLIPModel config (no \"vision_config\"; a text encoder alone cannot score images)")
    }
    let store = try ComponentFiles.weights(in: folder)
    try self.init(WeightScope(store), config: CLIPModelConfig(json))
  }
}

/// Checks the path a user gave for a model folder: it must exist and be a directory.
enum FolderCheck {
  static func folder(_ path: String, what: String) throws -> URL {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ModelLoadError(path: path, problem: "no such file or folder")
    }
    guard isDirectory.boolValue else {
      throw ModelLoadError(path: path, problem: "is not a folder (expected \(what))")
    }
    return URL(fileURLWithPath: path)
  }
}
