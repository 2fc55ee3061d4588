import Foundation
import SDTestSupport
import Testing

@testable import SDModels

/// Builds safetensors bytes by hand so every malformation can be expressed.
enum STBytes {
  /// `[u64 LE length][header][data]`; `length` overrides the declared header length.
  static func make(header: String, data: [UInt8] = [], length: UInt64? = nil, pad: Bool = true) -> [UInt8] {
    var h = Array(header.utf8)
    if pad { h += Array(repeating: UInt8(ascii: " "), count: (8 - h.count % 8) % 8) }
    return make(rawHeader: h, data: data, length: length)
  }

  static func make(rawHeader: [UInt8], data: [UInt8] = [], length: UInt64? = nil) -> [UInt8] {
    var out: [UInt8] = []
    withUnsafeBytes(of: (length ?? UInt64(rawHeader.count)).littleEndian) { out += $0 }
    return out + rawHeader + data
  }

  /// Writes `bytes` to a fresh temporary file and opens it.
  static func open(_ bytes: [UInt8], name: String = "t.safetensors") throws -> SafeTensorsFile {
    let url = try Fixtures.temporaryDirectory("st").appendingPathComponent(name)
    try Data(bytes).write(to: url)
    return try SafeTensorsFile(url: url)
  }

  /// The `CheckpointError` opening `bytes` throws (nil when it opens); the file is deleted after.
  static func error(_ bytes: [UInt8], name: String = "t.safetensors") -> CheckpointError? {
    do {
      let file = try open(bytes, name: name)
      try? FileManager.default.removeItem(at: file.url.deletingLastPathComponent())
      return nil
    } catch let error as CheckpointError {
      if case .notFound = error {} else if let path = error.path {
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: path).deletingLastPathComponent())
      }
      return error
    } catch {
      Issue.record("unexpected error \(error)")
      return nil
    }
  }

  static func entry(_ dtype: String = "F32", _ shape: [Int], _ begin: Int, _ end: Int) -> String {
    "{\"dtype\":\"\(dtype)\",\"shape\":\(shape),\"data_offsets\":[\(begin),\(end)]}"
  }
}

/// Each malformed input fails with its own error kind, a message naming the file, and no crash.
@Suite struct SafeTensorsMalformedTests {
  /// Opens `bytes`, expects an error matching `kind`, and checks the message names the file.
  func expectFailure(
    _ bytes: [UInt8], name: String = "t.safetensors", sourceLocation: SourceLocation = #_sourceLocation,
    _ kind: (CheckpointError) -> Bool
  ) {
    guard let error = STBytes.error(bytes, name: name) else {
      Issue.record("expected an error, the file opened", sourceLocation: sourceLocation)
      return
    }
    #expect(kind(error), "wrong error: \(error)", sourceLocation: sourceLocation)
    #expect(error.description.contains(name), "message lacks the file: \(error)", sourceLocation: sourceLocation)
  }

  let eight = [UInt8](repeating: 0, count: 8)

  @Test func tooShort() {
    expectFailure([]) { if case .fileTooShort(_, 0) = $0 { true } else { false } }
    expectFailure([1, 2, 3, 4, 5]) { if case .fileTooShort(_, 5) = $0 { true } else { false } }
  }

  @Test func headerLengthAbsurdOrPastEnd() {
    expectFailure(STBytes.make(header: "{}", length: 200_000_000)) {
      if case .headerTooLarge(_, 200_000_000) = $0 { true } else { false }
    }
    expectFailure(STBytes.make(header: "{}", length: UInt64.max)) { if case .headerTooLarge = $0 { true } else { false } }
    expectFailure(STBytes.make(header: "{}", length: 9)) { if case .headerPastEnd(_, 9, 16) = $0 { true } else { false } }
  }

  @Test func headerNotUTF8() {
    expectFailure(STBytes.make(rawHeader: [UInt8(ascii: "{"), 0xFF, 0xFE, UInt8(ascii: "}")])) {
      if case .headerNotUTF8 = $0 { true } else { false }
    }
  }

  @Test func headerNotJSONOrNotObject() {
    for header in ["", "{\"a\":", "{\"a\" 1}", "{} x", "{\"a\":tru}", "{'a':1}", "{\"a\":01}", "{\"a\":\"\u{01}\"}"] {
      expectFailure(STBytes.make(header: header)) { if case .invalidHeader = $0 { true } else { false } }
    }
    for header in ["[]", "\"x\"", "12", "null"] {
      expectFailure(STBytes.make(header: header)) {
        if case .invalidHeader(_, let reason) = $0 { reason.contains("object") } else { false }
      }
    }
    // Deep nesting is refused without exhausting the stack.
    expectFailure(STBytes.make(header: "{\"a\":" + String(repeating: "[", count: 100_000))) {
      if case .invalidHeader(_, let reason) = $0 { reason.contains("nesting") } else { false }
    }
  }

  @Test func entryFieldsMissingOrMistyped() {
    let cases = [
      "{\"w\":{\"shape\":[1],\"data_offsets\":[0,4]}}",
      "{\"w\":{\"dtype\":\"F32\",\"data_offsets\":[0,4]}}",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1]}}",
      "{\"w\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":\"1\",\"data_offsets\":[0,4]}}",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":{\"a\":0}}}",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4,8]}}",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,\"4\"]}}",
      "{\"w\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[-4,4]}}",
      "{\"w\":[1,2]}",
    ]
    for header in cases {
      expectFailure(STBytes.make(header: header, data: [0, 0, 0, 0])) {
        if case .invalidEntry(let tensor, _, _) = $0 { tensor == "w" } else { false }
      }
    }
  }

  @Test func negativeOrNonIntegerDims() {
    for shape in ["[-1]", "[2.0]", "[1e2]", "[true]", "[99999999999999999999999]"] {
      let header = "{\"w\":{\"dtype\":\"F32\",\"shape\":\(shape),\"data_offsets\":[0,4]}}"
      expectFailure(STBytes.make(header: header, data: [0, 0, 0, 0])) {
        if case .invalidEntry("w", _, let reason) = $0 { reason.contains("shape") } else { false }
      }
    }
  }

  @Test func shapeOverflowOrAbsurd() {
    for shape in [[1 << 40, 1 << 40], [1 << 35], [1 << 20, 1 << 20], [0, 1 << 62], [Int.max, 2]] {
      expectFailure(STBytes.make(header: "{\"w\":\(STBytes.entry("F32", shape, 0, 0))}")) {
        if case .shapeTooLarge("w", let s, _) = $0 { s == shape } else { false }
      }
    }
  }

  @Test func offsetsOutOfRange() {
    expectFailure(STBytes.make(header: "{\"w\":\(STBytes.entry("F32", [1], 4, 0))}", data: [0, 0, 0, 0])) {
      if case .offsetsOutOfRange("w", 4, 0, 4, _) = $0 { true } else { false }
    }
    expectFailure(STBytes.make(header: "{\"w\":\(STBytes.entry("F32", [2], 0, 8))}", data: [0, 0, 0, 0])) {
      if case .offsetsOutOfRange("w", 0, 8, 4, _) = $0 { true } else { false }
    }
  }

  @Test func byteLengthMismatch() {
    expectFailure(STBytes.make(header: "{\"w\":\(STBytes.entry("F32", [2], 0, 4))}", data: [0, 0, 0, 0])) {
      if case .byteLengthMismatch("w", "F32", [2], 8, 4, _) = $0 { true } else { false }
    }
    // Sub-byte dtype whose elements do not end on a byte boundary.
    expectFailure(STBytes.make(header: "{\"w\":\(STBytes.entry("F4", [3], 0, 2))}", data: [0, 0])) {
      if case .byteLengthMismatch("w", "F4", [3], 2, 2, _) = $0 { true } else { false }
    }
  }

  @Test func overlappingRanges() {
    let header = "{\"a\":\(STBytes.entry("F32", [2], 0, 8)),\"b\":\(STBytes.entry("F32", [2], 4, 12))}"
    expectFailure(STBytes.make(header: header, data: Array(repeating: 0, count: 12))) {
      if case .overlappingTensors("a", "b", _) = $0 { true } else { false }
    }
    // An empty tensor inside another's range also overlaps.
    let inside = "{\"a\":\(STBytes.entry("F32", [2], 0, 8)),\"e\":\(STBytes.entry("F32", [0], 4, 4))}"
    expectFailure(STBytes.make(header: inside, data: Array(repeating: 0, count: 8))) {
      if case .overlappingTensors("a", "e", _) = $0 { true } else { false }
    }
  }

  @Test func holesInTheBuffer() {
    let gap = "{\"a\":\(STBytes.entry("F32", [1], 0, 4)),\"b\":\(STBytes.entry("F32", [1], 8, 12))}"
    expectFailure(STBytes.make(header: gap, data: Array(repeating: 0, count: 12))) {
      if case .dataHole(4, 8, _) = $0 { true } else { false }
    }
    let leading = "{\"b\":\(STBytes.entry("F32", [1], 4, 8))}"
    expectFailure(STBytes.make(header: leading, data: Array(repeating: 0, count: 8))) {
      if case .dataHole(0, 4, _) = $0 { true } else { false }
    }
    let trailing = "{\"a\":\(STBytes.entry("F32", [1], 0, 4))}"
    expectFailure(STBytes.make(header: trailing, data: Array(repeating: 0, count: 6))) {
      if case .dataHole(4, 6, _) = $0 { true } else { false }
    }
  }

  @Test func duplicateNames() {
    let header = "{\"w\":\(STBytes.entry("F32", [1], 0, 4)),\"w\":\(STBytes.entry("F32", [1], 4, 8))}"
    expectFailure(STBytes.make(header: header, data: Array(repeating: 0, count: 8))) {
      if case .duplicateTensor("w", _) = $0 { true } else { false }
    }
    // A duplicate field inside an entry is a malformed header, not a duplicate tensor.
    let field = "{\"w\":{\"dtype\":\"F32\",\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,4]}}"
    expectFailure(STBytes.make(header: field, data: [0, 0, 0, 0])) {
      if case .invalidHeader(_, let reason) = $0 { reason.contains("duplicate") } else { false }
    }
  }

  @Test func unknownDType() {
    expectFailure(STBytes.make(header: "{\"w\":\(STBytes.entry("F17", [1], 0, 4))}", data: [0, 0, 0, 0])) {
      if case .unknownDType("w", "F17", _) = $0 { true } else { false }
    }
  }

  @Test func badMetadata() {
    for metadata in ["{\"a\":1}", "[]", "\"x\"", "{\"a\":{\"b\":\"c\"}}"] {
      expectFailure(STBytes.make(header: "{\"__metadata__\":\(metadata)}")) {
        if case .invalidMetadata = $0 { true } else { false }
      }
    }
  }

  @Test func picklesAreRefused() {
    // By extension, before reading anything.
    for ext in ["ckpt", "pt", "pth", "bin"] {
      expectFailure(STBytes.make(header: "{}"), name: "model.\(ext)") {
        if case .pickleRefused = $0 { true } else { false }
      }
    }
    // By content: torch's zip container, and a raw pickle (PROTO 2).
    expectFailure([0x50, 0x4B, 0x03, 0x04] + Array(repeating: 0, count: 60)) {
      if case .pickleRefused = $0 { true } else { false }
    }
    expectFailure([0x80, 0x02, 0x7D, 0x71, 0x00, 0x28, 0x58, 0x05, 0x00, 0x00]) {
      if case .pickleRefused = $0 { true } else { false }
    }
    // A genuine safetensors file whose 640-byte header length also reads `80 02` is not a pickle.
    let header640 = "{}" + String(repeating: " ", count: 638)
    #expect(STBytes.error(STBytes.make(header: header640)) == nil)
    let message = CheckpointError.pickleRefused(path: "/m/x.ckpt").description
    #expect(message.contains("code") && message.contains(".safetensors"))
  }

  @Test func missingFileAndFolder() throws {
    let dir = try Fixtures.temporaryDirectory("st")
    let missing = dir.appendingPathComponent("nope.safetensors")
    #expect(throws: CheckpointError.notFound(path: missing.path)) { try SafeTensorsFile(url: missing) }
    #expect {
      try SafeTensorsFile(url: dir)
    } throws: { error in
      if case .unreadable(let path, _) = error as? CheckpointError { path == dir.path } else { false }
    }
  }

  /// Every truncation of a valid file fails cleanly (or, for the full length, opens).
  @Test func everyTruncationFailsCleanly() throws {
    let bytes = try [UInt8](Fixtures.data("safetensors/small.safetensors"))
    for length in stride(from: 0, to: bytes.count, by: 7) {
      #expect(STBytes.error(Array(bytes.prefix(length))) != nil)
    }
    #expect(STBytes.error(bytes) == nil)
  }

  /// Random byte changes in the header never crash the validator.
  @Test func headerMutationsNeverCrash() throws {
    let bytes = try [UInt8](Fixtures.data("safetensors/small.safetensors"))
    let headerLength = Int(bytes[0]) | Int(bytes[1]) << 8
    let header = Array(bytes[8..<(8 + headerLength)])
    let dataLength = bytes.count - 8 - headerLength
    var rng = SafeTensorsFuzzRNG(seed: 7)
    let alphabet = Array("{}[]\",:0123456789-.eE \\u".utf8) + [0x00, 0xC3, 0xFF]
    var failures = 0
    for _ in 0..<3000 {
      var mutated = header
      for _ in 0...(rng.next() % 3) {
        let i = Int(rng.next() % UInt64(mutated.count))
        mutated[i] = alphabet[Int(rng.next() % UInt64(alphabet.count))]
      }
      do {
        _ = try SafeTensorsHeader.parse(mutated, dataLength: dataLength, path: "fuzz")
      } catch {
        failures += 1
      }
    }
    #expect(failures > 1000)
  }
}

/// A tiny deterministic generator for the mutation test.
private struct SafeTensorsFuzzRNG {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
