import Foundation

extension ImageParameters {
  /// The generation parameters read back from a `parameters` text, as AUTOMATIC1111 parses them
  /// (`modules/infotext_utils.py::parse_generation_parameters`).
  public struct Parsed: Sendable, Equatable {
    public var prompt = ""
    public var negativePrompt = ""
    /// The last line's `Key: value` pairs in order, values unquoted (`Steps` → `20`, `Size` → `512x512`).
    public var settings: [Setting] = []

    public struct Setting: Sendable, Equatable {
      public var key: String
      public var value: String
    }

    /// The first setting named `key`.
    public subscript(key: String) -> String? { settings.first { $0.key == key }?.value }
  }

  /// Parses AUTOMATIC1111's format: the prompt (one or more lines), then lines from
  /// `Negative prompt:` on, then a last line of `Key: value` pairs; a last line with fewer than
  /// three pairs belongs to the prompt. Values in double quotes are JSON strings (A1111 quotes
  /// values holding commas). Anything unparsable stays in the prompt, so this never fails.
  public static func parse(_ text: String) -> Parsed {
    var lines = text.trimmingCharacters(in: .whitespacesAndNewlines).components(separatedBy: "\n")
    var last = lines.removeLast()
    var pairs = settings(in: last)
    if pairs.count < 3 {
      lines.append(last)
      last = ""
      pairs = []
    }
    var parsed = Parsed()
    var negative = false
    for raw in lines {
      var line = raw.trimmingCharacters(in: .whitespaces)
      if line.hasPrefix("Negative prompt:") {
        negative = true
        line = String(line.dropFirst(16)).trimmingCharacters(in: .whitespaces)
      }
      if negative {
        parsed.negativePrompt += (parsed.negativePrompt.isEmpty ? "" : "\n") + line
      } else {
        parsed.prompt += (parsed.prompt.isEmpty ? "" : "\n") + line
      }
    }
    parsed.settings = pairs
    return parsed
  }

  /// A1111's `re_param`: `\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)`.
  private static let pairPattern = try! NSRegularExpression(pattern: #"\s*(\w[\w \-/]+):\s*("(?:\\.|[^\\"])+"|[^,]*)(?:,|$)"#)

  static func settings(in line: String) -> [Parsed.Setting] {
    let ns = line as NSString
    return pairPattern.matches(in: line, range: NSRange(location: 0, length: ns.length)).map { match in
      let key = ns.substring(with: match.range(at: 1))
      var value = ns.substring(with: match.range(at: 2))
      if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\""),
        let data = value.data(using: .utf8), let unquoted = try? JSONDecoder().decode(String.self, from: data)
      {
        value = unquoted
      }
      return Parsed.Setting(key: key, value: value)
    }
  }
}
