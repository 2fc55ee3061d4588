/// Renames foreign checkpoint keys to sdedit's canonical (diffusers) names by dotted prefix:
/// for `a.b.c.weight` the rules for `a.b.c.`, `a.b.`, `a.` are tried in that order (longest
/// prefix wins). Rules are data, generated in loops for repeated blocks (sd.cpp's
/// `name_conversion.cpp`, STYLE.md §8.4), never hand-written pairs per block.
public struct KeyRules: Sendable {
  private(set) var prefixes: [String: String] = [:]

  public init() {}

  /// `from` and `to` are dotted prefixes without a trailing dot.
  public mutating func add(_ from: String, _ to: String) {
    prefixes[from + "."] = to + "."
  }

  /// Adds every rule of `other` with both sides placed under the given prefixes.
  public mutating func add(_ other: KeyRules, from: String, to: String) {
    for (f, t) in other.prefixes { prefixes[from + "." + f] = to + "." + t }
  }

  /// The canonical key, or nil when no rule matches (the key is unknown to this naming).
  public func rename(_ key: String) -> String? {
    var end = key.endIndex
    while let dot = key[..<end].lastIndex(of: ".") {
      let prefix = String(key[...dot])
      if let target = prefixes[prefix] { return target + key[key.index(after: dot)...] }
      end = dot
    }
    return nil
  }
}
