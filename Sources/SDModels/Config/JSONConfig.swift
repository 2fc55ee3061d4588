import Foundation

/// A parsed `config.json` (diffusers or transformers) with typed, validated look-ups.
/// Every failure names the file and the key.
public struct JSONConfig: @unchecked Sendable {
  public let values: [String: Any]
  /// Where the values came from, for error messages.
  public let source: String

  public init(values: [String: Any], source: String) {
    self.values = values
    self.source = source
  }

  public init(url: URL) throws {
    let data: Data
    do {
      data = try Data(contentsOf: url)
    } catch {
      throw ConfigError(source: url.path, problem: "cannot be read (\(error.localizedDescription))")
    }
    try self.init(data: data, source: url.path)
  }

  public init(data: Data, source: String) throws {
    guard data.count <= 16 << 20 else { throw ConfigError(source: source, problem: "is larger than 16 MB") }
    let object: Any
    do {
      object = try JSONSerialization.jsonObject(with: data)
    } catch {
      throw ConfigError(source: source, problem: "is not valid JSON")
    }
    guard let dict = object as? [String: Any] else {
      throw ConfigError(source: source, problem: "is not a JSON object")
    }
    self.init(values: dict, source: source)
  }

  /// JSON booleans arrive as Swift `Bool` or as Foundation's boolean NSNumber (`__NSCFBoolean`,
  /// objCType "c"); on Linux `NSNumber(1) is Bool` is true, so the dynamic type decides.
  static func isBool(_ value: Any) -> Bool {
    if type(of: value) == Bool.self { return true }
    guard let n = value as? NSNumber else { return false }
    return String(cString: n.objCType) == "c" && String(describing: type(of: value)).contains("Bool")
  }

  /// A JSON number (not a boolean) as NSNumber.
  static func number(_ value: Any) -> NSNumber? {
    guard !isBool(value) else { return nil }
    if let i = value as? Int { return NSNumber(value: i) }
    if let d = value as? Double { return NSNumber(value: d) }
    return value as? NSNumber
  }

  public func contains(_ key: String) -> Bool { values[key] != nil && !(values[key] is NSNull) }

  func fail(_ key: String, _ expected: String) -> ConfigError {
    ConfigError(source: source, problem: "key \"\(key)\" should be \(expected), found \(String(describing: values[key]!))")
  }

  public func int(_ key: String) throws -> Int? {
    guard contains(key) else { return nil }
    if let n = Self.number(values[key]!) {
      let d = n.doubleValue
      guard d.rounded() == d, abs(d) < 1e12 else { throw fail(key, "an integer") }
      return Int(d)
    }
    throw fail(key, "an integer")
  }

  public func int(_ key: String, default value: Int) throws -> Int { try int(key) ?? value }

  public func double(_ key: String) throws -> Double? {
    guard contains(key) else { return nil }
    guard let n = Self.number(values[key]!) else { throw fail(key, "a number") }
    return n.doubleValue
  }

  public func double(_ key: String, default value: Double) throws -> Double { try double(key) ?? value }

  public func float(_ key: String, default value: Float) throws -> Float {
    try double(key).map(Float.init) ?? value
  }

  public func bool(_ key: String, default value: Bool) throws -> Bool {
    guard contains(key) else { return value }
    guard Self.isBool(values[key]!), let b = values[key] as? Bool else { throw fail(key, "true or false") }
    return b
  }

  public func string(_ key: String) throws -> String? {
    guard contains(key) else { return nil }
    guard let s = values[key] as? String else { throw fail(key, "a string") }
    return s
  }

  public func string(_ key: String, default value: String) throws -> String { try string(key) ?? value }

  public func strings(_ key: String) throws -> [String]? {
    guard contains(key) else { return nil }
    guard let list = values[key] as? [Any], let strings = list as? [String] else { throw fail(key, "a list of strings") }
    return strings
  }

  public func ints(_ key: String) throws -> [Int]? {
    guard contains(key) else { return nil }
    guard let list = values[key] as? [Any] else { throw fail(key, "a list of integers") }
    return try list.map { item in
      guard let n = Self.number(item), n.doubleValue.rounded() == n.doubleValue else {
        throw fail(key, "a list of integers")
      }
      return n.intValue
    }
  }

  /// An integer or a per-block list of integers (`attention_head_dim` in diffusers).
  public func intOrList(_ key: String, count: Int) throws -> [Int]? {
    if let list = try? ints(key) {
      guard list.count == count else { throw fail(key, "a list of \(count) integers") }
      return list
    }
    return try int(key).map { [Int](repeating: $0, count: count) }
  }

  /// A nested object (`text_config` in a CLIP config.json).
  public func object(_ key: String) throws -> JSONConfig? {
    guard contains(key) else { return nil }
    guard let dict = values[key] as? [String: Any] else { throw fail(key, "an object") }
    return JSONConfig(values: dict, source: "\(source) (\(key))")
  }
}

/// A configuration file that is missing a key, has a wrong type, or is not JSON.
public struct ConfigError: Error, CustomStringConvertible {
  public let source: String
  public let problem: String

  public init(source: String, problem: String) {
    self.source = source
    self.problem = problem
  }

  public var description: String { "\(source): \(problem)" }
}
