import ArgumentParser
import Foundation
import SDImage
import SDPipeline

/// `sdedit info IMAGE`: the generation parameters an image carries (the PNG `parameters` text
/// chunk, AUTOMATIC1111's format, which sdedit writes).
///
/// Text: the parameters as stored (what A1111's "PNG Info" shows), or one line saying there are
/// none. `--json`: one object,
/// `{"file", "format", "width", "height", "parameters": text or null, "prompt", "negative_prompt",
/// "settings": {"Steps": "20", …}, "text": {every text chunk}}`, the parsed fields only when the
/// image has parameters; setting values are strings, as stored.
enum ImageInfo {
  /// Whether `path` holds an image, told by its first bytes ("-", stdin, is always read as one).
  static func isImage(_ path: String) -> Bool {
    guard path != "-" else { return true }
    guard let handle = FileHandle(forReadingAtPath: path) else { return false }
    defer { try? handle.close() }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue else { return false }
    return ImageFormat.detect((try? handle.read(upToCount: 8)) ?? Data()) != nil
  }

  static func report(path: String, json: Bool) throws {
    let decoded = try ImageFile.readWithMetadata(path: path)
    let name = path == "-" ? "stdin" : path
    let parameters = decoded.text.first { $0.key == "parameters" }?.value
    guard json else {
      print(parameters ?? "\(name): \(decoded.format) \(decoded.image.width)×\(decoded.image.height), no generation parameters")
      return
    }
    var fields = [
      "\"file\": \(JSONText.string(name))", "\"format\": \"\(decoded.format.rawValue)\"",
      "\"width\": \(decoded.image.width)", "\"height\": \(decoded.image.height)",
      "\"parameters\": \(parameters.map(JSONText.string) ?? "null")",
    ]
    if let parameters {
      let parsed = ImageParameters.parse(parameters)
      fields.append("\"prompt\": \(JSONText.string(parsed.prompt))")
      fields.append("\"negative_prompt\": \(JSONText.string(parsed.negativePrompt))")
      fields.append("\"settings\": " + object(parsed.settings.map { ($0.key, $0.value) }))
    }
    fields.append("\"text\": " + object(decoded.text.map { ($0.key, $0.value) }))
    print("{" + fields.joined(separator: ", ") + "}")
  }

  /// A JSON object of string values in the given order (a later duplicate key is dropped).
  private static func object(_ pairs: [(String, String)]) -> String {
    var seen = Set<String>()
    let members = pairs.filter { seen.insert($0.0).inserted }.map { "\(JSONText.string($0.0)): \(JSONText.string($0.1))" }
    return "{" + members.joined(separator: ", ") + "}"
  }
}
