/// The `key=value` parameters of one layer line of an ncnn `.param` file.
///
/// Follows Tencent/ncnn src/paramdict.cpp (`ParamDict::load_param`): keys 0…31 hold one value;
/// a key `-23300 - id` holds an array for `id`, written `count,v1,v2,…`. A value is a float when
/// its text contains '.' or 'e'/'E', an integer otherwise. Unlike ncnn, everything is checked:
/// duplicate keys, ids out of range, array counts, unparsable or non-finite numbers, and the type
/// a layer asks for.
public struct NCNNParamDict: Sendable, Equatable {
  public enum Value: Sendable, Equatable {
    case int(Int)
    case float(Float)
    case ints([Int])
    case floats([Float])
  }

  /// ncnn's NCNN_MAX_PARAM_COUNT.
  public static let maxParameterID = 31

  public private(set) var values: [Int: Value] = [:]

  public init(values: [Int: Value] = [:]) { self.values = values }

  /// Parses the `k=v` tokens of one line; errors are the reason text (the caller adds file and line).
  public static func parse(_ tokens: ArraySlice<Substring>) -> Result<NCNNParamDict, ParseFailure> {
    var dict = NCNNParamDict()
    for token in tokens {
      guard let eq = token.firstIndex(of: "="), let key = Int(token[..<eq]) else {
        return .failure(ParseFailure("expected key=value, found '\(token)'"))
      }
      let text = token[token.index(after: eq)...]
      let isArray = key <= -23300
      let id = isArray ? -key - 23300 : key
      guard (0...maxParameterID).contains(id) else {
        return .failure(ParseFailure("parameter key \(key) is out of range"))
      }
      guard dict.values[id] == nil else { return .failure(ParseFailure("parameter \(id) is given twice")) }
      if isArray {
        let parts = text.split(separator: ",", omittingEmptySubsequences: false)
        guard let count = Int(parts[0]), count >= 0, count == parts.count - 1 else {
          return .failure(ParseFailure("array parameter \(key): the count does not match '\(text)'"))
        }
        var ints: [Int] = [], floats: [Float] = [], anyFloat = false
        for part in parts.dropFirst() {
          switch scalar(part) {
          case .int(let i)?: ints.append(i); floats.append(Float(i))
          case .float(let f)?: anyFloat = true; ints.append(0); floats.append(f)
          default: return .failure(ParseFailure("parameter \(key): bad number '\(part)'"))
          }
        }
        dict.values[id] = anyFloat ? .floats(floats) : .ints(ints)
      } else {
        guard let v = scalar(text) else { return .failure(ParseFailure("parameter \(key): bad number '\(text)'")) }
        dict.values[id] = v
      }
    }
    return .success(dict)
  }

  /// One number, typed as ncnn types it ('.' or 'e' → float). Non-finite floats are refused.
  static func scalar(_ text: Substring) -> Value? {
    if text.contains(where: { $0 == "." || $0 == "e" || $0 == "E" }) {
      guard let f = Float(text), f.isFinite else { return nil }
      return .float(f)
    }
    guard let i = Int32(text) else { return nil }
    return .int(Int(i))
  }

  public struct ParseFailure: Error, Equatable {
    public let reason: String
    init(_ reason: String) { self.reason = reason }
  }

  // MARK: - Typed access (the reason text names the parameter; callers add file and layer)

  /// An integer parameter, or `defaultValue` when absent. A float or an array is a type error.
  public func int(_ id: Int, default defaultValue: Int) throws(ParseFailure) -> Int {
    switch values[id] {
    case nil: return defaultValue
    case .int(let i): return i
    default: throw ParseFailure("parameter \(id) must be an integer")
    }
  }

  /// A float parameter (an integer is accepted and converted), or `defaultValue` when absent.
  public func float(_ id: Int, default defaultValue: Float) throws(ParseFailure) -> Float {
    switch values[id] {
    case nil: return defaultValue
    case .float(let f): return f
    case .int(let i): return Float(i)
    default: throw ParseFailure("parameter \(id) must be a number")
    }
  }

  /// An array parameter as floats (integers converted), or nil when absent.
  public func floats(_ id: Int) throws(ParseFailure) -> [Float]? {
    switch values[id] {
    case nil: return nil
    case .floats(let f): return f
    case .ints(let i): return i.map(Float.init)
    default: throw ParseFailure("parameter \(id) must be an array (key \(-23300 - id))")
    }
  }

  /// The ids present, for refusing parameters a layer does not understand.
  public var ids: Set<Int> { Set(values.keys) }
}
