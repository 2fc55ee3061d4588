/// The validated content of a safetensors header.
///
/// Reproduces the checks of the safetensors Rust crate (`Metadata::validate`, safetensors 0.8) and
/// is stricter where the crate is lenient: every entry is checked for types, sizes and offsets,
/// and the byte ranges must be disjoint and cover the data buffer exactly.
///
/// Layout: `[u64 little-endian N][N bytes of JSON header][data buffer]`; each entry's
/// `data_offsets` are `[begin, end)` relative to the start of the data buffer.
struct SafeTensorsHeader {
  var tensors: [String: SafeTensorsFile.TensorInfo]
  var metadata: [String: String]

  /// The largest header the format accepts (safetensors' `MAX_HEADER_SIZE`).
  static let maxHeaderLength: UInt64 = 100_000_000
  /// The largest element count accepted for one tensor.
  static let maxElementCount = 1 << 34

  /// Parses and validates `headerBytes`, whose tensors live in a data buffer of `dataLength` bytes.
  static func parse(_ headerBytes: [UInt8], dataLength: Int, path: String) throws(CheckpointError) -> SafeTensorsHeader {
    guard String(validating: headerBytes, as: UTF8.self) != nil else { throw .headerNotUTF8(path: path) }
    let json: HeaderJSON
    do {
      json = try HeaderJSON.parse(headerBytes)
    } catch {
      if let duplicate = error.duplicateKey, duplicate.depth == 1 {
        throw .duplicateTensor(name: duplicate.key, path: path)
      }
      throw .invalidHeader(path: path, reason: error.message)
    }
    guard case .object(let members) = json else {
      throw .invalidHeader(path: path, reason: "expected a JSON object, found \(json.typeName)")
    }

    var header = SafeTensorsHeader(tensors: [:], metadata: [:])
    for (name, value) in members {
      if name == "__metadata__" {
        header.metadata = try parseMetadata(value, path: path)
      } else {
        header.tensors[name] = try parseEntry(name: name, value, dataLength: dataLength, path: path)
      }
    }
    try checkCoverage(header.tensors.values, dataLength: dataLength, path: path)
    return header
  }

  static func parseMetadata(_ value: HeaderJSON, path: String) throws(CheckpointError) -> [String: String] {
    if value == .null { return [:] }
    guard case .object(let members) = value else {
      throw .invalidMetadata(path: path, reason: "expected an object, found \(value.typeName)")
    }
    var metadata: [String: String] = [:]
    for (key, item) in members {
      guard case .string(let text) = item else {
        throw .invalidMetadata(path: path, reason: "value of '\(key)' is \(item.typeName), expected a string")
      }
      metadata[key] = text
    }
    return metadata
  }

  static func parseEntry(
    name: String, _ value: HeaderJSON, dataLength: Int, path: String
  ) throws(CheckpointError) -> SafeTensorsFile.TensorInfo {
    func invalid(_ reason: String) -> CheckpointError { .invalidEntry(tensor: name, path: path, reason: reason) }
    guard case .object(let members) = value else { throw invalid("entry is \(value.typeName), expected an object") }
    func field(_ key: String) throws(CheckpointError) -> HeaderJSON {
      guard let member = members.first(where: { $0.key == key }) else { throw invalid("missing '\(key)'") }
      return member.value
    }

    guard case .string(let dtypeName) = try field("dtype") else { throw invalid("'dtype' is not a string") }
    guard case .array(let dimValues) = try field("shape") else { throw invalid("'shape' is not an array") }
    guard case .array(let offsetValues) = try field("data_offsets") else {
      throw invalid("'data_offsets' is not an array")
    }
    guard let dtype = SafeTensorsDType(rawValue: dtypeName) else {
      throw .unknownDType(tensor: name, dtype: dtypeName, path: path)
    }

    var shape: [Int] = []
    for dim in dimValues {
      guard let d = dim.integer, d >= 0 else { throw invalid("shape entry \(dim.typeName) is not a non-negative integer") }
      shape.append(d)
    }
    var count = 1
    for d in shape {
      let (product, overflow) = count.multipliedReportingOverflow(by: d)
      // Each dimension is bounded too, so a zero elsewhere in the shape cannot hide a huge one.
      guard d <= maxElementCount, !overflow, product <= maxElementCount else {
        throw .shapeTooLarge(tensor: name, shape: shape, path: path)
      }
      count = product
    }

    guard offsetValues.count == 2 else { throw invalid("'data_offsets' has \(offsetValues.count) entries, expected 2") }
    guard let begin = offsetValues[0].integer, let end = offsetValues[1].integer, begin >= 0, end >= 0 else {
      throw invalid("'data_offsets' must be two non-negative integers")
    }
    guard begin <= end, end <= dataLength else {
      throw .offsetsOutOfRange(tensor: name, begin: begin, end: end, dataLength: dataLength, path: path)
    }

    let bits = count * dtype.bitWidth  // ≤ 2^34 × 64: no overflow
    guard bits % 8 == 0, bits / 8 == end - begin else {
      throw .byteLengthMismatch(
        tensor: name, dtype: dtypeName, shape: shape, expected: (bits + 7) / 8, found: end - begin, path: path)
    }
    return SafeTensorsFile.TensorInfo(name: name, dtype: dtype, shape: shape, byteRange: begin..<end)
  }

  /// The byte ranges must be disjoint and, sorted, tile `0..<dataLength` with no gap.
  static func checkCoverage(
    _ infos: some Collection<SafeTensorsFile.TensorInfo>, dataLength: Int, path: String
  ) throws(CheckpointError) {
    let sorted = infos.sorted { a, b in
      (a.byteRange.lowerBound, a.byteRange.upperBound, a.name) < (b.byteRange.lowerBound, b.byteRange.upperBound, b.name)
    }
    var cursor = 0
    var previous: String?
    for info in sorted {
      let range = info.byteRange
      if range.lowerBound > cursor { throw .dataHole(begin: cursor, end: range.lowerBound, path: path) }
      if range.lowerBound < cursor, let previous {
        throw .overlappingTensors(first: previous, second: info.name, path: path)
      }
      cursor = range.upperBound
      previous = info.name
    }
    if cursor < dataLength { throw .dataHole(begin: cursor, end: dataLength, path: path) }
  }
}
