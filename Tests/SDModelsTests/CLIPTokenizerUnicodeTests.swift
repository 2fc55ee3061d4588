import Foundation
import SDTestSupport
import Testing

@testable import SDModels

/// The normalizer and pre-tokenizer classes against the reference `tokenizers` build, code point by
/// code point (`Tests/Fixtures/tokenizer/unicode.json`, written by `scripts/fixtures/tokenizer.py`).
/// These guard against the Swift runtime's Unicode data drifting from the reference's.
@Suite struct CLIPTokenizerUnicodeTests {
  static let fixture = Result { () throws -> [String: Any] in
    guard let object = try JSONSerialization.jsonObject(with: Fixtures.data("tokenizer/unicode.json")) as? [String: Any]
    else { throw FixtureError("unicode.json is not an object") }
    return object
  }

  static var allScalars: [Unicode.Scalar] {
    (UInt32(0)..<0x11_0000).compactMap(Unicode.Scalar.init)
  }

  static func ranges(_ key: String) throws -> [ClosedRange<UInt32>] {
    guard let pairs = try fixture.get()[key] as? [[Int]] else { throw FixtureError("no \(key)") }
    return pairs.map { UInt32($0[0])...UInt32($0[1]) }
  }

  static func scalarMap(_ key: String) throws -> [UInt32: [UInt32]] {
    guard let map = try fixture.get()[key] as? [String: [Int]] else { throw FixtureError("no \(key)") }
    var result: [UInt32: [UInt32]] = [:]
    for (code, values) in map { result[UInt32(code) ?? 0] = values.map(UInt32.init) }
    return result
  }

  static func values(_ scalars: [Unicode.Scalar]) -> [UInt32] { scalars.map(\.value) }

  @Test func regexClassesMatchEveryCodePoint() throws {
    func membership(_ ranges: [ClosedRange<UInt32>]) -> Set<UInt32> {
      Set(ranges.lazy.flatMap { $0 })
    }
    let letters = membership(try Self.ranges("letters"))
    let numbers = membership(try Self.ranges("numbers"))
    let spaces = membership(try Self.ranges("whitespace"))
    var mismatches: [String] = []
    for scalar in Self.allScalars {
      let v = scalar.value
      if CLIPTextNormalizer.isLetter(scalar) != letters.contains(v) { mismatches.append("L U+\(String(v, radix: 16))") }
      if CLIPTextNormalizer.isNumber(scalar) != numbers.contains(v) { mismatches.append("N U+\(String(v, radix: 16))") }
      if CLIPTextNormalizer.isWhitespace(scalar) != spaces.contains(v) {
        mismatches.append("S U+\(String(v, radix: 16))")
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) differences, first: \(mismatches.prefix(10))")
  }

  @Test func lowercaseMatchesEveryCodePoint() throws {
    let expected = try Self.scalarMap("lowercase")
    #expect(expected.count > 1000)
    var mismatches: [UInt32] = []
    for scalar in Self.allScalars where scalar.value != 0 {
      var out: [Unicode.Scalar] = []
      CLIPTextNormalizer.appendLowercased(scalar, to: &out)
      let lowered = Self.values(out)
      if lowered != expected[scalar.value] ?? [scalar.value] { mismatches.append(scalar.value) }
    }
    #expect(
      mismatches.isEmpty,
      "\(mismatches.count) differences, first: \(mismatches.prefix(10).map { String($0, radix: 16) })")
  }

  @Test func nfcOfEveryCodePointMatches() throws {
    let expected = try Self.scalarMap("nfc_single")
    var mismatches: [UInt32] = []
    for scalar in Self.allScalars where scalar.value != 0 {
      let composed = Self.values(CLIPTextNormalizer.referenceNFC(Substring(String(scalar))))
      if composed != expected[scalar.value] ?? [scalar.value] { mismatches.append(scalar.value) }
    }
    #expect(
      mismatches.isEmpty,
      "\(mismatches.count) differences, first: \(mismatches.prefix(10).map { String($0, radix: 16) })")
  }

  @Test func nfcRecomposesCanonicalDecompositions() throws {
    guard let composites = try Self.fixture.get()["nfc_recomposed"] as? [Int] else {
      throw FixtureError("no nfc_recomposed")
    }
    let exceptions = try Self.scalarMap("nfc_not_recomposed")
    #expect(composites.count > 10_000)
    #expect(exceptions[0x11938] == [0x11935, 0x11930])
    var mismatches: [Int] = []
    for code in composites {
      guard let scalar = Unicode.Scalar(UInt32(code)) else { continue }
      let decomposed = String(scalar).decomposedStringWithCanonicalMapping
      let composed = Self.values(CLIPTextNormalizer.referenceNFC(Substring(decomposed)))
      if composed != exceptions[UInt32(code)] ?? [UInt32(code)] { mismatches.append(code) }
    }
    #expect(
      mismatches.isEmpty,
      "\(mismatches.count) differences, first: \(mismatches.prefix(10).map { String($0, radix: 16) })")
  }

  @Test func nfcOfCompositionSequencesMatches() throws {
    guard let cases = try Self.fixture.get()["nfc_sequences"] as? [[[Int]]] else {
      throw FixtureError("no nfc_sequences")
    }
    #expect(cases.count > 2000)
    var mismatches: [[Int]] = []
    for entry in cases {
      let input = String(String.UnicodeScalarView(entry[0].compactMap { Unicode.Scalar(UInt32($0)) }))
      if Self.values(CLIPTextNormalizer.referenceNFC(Substring(input))) != entry[1].map(UInt32.init) {
        mismatches.append(entry[0])
      }
    }
    #expect(mismatches.isEmpty, "\(mismatches.count) differences, first: \(mismatches.prefix(5))")
    // Dives Akuru: the reference does not compose U+11935 U+11930, while Foundation would.
    #expect(Self.values(CLIPTextNormalizer.referenceNFC("a\u{11935}\u{11930}b")) == [0x61, 0x11935, 0x11930, 0x62])
  }
}
