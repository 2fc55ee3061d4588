import Foundation
import SDModels

/// The tokenizer a model path implies, without loading any weights: a diffusers folder's
/// `tokenizer/`, the bundled vocabulary for single files (padding by family), or the bundled
/// SD1 tokenizer when no model is given.
public enum ModelTokenizer {
  public static func load(_ path: String?) throws -> CLIPTokenizer {
    guard let path else { return try CLIPTokenizer.bundled() }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ModelLoadError(path: path, problem: "no such file or folder")
    }
    if isDirectory.boolValue {
      let folder = URL(fileURLWithPath: path)
      let tokenizerFolder = folder.appendingPathComponent("tokenizer")
      return try CLIPTokenizer(folder: FileManager.default.fileExists(atPath: tokenizerFolder.path) ? tokenizerFolder : folder)
    }
    let checkpoint = try SingleFileCheckpoint(url: URL(fileURLWithPath: path))
    return try CLIPTokenizer.bundled(padToken: checkpoint.family == .sd1 ? "<|endoftext|>" : "!")
  }
}
