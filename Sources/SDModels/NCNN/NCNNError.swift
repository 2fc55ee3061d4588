import Foundation

/// Why an ncnn model (`.param` graph + `.bin` weights) was refused. Every case names the file,
/// and the line or layer where it applies, so the description is one self-contained line.
public enum NCNNError: Error, Equatable, CustomStringConvertible {
  /// The file could not be read at all.
  case unreadable(file: String, reason: String)
  /// The `.param` text breaks the format (bad magic, counts, tokens, parameter syntax).
  case malformedParam(file: String, line: Int, reason: String)
  /// A layer type sdedit does not implement.
  case unsupportedLayer(file: String, layer: String, type: String)
  /// A supported layer with parameters sdedit does not implement or that make no sense.
  case invalidLayer(file: String, layer: String, reason: String)
  /// A layer reads a blob that no earlier layer produced, or two layers produce the same blob.
  case badBlobReference(file: String, layer: String, reason: String)
  /// The `.bin` weights do not match the graph (unknown tag, too short, bytes left over).
  case malformedWeights(file: String, layer: String?, reason: String)
  /// The graph cannot run on an input of the given shape (channel or size mismatch, too large).
  case shapeMismatch(file: String, layer: String, reason: String)

  public var description: String {
    switch self {
    case .unreadable(let file, let reason):
      return "\(file): cannot read (\(reason))"
    case .malformedParam(let file, let line, let reason):
      return "\(file): line \(line): \(reason)"
    case .unsupportedLayer(let file, let layer, let type):
      return "\(file): layer \(layer): unsupported layer type \(type)"
    case .invalidLayer(let file, let layer, let reason):
      return "\(file): layer \(layer): \(reason)"
    case .badBlobReference(let file, let layer, let reason):
      return "\(file): layer \(layer): \(reason)"
    case .malformedWeights(let file, let layer, let reason):
      return "\(file): \(layer.map { "layer \($0): " } ?? "")\(reason)"
    case .shapeMismatch(let file, let layer, let reason):
      return "\(file): layer \(layer): \(reason)"
    }
  }
}

extension NCNNError {
  /// Refuses a path that is missing or a folder, with a plain reason.
  static func checkReadable(_ path: String) throws(NCNNError) {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw .unreadable(file: path, reason: "no such file")
    }
    guard !isDirectory.boolValue else { throw .unreadable(file: path, reason: "is a directory") }
  }
}
