import Foundation

/// One JSON value of a batch file, numbers kept as the decimal text an option parses (`4`,
/// `7.5`, `18446744073709551615`), so nothing is rounded on the way to the subcommand.
enum JSONValue: Decodable, Equatable {
  case null
  case bool(Bool)
  case number(String)
  case string(String)
  case array([JSONValue])
  case object([String: JSONValue])

  init(from decoder: Decoder) throws {
    let c = try decoder.singleValueContainer()
    if c.decodeNil() {
      self = .null
    } else if let b = try? c.decode(Bool.self) {
      self = .bool(b)
    } else if let i = try? c.decode(Int64.self) {
      self = .number(String(i))
    } else if let u = try? c.decode(UInt64.self) {
      self = .number(String(u))
    } else if let d = try? c.decode(Double.self) {
      // 4.0 → "4", so integer options take it; other values in Swift's shortest round-trip form.
      self = .number(d == d.rounded() && abs(d) < 0x1p53 ? String(Int64(d)) : "\(d)")
    } else if let s = try? c.decode(String.self) {
      self = .string(s)
    } else if let a = try? c.decode([JSONValue].self) {
      self = .array(a)
    } else {
      self = .object(try c.decode([String: JSONValue].self))
    }
  }

  /// Parses one line of a batch file.
  static func parse(line: String) throws(JobFailure) -> JSONValue {
    do {
      return try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
    } catch {
      let start = line.prefix(40)
      throw JobFailure("not valid JSON: \(start)\(start.count < line.count ? "…" : "")")
    }
  }

  /// A scalar's text as an argument value; nil for null, arrays and objects.
  var argumentText: String? {
    switch self {
    case .bool(let b): return b ? "true" : "false"
    case .number(let n): return n
    case .string(let s): return s
    case .null, .array, .object: return nil
    }
  }
}

/// JSON text for the values sdedit prints (rank --json, the batch log).
enum JSONText {
  static func string(_ s: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
  }

  /// The shortest decimal that reads back as the same Float; null for NaN and infinities (not JSON numbers).
  static func number(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
}
