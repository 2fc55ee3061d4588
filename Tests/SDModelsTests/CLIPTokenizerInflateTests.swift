import Foundation
import SDTestSupport
import Testing

@testable import SDModels

/// The gzip/DEFLATE decoder that reads the bundled CLIP vocabulary. Fixtures are made by Python's
/// `zlib` (`scripts/fixtures/tokenizer.py`): stored, fixed-Huffman and dynamic-Huffman blocks, optional
/// header fields, several members.
@Suite struct CLIPTokenizerInflateTests {
  static let cases = ["stored", "fixed", "dynamic", "binary", "runs", "empty", "header_fields", "two_members"]

  static func bytes(_ name: String) throws -> [UInt8] { Array(try Fixtures.data("tokenizer/gzip/\(name)")) }

  @Test(arguments: cases) func decodesZlibOutput(_ name: String) throws {
    let output = try Inflate.gunzip(Self.bytes("\(name).gz"))
    #expect(output == (try Self.bytes("\(name).bin")))
  }

  @Test func decodesTheBundledVocabulary() throws {
    let url = try CLIPBundledVocabulary.locate()
    let compressed = Array(try Data(contentsOf: url))
    #expect(compressed.count == 1_356_917)
    let text = try Inflate.gunzip(compressed)
    #expect(text.count == 3_194_984)
    #expect(text.lazy.filter { $0 == UInt8(ascii: "\n") }.count == 262_145)
    #expect(String(decoding: text.prefix(28), as: UTF8.self) == "\"bpe_simple_vocab_16e6.txt#v")
  }

  @Test func rejectsEveryTruncation() throws {
    // (Not two_members: cut right after its first member it is a valid one-member file.)
    for name in ["runs", "header_fields", "fixed", "empty"] {
      let data = try Self.bytes("\(name).gz")
      for length in 0..<data.count {
        #expect(throws: InflateError.self, "\(name) cut at \(length)") { try Inflate.gunzip(Array(data[..<length])) }
      }
    }
  }

  @Test func rejectsCorruption() throws {
    let data = try Self.bytes("dynamic.gz")
    var generator = SplitMix64(seed: 42)
    var failures = 0
    for _ in 0..<400 {
      // Bytes 4…9 (MTIME, XFL, OS) are informational and not checked, so flip bits after them.
      var damaged = data
      let index = 10 + Int(generator.next() % UInt64(data.count - 10))
      damaged[index] ^= UInt8(1 << (generator.next() % 8))
      do {
        _ = try Inflate.gunzip(damaged)
      } catch {
        failures += 1
      }
    }
    // A flip in the padding bits after the last block goes unnoticed; anything else must be caught
    // (by the CRC-32 at the latest) and nothing may trap.
    #expect(failures >= 395)

    var garbage = [UInt8](repeating: 0, count: 4096)
    for i in garbage.indices { garbage[i] = UInt8(truncatingIfNeeded: generator.next()) }
    #expect(throws: InflateError.self) { try Inflate.gunzip(garbage) }
    #expect(throws: InflateError.badHeader("not a gzip file")) { try Inflate.gunzip([0x50, 0x4b, 3, 4] + garbage) }
    let header: [UInt8] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]
    #expect(throws: InflateError.self) { try Inflate.gunzip(header + garbage) }
    // A stored block whose length does not match its complement.
    #expect(throws: InflateError.badStoredLength) {
      try Inflate.gunzip(header + [0x01, 5, 0, 5, 0] + [0, 0, 0, 0, 0, 0, 0, 0])
    }
    // Fixed-Huffman blocks (bytes checked against Python's zlib): literal "a", then a match of length 3
    // at distance 1 → "aaaa"; the same with distance 2 reaches before the start of the output.
    let aaaa: [UInt8] = [75, 4, 2, 0]
    let trailer: [UInt8] = [0x45, 0xE5, 0x98, 0xAD, 4, 0, 0, 0]  // CRC-32("aaaa") = 0xAD98E545, length 4
    #expect(try Inflate.gunzip(header + aaaa + trailer) == Array("aaaa".utf8))
    #expect(throws: InflateError.badDistance) { try Inflate.gunzip(header + [75, 4, 66, 0] + trailer) }
  }

  @Test func refusesOversizedOutput() throws {
    let data = try Self.bytes("runs.gz")
    #expect(throws: InflateError.outputTooLarge) { try Inflate.gunzip(data, maxOutput: 100) }
  }
}

/// A small deterministic generator for the corruption test.
struct SplitMix64 {
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
