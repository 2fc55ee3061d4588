/// A strict, small JSON reader for safetensors headers (RFC 8259).
///
/// Written instead of `JSONSerialization` because that one silently keeps only one of two
/// duplicate keys, and a header with two entries of the same name must be refused. Objects keep
/// their members in file order; numbers keep their literal text so integers are read exactly.
/// Nesting is limited so hostile input cannot exhaust the stack.
enum HeaderJSON: Equatable {
  case object([(key: String, value: HeaderJSON)])
  case array([HeaderJSON])
  case string(String)
  /// The number's literal text, e.g. `"12"`, `"-0.5e3"`.
  case number(String)
  case bool(Bool)
  case null

  struct ParseError: Error, Equatable {
    var message: String
    /// Byte offset in the header.
    var offset: Int
    /// Set when the problem is a repeated key: the key and the object depth (1 = top level).
    var duplicateKey: (key: String, depth: Int)?

    static func == (a: ParseError, b: ParseError) -> Bool {
      a.message == b.message && a.offset == b.offset && a.duplicateKey?.key == b.duplicateKey?.key
        && a.duplicateKey?.depth == b.duplicateKey?.depth
    }
  }

  static func == (a: HeaderJSON, b: HeaderJSON) -> Bool {
    switch (a, b) {
    case (.object(let x), .object(let y)):
      return x.count == y.count && zip(x, y).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    case (.array(let x), .array(let y)): return x == y
    case (.string(let x), .string(let y)): return x == y
    case (.number(let x), .number(let y)): return x == y
    case (.bool(let x), .bool(let y)): return x == y
    case (.null, .null): return true
    default: return false
    }
  }

  static let maxDepth = 64

  /// Parses one JSON value filling `bytes` (surrounding whitespace allowed).
  static func parse(_ bytes: [UInt8]) throws(ParseError) -> HeaderJSON {
    var reader = Reader(bytes: bytes)
    reader.skipWhitespace()
    let value = try reader.value(depth: 0)
    reader.skipWhitespace()
    guard reader.index == bytes.count else { throw reader.error("unexpected text after the JSON value") }
    return value
  }

  /// Integer value of a `.number` written without fraction or exponent, if it fits in `Int`.
  var integer: Int? {
    guard case .number(let text) = self else { return nil }
    return Int(text)
  }

  var typeName: String {
    switch self {
    case .object: return "an object"
    case .array: return "an array"
    case .string: return "a string"
    case .number(let text): return "the number \(text)"
    case .bool(let b): return "\(b)"
    case .null: return "null"
    }
  }
}

private struct Reader {
  let bytes: [UInt8]
  var index = 0

  init(bytes: [UInt8]) { self.bytes = bytes }

  func error(_ message: String) -> HeaderJSON.ParseError {
    HeaderJSON.ParseError(message: "\(message) at byte \(index)", offset: index, duplicateKey: nil)
  }

  var peek: UInt8? { index < bytes.count ? bytes[index] : nil }

  mutating func skipWhitespace() {
    while let c = peek, c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D { index += 1 }
  }

  mutating func expect(_ literal: String, _ value: HeaderJSON) throws(HeaderJSON.ParseError) -> HeaderJSON {
    for c in literal.utf8 {
      guard peek == c else { throw error("invalid literal") }
      index += 1
    }
    return value
  }

  mutating func value(depth: Int) throws(HeaderJSON.ParseError) -> HeaderJSON {
    guard let c = peek else { throw error("unexpected end of JSON") }
    switch c {
    case UInt8(ascii: "{"): return try object(depth: depth + 1)
    case UInt8(ascii: "["): return try array(depth: depth + 1)
    case UInt8(ascii: "\""): return .string(try string())
    case UInt8(ascii: "t"): return try expect("true", .bool(true))
    case UInt8(ascii: "f"): return try expect("false", .bool(false))
    case UInt8(ascii: "n"): return try expect("null", .null)
    case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"): return try number()
    default: throw error("unexpected character '\(Unicode.Scalar(c))'")
    }
  }

  mutating func object(depth: Int) throws(HeaderJSON.ParseError) -> HeaderJSON {
    guard depth <= HeaderJSON.maxDepth else { throw error("nesting deeper than \(HeaderJSON.maxDepth)") }
    index += 1  // {
    var members: [(key: String, value: HeaderJSON)] = []
    var seen = Set<String>()
    skipWhitespace()
    if peek == UInt8(ascii: "}") { index += 1; return .object(members) }
    while true {
      skipWhitespace()
      guard peek == UInt8(ascii: "\"") else { throw error("expected a string key") }
      let keyOffset = index
      let key = try string()
      guard seen.insert(key).inserted else {
        throw HeaderJSON.ParseError(
          message: "duplicate key \"\(key)\" at byte \(keyOffset)", offset: keyOffset,
          duplicateKey: (key, depth))
      }
      skipWhitespace()
      guard peek == UInt8(ascii: ":") else { throw error("expected ':'") }
      index += 1
      skipWhitespace()
      members.append((key, try value(depth: depth)))
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","): index += 1
      case UInt8(ascii: "}"): index += 1; return .object(members)
      default: throw error("expected ',' or '}'")
      }
    }
  }

  mutating func array(depth: Int) throws(HeaderJSON.ParseError) -> HeaderJSON {
    guard depth <= HeaderJSON.maxDepth else { throw error("nesting deeper than \(HeaderJSON.maxDepth)") }
    index += 1  // [
    var elements: [HeaderJSON] = []
    skipWhitespace()
    if peek == UInt8(ascii: "]") { index += 1; return .array(elements) }
    while true {
      skipWhitespace()
      elements.append(try value(depth: depth))
      skipWhitespace()
      switch peek {
      case UInt8(ascii: ","): index += 1
      case UInt8(ascii: "]"): index += 1; return .array(elements)
      default: throw error("expected ',' or ']'")
      }
    }
  }

  mutating func digits() -> Int {
    let start = index
    while let c = peek, c >= UInt8(ascii: "0"), c <= UInt8(ascii: "9") { index += 1 }
    return index - start
  }

  /// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`
  mutating func number() throws(HeaderJSON.ParseError) -> HeaderJSON {
    let start = index
    if peek == UInt8(ascii: "-") { index += 1 }
    if peek == UInt8(ascii: "0") {
      index += 1
    } else if digits() == 0 {
      throw error("invalid number")
    }
    if peek == UInt8(ascii: ".") {
      index += 1
      guard digits() > 0 else { throw error("invalid number") }
    }
    if peek == UInt8(ascii: "e") || peek == UInt8(ascii: "E") {
      index += 1
      if peek == UInt8(ascii: "+") || peek == UInt8(ascii: "-") { index += 1 }
      guard digits() > 0 else { throw error("invalid number") }
    }
    return .number(String(decoding: bytes[start..<index], as: UTF8.self))
  }

  /// A string literal; the reader stands on its opening quote.
  mutating func string() throws(HeaderJSON.ParseError) -> String {
    index += 1  // "
    var out: [UInt8] = []
    while true {
      guard let c = peek else { throw error("unterminated string") }
      index += 1
      switch c {
      case UInt8(ascii: "\""):
        // Input was validated as UTF-8 and escapes add valid scalars, so this decoding is exact.
        return String(decoding: out, as: UTF8.self)
      case UInt8(ascii: "\\"):
        guard let e = peek else { throw error("unterminated string") }
        index += 1
        switch e {
        case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(e)
        case UInt8(ascii: "b"): out.append(0x08)
        case UInt8(ascii: "f"): out.append(0x0C)
        case UInt8(ascii: "n"): out.append(0x0A)
        case UInt8(ascii: "r"): out.append(0x0D)
        case UInt8(ascii: "t"): out.append(0x09)
        case UInt8(ascii: "u"): out.append(contentsOf: try unicodeEscape())
        default: throw error("invalid escape '\\\(Unicode.Scalar(e))'")
        }
      case 0..<0x20:
        throw error("control character in string")
      default:
        out.append(c)
      }
    }
  }

  mutating func hex4() throws(HeaderJSON.ParseError) -> UInt32 {
    guard index + 4 <= bytes.count else { throw error("truncated \\u escape") }
    var v: UInt32 = 0
    for _ in 0..<4 {
      let c = bytes[index]
      let d: UInt8
      switch c {
      case UInt8(ascii: "0")...UInt8(ascii: "9"): d = c - UInt8(ascii: "0")
      case UInt8(ascii: "a")...UInt8(ascii: "f"): d = c - UInt8(ascii: "a") + 10
      case UInt8(ascii: "A")...UInt8(ascii: "F"): d = c - UInt8(ascii: "A") + 10
      default: throw error("invalid \\u escape")
      }
      v = v << 4 | UInt32(d)
      index += 1
    }
    return v
  }

  /// `\uXXXX` (the reader stands after the `u`), joining surrogate pairs; returns UTF-8 bytes.
  mutating func unicodeEscape() throws(HeaderJSON.ParseError) -> [UInt8] {
    var scalar = try hex4()
    if (0xD800..<0xDC00).contains(scalar) {
      guard peek == UInt8(ascii: "\\"), index + 1 < bytes.count, bytes[index + 1] == UInt8(ascii: "u") else {
        throw error("unpaired surrogate in \\u escape")
      }
      index += 2
      let low = try hex4()
      guard (0xDC00..<0xE000).contains(low) else { throw error("unpaired surrogate in \\u escape") }
      scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
    } else if (0xDC00..<0xE000).contains(scalar) {
      throw error("unpaired surrogate in \\u escape")
    }
    guard let s = Unicode.Scalar(scalar) else { throw error("invalid \\u escape") }
    return Array(String(Character(s)).utf8)
  }
}
