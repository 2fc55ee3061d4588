import Foundation
import SDTestSupport
import Testing

@testable import SDModels

/// Loading Hugging Face tokenizer folders: the special-token rules of transformers 5.24 for the config
/// variants in `prompts.json`, and errors for broken folders.
@Suite struct CLIPTokenizerFolderTests {
  /// vocab.json and merges.txt made from the bundled vocabulary (as the fixture script makes them).
  static let vocabularyFiles = Result { () throws -> (vocab: Data, merges: Data) in
    let (vocabulary, merges) = try CLIPBundledVocabulary.load()
    let vocab = try JSONSerialization.data(withJSONObject: vocabulary)
    let text = "#version: 0.2\n" + merges.map { "\($0.0) \($0.1)\n" }.joined()
    return (vocab, Data(text.utf8))
  }

  static func makeFolder(config: Any?, specialTokensMap: Any?, withVocabulary: Bool = true) throws -> URL {
    let folder = try Fixtures.temporaryDirectory("clip-tokenizer")
    if withVocabulary {
      let files = try vocabularyFiles.get()
      try files.vocab.write(to: folder.appendingPathComponent("vocab.json"))
      try files.merges.write(to: folder.appendingPathComponent("merges.txt"))
    }
    for (name, object) in [("tokenizer_config.json", config), ("special_tokens_map.json", specialTokensMap)] {
      guard let object, !(object is NSNull) else { continue }
      try JSONSerialization.data(withJSONObject: object).write(to: folder.appendingPathComponent(name))
    }
    return folder
  }

  /// Every variant's special-token files, read from a folder and combined with the bundled vocabulary
  /// (only the two Stable Diffusion variants also read vocab.json and merges.txt, which is slower).
  @Test func configVariantsMatchTransformers() throws {
    let variants = try CLIPTokenizerTests.fixture.get().variants
    #expect(variants.count >= 10)
    let (vocabulary, merges) = try CLIPBundledVocabulary.load()
    let model = try CLIPBPEModel(vocabulary: vocabulary, mergeRules: merges)
    for variant in variants {
      let name = variant["name"] as? String ?? "?"
      let readVocabulary = ["sd1_legacy", "sd2_legacy"].contains(name)
      let folder = try Self.makeFolder(
        config: variant["tokenizer_config"], specialTokensMap: variant["special_tokens_map"],
        withVocabulary: readVocabulary)
      defer { try? FileManager.default.removeItem(at: folder) }
      if let added = variant["tokenizer_json_added_tokens"] as? [[String: Any]] {
        // A folder as transformers 5's save_pretrained writes it: everything in tokenizer.json.
        let bpe: [String: Any] = ["type": "BPE", "vocab": vocabulary, "merges": merges.map { [$0.0, $0.1] }]
        try JSONSerialization.data(withJSONObject: ["model": bpe, "added_tokens": added])
          .write(to: folder.appendingPathComponent("tokenizer.json"))
        Self.check(try CLIPTokenizer(folder: folder), against: variant)
        continue
      }
      let tokenizer =
        try readVocabulary
        ? CLIPTokenizer(folder: folder)
        : CLIPTokenizer(
          model: model, vocabulary: vocabulary, specialTokens: CLIPSpecialTokenConfig.read(folder: folder))
      Self.check(tokenizer, against: variant)
    }
  }

  static func check(_ tokenizer: CLIPTokenizer, against variant: [String: Any]) {
    let name = variant["name"] as? String ?? "?"
    let expectedAdded = (variant["added_tokens"] as? [[Any]] ?? []).map {
      CLIPAddedToken(content: $0[0] as? String ?? "", id: $0[1] as? Int ?? -1, normalized: $0[2] as? Bool ?? false)
    }
    #expect(tokenizer.addedTokens == expectedAdded, "added tokens of \(name)")
    #expect(tokenizer.bosToken == variant["bos"] as? Int, "bos of \(name)")
    #expect(tokenizer.eosToken == variant["eos"] as? Int, "eos of \(name)")
    #expect(tokenizer.padToken == variant["pad"] as? Int, "pad of \(name)")
    #expect(tokenizer.maxLength == (variant["max_length"] as? Int ?? 77), "max length of \(name)")
    for sample in variant["samples"] as? [[String: Any]] ?? [] {
      let text = sample["text"] as? String ?? ""
      let body = tokenizer.tokenize(text)
      #expect([tokenizer.bosToken] + body + [tokenizer.eosToken] == sample["ids"] as? [Int], "\(name): \(text)")
      if let padded = sample["padded"] as? [Int] {
        #expect(tokenizer.encodePadded(text).ids == padded, "\(name) padded: \(text)")
      }
    }
  }

  @Test func folderAndBundledAgree() throws {
    let variants = try CLIPTokenizerTests.fixture.get().variants
    let sd1Files = try #require(variants.first { $0["name"] as? String == "sd1_legacy" })
    let folder = try Self.makeFolder(
      config: sd1Files["tokenizer_config"], specialTokensMap: sd1Files["special_tokens_map"])
    defer { try? FileManager.default.removeItem(at: folder) }
    let fromFolder = try CLIPTokenizer(folder: folder)
    let bundled = try CLIPTokenizerTests.sd1.get()
    #expect(fromFolder.tokenBytes == bundled.tokenBytes)
    #expect(fromFolder.model.merges == bundled.model.merges)
    #expect(fromFolder.addedTokens == bundled.addedTokens)
  }

  @Test func brokenFoldersThrow() throws {
    let folder = try Fixtures.temporaryDirectory("clip-tokenizer-broken")
    defer { try? FileManager.default.removeItem(at: folder) }
    let vocabURL = folder.appendingPathComponent("vocab.json")
    let mergesURL = folder.appendingPathComponent("merges.txt")
    #expect(throws: CLIPTokenizerError.missingFile(vocabURL)) { try CLIPTokenizer(folder: folder) }

    try Data("[1, 2]".utf8).write(to: vocabURL)
    try Data("#version: 0.2\n".utf8).write(to: mergesURL)
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }

    try Data(#"{"a": 0, "b": 1}"#.utf8).write(to: vocabURL)
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }  // no byte symbols

    let files = try Self.vocabularyFiles.get()
    try files.vocab.write(to: vocabURL)
    try Data("#version: 0.2\ni n\nthis is three\n".utf8).write(to: mergesURL)
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }
    try Data("#version: 0.2\ni n\nq \u{1F600}\n".utf8).write(to: mergesURL)
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }

    try Data("#version: 0.2\r\ni n\r\n".utf8).write(to: mergesURL)  // CRLF line ends are accepted
    try Data("not json".utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }
    try Data(#"{"model_max_length": 2}"#.utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }
    try Data(#"{"model_max_length": 77}"#.utf8).write(to: folder.appendingPathComponent("tokenizer_config.json"))
    let tiny = try CLIPTokenizer(folder: folder)  // one merge: still a valid byte-level BPE
    #expect(tiny.tokenize("in") == [72, 333])  // "i", "n</w>": the merge "i n" does not apply to "n</w>"
    #expect(tiny.tokenize("inn") == [512, 333])  // "in", "n</w>"

    // tokenizer.json takes precedence over vocab.json + merges.txt.
    let tokenizerJSON = folder.appendingPathComponent("tokenizer.json")
    try Data(#"{"model": {"type": "Unigram", "vocab": []}}"#.utf8).write(to: tokenizerJSON)
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }
    try Data(#"{"model": {"vocab": {"a": 0}, "merges": ["a b c"]}}"#.utf8).write(to: tokenizerJSON)
    #expect(throws: CLIPTokenizerError.self) { try CLIPTokenizer(folder: folder) }
  }

  @Test func bundledResourceIsFoundAndErrorsAreClear() throws {
    let url = try CLIPBundledVocabulary.locate()
    #expect(url.lastPathComponent == "bpe_simple_vocab_16e6.txt.gz")
    let error = CLIPTokenizerError.bundledVocabularyMissing(searched: CLIPBundledVocabulary.candidates)
    #expect(error.description.contains("sdedit_SDModels.resources"))
  }
}
