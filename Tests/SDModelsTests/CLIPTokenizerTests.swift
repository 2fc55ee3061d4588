import Foundation
import SDTestSupport
import Testing

@testable import SDModels

/// Exact id parity of `CLIPTokenizer` with transformers 5.24 (`Tests/Fixtures/tokenizer/prompts.json`,
/// written by `scripts/fixtures/tokenizer.py`).
@Suite struct CLIPTokenizerTests {
  static let sd1 = Result { try CLIPTokenizer.bundled() }
  static let sd2 = Result { try CLIPTokenizer.bundled(padToken: "!") }
  static let fixture = Result { try TokenizerFixture.load() }

  @Test func astronautPromptMatchesApplesPinnedIDs() throws {
    let ids = try Self.sd1.get().encode("a photo of an astronaut riding a horse on mars")
    #expect(ids == [49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407])
  }

  @Test func bundledVocabularyShape() throws {
    let sd1 = try Self.sd1.get()
    #expect(sd1.vocabularySize == 49408)
    #expect(sd1.model.merges.count == 48894)
    #expect((sd1.bosToken, sd1.eosToken, sd1.padToken, sd1.maxLength) == (49406, 49407, 49407, 77))
    let sd2 = try Self.sd2.get()
    #expect((sd2.bosToken, sd2.eosToken, sd2.padToken, sd2.maxLength) == (49406, 49407, 0, 77))
    #expect(
      sd1.addedTokens == [
        CLIPAddedToken(content: "<|startoftext|>", id: 49406, normalized: true),
        CLIPAddedToken(content: "<|endoftext|>", id: 49407, normalized: false),
      ])
    #expect(
      sd2.addedTokens == [
        CLIPAddedToken(content: "!", id: 0, normalized: false),
        CLIPAddedToken(content: "<|startoftext|>", id: 49406, normalized: true),
        CLIPAddedToken(content: "<|endoftext|>", id: 49407, normalized: true),
      ])
    #expect(throws: CLIPTokenizerError.unknownToken("<nope>")) { try CLIPTokenizer.bundled(padToken: "<nope>") }
  }

  @Test func sd1PromptsMatchTransformers() throws {
    let tokenizer = try Self.sd1.get()
    let cases = try Self.fixture.get().sd1
    #expect(cases.count >= 300)
    for entry in cases { try Self.check(tokenizer, entry) }
  }

  @Test func sd2PromptsMatchTransformers() throws {
    let tokenizer = try Self.sd2.get()
    for entry in try Self.fixture.get().sd2 { try Self.check(tokenizer, entry) }
  }

  static func check(_ tokenizer: CLIPTokenizer, _ entry: TokenizerFixture.Prompt) throws {
    let text = entry.text
    let body = tokenizer.tokenize(text)
    #expect([tokenizer.bosToken] + body + [tokenizer.eosToken] == entry.ids, "ids of \(text.debugDescription)")
    let padded = tokenizer.encodePadded(text)
    #expect(padded.ids == entry.padded, "padded ids of \(text.debugDescription)")
    #expect(padded.truncated == (entry.ids.count > 77))
    let unpadded = Array(entry.ids.prefix(76)) + [tokenizer.eosToken]
    #expect(tokenizer.encode(text) == (entry.ids.count > 77 ? unpadded : entry.ids))
    #expect(tokenizer.decode(entry.ids) == entry.decoded, "decode of \(text.debugDescription)")
    if let dropped = entry.droppedText {
      #expect(tokenizer.droppedTokens(text) == Array(entry.ids[76..<(entry.ids.count - 1)]))
      #expect(tokenizer.decode(tokenizer.droppedTokens(text)) == dropped)
      #expect(tokenizer.truncationWarning(for: text) == entry.warning)
    } else {
      #expect(tokenizer.droppedTokens(text).isEmpty)
      #expect(tokenizer.truncationWarning(for: text) == nil)
    }
  }

  @Test func chunksCoverTheWholePrompt() throws {
    let tokenizer = try Self.sd1.get()
    for entry in try Self.fixture.get().sd1 {
      let body = Array(entry.ids.dropFirst().dropLast())
      let chunks = tokenizer.encodeChunks(entry.text)
      #expect(chunks.count == max(1, (body.count + 74) / 75))
      #expect(chunks.allSatisfy { $0.count == 77 && $0.first == 49406 })
      let recovered = chunks.flatMap { chunk in
        chunk.dropFirst().prefix { $0 != 49407 }  // SD1: eos and padding are 49407
      }
      if !body.contains(49407) { #expect(recovered == body) }
      if body.count <= 75 { #expect(chunks == [entry.padded]) }
    }
    let sd2 = try Self.sd2.get()
    let long = String(repeating: "cat ", count: 80)
    let chunks = sd2.encodeChunks(long)
    #expect(chunks.count == 2)
    #expect(chunks[1] == [49406] + Array(repeating: 2368, count: 5) + [49407] + Array(repeating: 0, count: 70))
  }

  @Test func decodeIsLossyAndStrips() throws {
    let tokenizer = try Self.sd1.get()
    #expect(tokenizer.decode([]) == "")
    #expect(tokenizer.decode([320, 999_999, -1, 1125]) == "a photo")
    #expect(tokenizer.decode([139]) == "\u{FFFD}")  // a lone UTF-8 lead byte
    #expect(CLIPTokenizer.pythonRepr("it's") == "\"it's\"")
    #expect(CLIPTokenizer.pythonRepr("a\\b\t\u{1F600}\u{E000}") == "'a\\\\b\\t\u{1F600}\\ue000'")
  }

  /// Long words go through the heap (`tokenizers`' algorithm); it must agree with the short-word scan.
  @Test func heapAndScanMergeIdentically() throws {
    let model = try Self.sd1.get().model
    var words = try Self.fixture.get().sd1.map { $0.text.lowercased().filter { !$0.isWhitespace } }
    words += [
      "supercalifragilisticexpialidocious", String(repeating: "ab", count: 300), String(repeating: "🙂", count: 40),
    ]
    words.append(words.joined())
    for word in words where !word.isEmpty {
      let symbols = model.initialSymbols(Array(word.utf8))
      #expect(model.mergeShort(symbols) == model.mergeLong(symbols), "\(word)")
    }
    let clock = ContinuousClock()
    let tokenizer = try Self.sd1.get()
    let elapsed = clock.measure { _ = tokenizer.tokenize(String(repeating: "abcdefghij", count: 10_000)) }
    #if !DEBUG
      #expect(elapsed < .seconds(2), "a 100 000-byte word took \(elapsed)")
    #endif
  }

  /// Building the vocabulary and merge ranks must stay well under a second in release builds
  /// (about 0.08 s on the development machine; debug builds only get a loose bound).
  @Test func loadsQuickly() throws {
    #if DEBUG
      let limit = Duration.seconds(20)
    #else
      let limit = Duration.seconds(1)
    #endif
    let clock = ContinuousClock()
    let elapsed = try clock.measure { _ = try CLIPTokenizer.bundled() }
    #expect(elapsed < limit, "bundled() took \(elapsed)")
    let tokenizer = try Self.sd1.get()
    let prompts = try Self.fixture.get().sd1.map(\.text)
    let encodeAll = clock.measure { for prompt in prompts { _ = tokenizer.encodePadded(prompt) } }
    #expect(encodeAll < limit, "encoding \(prompts.count) prompts took \(encodeAll)")
  }
}

/// `Tests/Fixtures/tokenizer/prompts.json`.
struct TokenizerFixture {
  struct Prompt {
    var text: String
    var ids: [Int]
    var padded: [Int]
    var decoded: String
    var droppedText: String?
    /// diffusers' truncation warning, when tokens are dropped.
    var warning: String?
  }

  var sd1: [Prompt]
  var sd2: [Prompt]
  /// Config variants, as JSON objects.
  var variants: [[String: Any]]

  static func load() throws -> TokenizerFixture {
    let object = try JSONSerialization.jsonObject(with: Fixtures.data("tokenizer/prompts.json"))
    guard let root = object as? [String: Any], let sd1 = root["sd1"] as? [[String: Any]],
      let sd2 = root["sd2"] as? [[String: Any]], let variants = root["variants"] as? [[String: Any]]
    else { throw FixtureError("prompts.json has an unexpected layout") }
    return TokenizerFixture(sd1: try sd1.map(prompt), sd2: try sd2.map(prompt), variants: variants)
  }

  static func prompt(_ object: [String: Any]) throws -> Prompt {
    guard let text = object["text"] as? String, let ids = object["ids"] as? [Int],
      let padded = object["padded"] as? [Int], let decoded = object["decoded"] as? String
    else { throw FixtureError("bad prompt entry \(object)") }
    return Prompt(
      text: text, ids: ids, padded: padded, decoded: decoded, droppedText: object["dropped_text"] as? String,
      warning: object["warning"] as? String)
  }
}

struct FixtureError: Error, CustomStringConvertible {
  var description: String
  init(_ description: String) { self.description = description }
}
