/// A string as a JSON literal, exactly as Python's `json.dumps(s, ensure_ascii=False)` writes it:
/// `"` and `\` escaped, `\b \f \n \r \t` by name, other control characters as `\u00XX`, everything
/// else as is. (safetensors headers and AUTOMATIC1111's `infotext_utils.quote` both use it.)
public enum JSONString {
  public static func literal(_ s: String) -> String {
    var out = "\""
    for scalar in s.unicodeScalars {
      switch scalar {
      case "\"": out += "\\\""
      case "\\": out += "\\\\"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      case "\t": out += "\\t"
      case "\u{08}": out += "\\b"
      case "\u{0C}": out += "\\f"
      case _ where scalar.value < 0x20:
        let hex = String(scalar.value, radix: 16)
        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
      default: out.unicodeScalars.append(scalar)
      }
    }
    return out + "\""
  }
}
