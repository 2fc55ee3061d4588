import Foundation

extension CLIPTokenizer {
  /// Loads a Hugging Face tokenizer folder (a diffusers model's `tokenizer/`): `vocab.json` and
  /// `merges.txt` — or `tokenizer.json`, which takes precedence as in transformers and is all that
  /// transformers 5's `save_pretrained` writes — plus the optional `tokenizer_config.json`
  /// (`model_max_length`, special tokens) and `special_tokens_map.json` (SD1 pads with `<|endoftext|>` =
  /// 49407, SD2 with `"!"` = 0). Equivalent to transformers 5.24's `CLIPTokenizer.from_pretrained(folder)`,
  /// except that a folder without `model_max_length` (transformers: unlimited) gets 77, the length of
  /// CLIP's position table.
  public init(folder: URL) throws {
    let tokenizerJSON = folder.appendingPathComponent("tokenizer.json")
    if FileManager.default.fileExists(atPath: tokenizerJSON.path) {
      let file = try Self.readTokenizerJSON(tokenizerJSON)
      try self.init(
        vocabulary: file.vocabulary, merges: file.merges,
        specialTokens: CLIPSpecialTokenConfig.read(folder: folder, tokenizerJSONAddedTokens: file.addedTokens))
      return
    }
    let vocabURL = folder.appendingPathComponent("vocab.json")
    let mergesURL = folder.appendingPathComponent("merges.txt")
    for url in [vocabURL, mergesURL] where !FileManager.default.fileExists(atPath: url.path) {
      throw CLIPTokenizerError.missingFile(url)
    }
    let vocabulary = try Self.readVocabularyJSON(vocabURL)
    let merges = try Self.readMerges(mergesURL)
    try self.init(vocabulary: vocabulary, merges: merges, specialTokens: CLIPSpecialTokenConfig.read(folder: folder))
  }

  /// The tokenizer of OpenAI CLIP ViT-L/14 built from the vocabulary bundled with sdedit
  /// (`bpe_simple_vocab_16e6.txt.gz`, MIT, see `Resources/LICENSE-CLIP.txt`), configured like the Stable
  /// Diffusion tokenizer folders: `padToken` `"<|endoftext|>"` for SD1.x, `"!"` for SD2.x (which also makes
  /// `!` an added token, exactly as loading the SD2 folder does). `maxLength` is 77.
  public static func bundled(padToken: String = "<|endoftext|>") throws -> CLIPTokenizer {
    let (vocabulary, merges) = try CLIPBundledVocabulary.load()
    guard vocabulary[padToken] != nil else { throw CLIPTokenizerError.unknownToken(padToken) }
    return try CLIPTokenizer(
      vocabulary: vocabulary, merges: merges, specialTokens: .standard(padToken: padToken))
  }

  static func readVocabularyJSON(_ url: URL) throws -> [String: Int] {
    try vocabulary(from: readJSONObject(url), file: url)
  }

  /// `tokenizer.json` (a `tokenizers` serialization): `model.vocab`, `model.merges` (as `"left right"`
  /// strings or `[left, right]` pairs) and the `added_tokens` objects.
  static func readTokenizerJSON(
    _ url: URL
  ) throws -> (vocabulary: [String: Int], merges: [(String, String)], addedTokens: [[String: Any]]) {
    let root = try readJSONObject(url)
    guard let model = root["model"] as? [String: Any], (model["type"] as? String ?? "BPE") == "BPE",
      let vocab = model["vocab"], let mergeList = model["merges"] as? [Any]
    else { throw CLIPTokenizerError.invalidFile(url, "has no BPE model with vocab and merges") }
    var merges: [(String, String)] = []
    merges.reserveCapacity(mergeList.count)
    for (index, entry) in mergeList.enumerated() {
      let parts =
        (entry as? String)?.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
        ?? entry as? [String]
      guard let parts, parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw CLIPTokenizerError.invalidFile(url, "merge \(index + 1) is not a pair")
      }
      merges.append((parts[0], parts[1]))
    }
    return (try vocabulary(from: vocab, file: url), merges, root["added_tokens"] as? [[String: Any]] ?? [])
  }

  private static func readJSONObject(_ url: URL) throws -> [String: Any] {
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw CLIPTokenizerError.unreadable(url, "\(error)") }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw CLIPTokenizerError.invalidFile(url, "not a JSON object")
    }
    return object
  }

  private static func vocabulary(from value: Any, file url: URL) throws -> [String: Int] {
    guard let object = value as? [String: Any] else {
      throw CLIPTokenizerError.invalidFile(url, "the vocabulary is not a JSON object of token → id")
    }
    var vocabulary: [String: Int] = [:]
    vocabulary.reserveCapacity(object.count)
    for (token, value) in object {
      guard let number = value as? NSNumber, let id = Int(exactly: number.doubleValue), (0..<(1 << 24)).contains(id)
      else {
        throw CLIPTokenizerError.invalidFile(url, "token \"\(token)\" has no integer id in 0 ..< 16777216")
      }
      vocabulary[token] = id
    }
    return vocabulary
  }

  /// `merges.txt`: one `left right` pair per line; lines starting with `#version` are skipped (as
  /// `tokenizers`' `BPE::read_file` does), and so are empty lines (which `tokenizers` would reject).
  static func readMerges(_ url: URL) throws -> [(String, String)] {
    let text: String
    do { text = try String(contentsOf: url, encoding: .utf8) } catch {
      throw CLIPTokenizerError.unreadable(url, "\(error)")
    }
    // "\r\n" is one Character in Swift, so split on both forms.
    let lines = text.split(omittingEmptySubsequences: false) { $0 == "\n" || $0 == "\r\n" }
    return try parseMerges(lines, file: url)
  }

  static func parseMerges(_ lines: [Substring], file: URL) throws -> [(String, String)] {
    var merges: [(String, String)] = []
    merges.reserveCapacity(lines.count)
    for (number, line) in lines.enumerated() {
      if line.hasPrefix("#version") { continue }
      if line.isEmpty { continue }
      let parts = line.split(separator: " ", omittingEmptySubsequences: false)
      guard parts.count == 2, !parts[0].isEmpty, !parts[1].isEmpty else {
        throw CLIPTokenizerError.invalidFile(file, "line \(number + 1) is not a merge \"left right\"")
      }
      merges.append((String(parts[0]), String(parts[1])))
    }
    return merges
  }
}

/// OpenAI's `bpe_simple_vocab_16e6.txt.gz`, bundled as a SwiftPM resource of SDModels.
enum CLIPBundledVocabulary {
  static let fileName = "bpe_simple_vocab_16e6.txt.gz"
  /// The folder SwiftPM copies next to the built products on Linux (`<package>_<target>.resources`).
  static let bundleName = "sdedit_SDModels.resources"
  /// `49152 − 256 − 2` merges are used, as in `clip/simple_tokenizer.py` (`merges[1:49152-256-2+1]`).
  static let mergeCount = 48_894
  static let vocabularySize = 49_408

  /// Places the resource may be, in order: next to the running executable (how SwiftPM lays out
  /// `sdedit` and the test runner), then the source tree this file was compiled from.
  static var candidates: [URL] {
    var folders: [URL] = [Bundle.main.bundleURL]
    if let executable = Bundle.main.executableURL?.resolvingSymlinksInPath() {
      folders.append(executable.deletingLastPathComponent())
    }
    var urls = folders.map {
      $0.appendingPathComponent(bundleName).appendingPathComponent("Resources").appendingPathComponent(fileName)
    }
    urls.append(
      URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Resources").appendingPathComponent(fileName))
    var seen = Set<String>()
    return urls.filter { seen.insert($0.standardizedFileURL.path).inserted }
  }

  static func locate() throws -> URL {
    let searched = candidates
    guard let found = searched.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
      throw CLIPTokenizerError.bundledVocabularyMissing(searched: searched)
    }
    return found
  }

  /// Reads the bundled file and builds the vocabulary exactly as OpenAI's `SimpleTokenizer.__init__`:
  /// the 256 byte-alphabet symbols, the same with `</w>`, one token per merge (the pair joined), then
  /// `<|startoftext|>` and `<|endoftext|>`; ids in that order.
  static func load() throws -> (vocabulary: [String: Int], merges: [(String, String)]) {
    let url = try locate()
    let compressed: [UInt8]
    do { compressed = Array(try Data(contentsOf: url)) } catch {
      throw CLIPTokenizerError.unreadable(url, "\(error)")
    }
    let text: [UInt8]
    do { text = try Inflate.gunzip(compressed, maxOutput: 1 << 24) } catch {
      throw CLIPTokenizerError.corruptBundledVocabulary(url, "\(error)")
    }
    return try build(fromBPEFile: text, url: url)
  }

  static func build(fromBPEFile text: [UInt8], url: URL) throws -> (
    vocabulary: [String: Int], merges: [(String, String)]
  ) {
    // Lines 1 … mergeCount (line 0 is the version header).
    var lines: [Substring] = []
    lines.reserveCapacity(mergeCount + 1)
    var start = 0
    for (index, byte) in text.enumerated() where byte == UInt8(ascii: "\n") {
      lines.append(Substring(String(decoding: text[start..<index], as: UTF8.self)))
      start = index + 1
      if lines.count == mergeCount + 1 { break }
    }
    guard lines.count == mergeCount + 1 else {
      throw CLIPTokenizerError.corruptBundledVocabulary(url, "fewer than \(mergeCount) merges")
    }
    let merges = try CLIPTokenizer.parseMerges(Array(lines.dropFirst()), file: url)
    guard merges.count == mergeCount else {
      throw CLIPTokenizerError.corruptBundledVocabulary(url, "expected \(mergeCount) merges, found \(merges.count)")
    }
    var tokens = CLIPByteAlphabet.scalars.map { String($0) }
    tokens += tokens.map { $0 + "</w>" }
    tokens += merges.map { $0.0 + $0.1 }
    tokens += ["<|startoftext|>", "<|endoftext|>"]
    var vocabulary: [String: Int] = [:]
    vocabulary.reserveCapacity(tokens.count)
    for (id, token) in tokens.enumerated() { vocabulary[token] = id }
    guard tokens.count == vocabularySize, vocabulary.count == vocabularySize else {
      throw CLIPTokenizerError.corruptBundledVocabulary(
        url, "vocabulary has \(vocabulary.count) distinct tokens, not \(vocabularySize)")
    }
    return (vocabulary, merges)
  }
}
