import Foundation

/// The special-token settings of a Hugging Face tokenizer folder (`tokenizer_config.json`,
/// `special_tokens_map.json`), resolved the way transformers 5.24's `PreTrainedTokenizerBase.
/// _from_pretrained` and `TokenizersBackend.__init__` do for `CLIPTokenizer`:
///
/// - `tokenizer_config.json` gives the named tokens (`bos_token`, `eos_token`, `unk_token`, `pad_token`, …)
///   as strings or `{"__type": "AddedToken", …}` objects, and `model_max_length`.
/// - Without an `added_tokens_decoder` in it, `special_tokens_map.json` overrides those entries (its objects
///   are special tokens) and `tokenizer.json`'s `added_tokens`, if any, serve as `added_tokens_decoder`; with
///   one, neither is read. A named token whose content is in `added_tokens_decoder` takes that entry's flags.
/// - The added tokens are then: `added_tokens_decoder` (by id), followed by the named tokens in the order
///   bos, eos, unk, sep, pad, cls, mask — skipping contents already in `added_tokens_decoder` and values equal
///   to one already listed (a string never equals an object) — and for a repeated content the last listed
///   flags win. A named string becomes a special token with `normalized = false`; an object without
///   `normalized` gets `normalized = !special`, every named token counting as special. Missing names
///   default to CLIP's `<|startoftext|>` (bos) and `<|endoftext|>` (eos, unk, pad).
///
/// Consequences for the Stable Diffusion folders: SD1.x matches `<|startoftext|>` after lowercasing and
/// `<|endoftext|>` exactly; SD2.x (pad `"!"`) turns every `!` of a prompt into id 0 instead of BPE `!</w>`.
/// Only `content` and `normalized` matter to CLIP's pipeline; `lstrip`/`rstrip`/`single_word` are compared
/// but not applied (no CLIP folder sets them).
struct CLIPSpecialTokenConfig {
  /// One named or added token as written in the JSON files.
  struct Token: Equatable {
    var content: String
    var isString: Bool  // given as a bare string
    var normalized: Bool?  // nil: not given
    var special: Bool
    var lstrip = false
    var rstrip = false
    var singleWord = false
  }

  static let namedKeys = ["bos_token", "eos_token", "unk_token", "sep_token", "pad_token", "cls_token", "mask_token"]

  var named: [String: Token] = [:]
  var addedTokensDecoder: [(id: Int, token: Token)] = []
  var modelMaxLength: Int?

  /// The standard files of the Stable Diffusion tokenizer folders (SD1.x `openai/clip-vit-large-patch14`
  /// style): bos/eos/unk objects with `normalized: true`, `pad_token` a string.
  static func standard(padToken: String) -> Self {
    func object(_ content: String) -> Token {
      Token(content: content, isString: false, normalized: true, special: true)
    }
    var config = Self()
    config.named = [
      "bos_token": object("<|startoftext|>"), "eos_token": object("<|endoftext|>"),
      "unk_token": object("<|endoftext|>"),
      "pad_token": Token(content: padToken, isString: true, normalized: nil, special: true),
    ]
    config.modelMaxLength = 77
    return config
  }

  /// Reads the two JSON files from `folder` (both optional). `tokenizerJSONAddedTokens`: the
  /// `added_tokens` of the folder's `tokenizer.json`, which transformers uses as `added_tokens_decoder` when
  /// `tokenizer_config.json` has none.
  static func read(folder: URL, tokenizerJSONAddedTokens: [[String: Any]] = []) throws -> Self {
    var config = Self()
    let configURL = folder.appendingPathComponent("tokenizer_config.json")
    let tokenizerConfig = try readJSONObject(configURL) ?? [:]
    if let length = tokenizerConfig["model_max_length"] as? NSNumber, length.doubleValue >= 1,
      length.doubleValue < 1e9
    {
      config.modelMaxLength = length.intValue
    }
    for key in namedKeys {
      if let token = try parseToken(tokenizerConfig[key], inSpecialTokensMap: false, file: configURL) {
        config.named[key] = token
      }
    }
    if let decoder = tokenizerConfig["added_tokens_decoder"] as? [String: Any] {
      for (idText, value) in decoder {
        guard let id = Int(idText),
          let token = try parseToken(value, inSpecialTokensMap: false, file: configURL, requireType: false)
        else { throw CLIPTokenizerError.invalidFile(configURL, "bad added_tokens_decoder entry \"\(idText)\"") }
        config.addedTokensDecoder.append((id, token))
      }
    } else {
      let mapURL = folder.appendingPathComponent("special_tokens_map.json")
      for (key, value) in try readJSONObject(mapURL) ?? [:] where namedKeys.contains(key) {
        if let token = try parseToken(value, inSpecialTokensMap: true, file: mapURL) { config.named[key] = token }
      }
      let jsonURL = folder.appendingPathComponent("tokenizer.json")
      for object in tokenizerJSONAddedTokens {
        guard let id = object["id"] as? Int,
          let token = try parseToken(object, inSpecialTokensMap: false, file: jsonURL, requireType: false)
        else { throw CLIPTokenizerError.invalidFile(jsonURL, "bad added_tokens entry") }
        config.addedTokensDecoder.append((id, token))
      }
    }
    config.addedTokensDecoder.sort { $0.id < $1.id }
    // Named tokens whose content is an added token take that token's flags.
    let byContent = Dictionary(
      config.addedTokensDecoder.map { ($0.token.content, $0.token) }, uniquingKeysWith: { $1 })
    for (key, token) in config.named { config.named[key] = byContent[token.content] ?? token }
    return config
  }

  private static func readJSONObject(_ url: URL) throws -> [String: Any]? {
    guard FileManager.default.fileExists(atPath: url.path) else { return nil }
    let data: Data
    do { data = try Data(contentsOf: url) } catch { throw CLIPTokenizerError.unreadable(url, "\(error)") }
    guard let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
      throw CLIPTokenizerError.invalidFile(url, "not a JSON object")
    }
    return object
  }

  /// A string, or an object (in `tokenizer_config.json` only with `"__type": "AddedToken"`, else ignored as
  /// transformers does not convert it); `nil`/`null` means absent.
  private static func parseToken(
    _ value: Any?, inSpecialTokensMap: Bool, file: URL, requireType: Bool = true
  ) throws -> Token? {
    if let string = value as? String { return Token(content: string, isString: true, normalized: nil, special: true) }
    guard let object = value as? [String: Any] else { return nil }
    if !inSpecialTokensMap, requireType, object["__type"] as? String != "AddedToken" { return nil }
    guard let content = object["content"] as? String else {
      throw CLIPTokenizerError.invalidFile(file, "a token object has no \"content\"")
    }
    let special = inSpecialTokensMap ? true : (object["special"] as? Bool ?? false)
    return Token(
      content: content, isString: false, normalized: object["normalized"] as? Bool, special: special,
      lstrip: object["lstrip"] as? Bool ?? false, rstrip: object["rstrip"] as? Bool ?? false,
      singleWord: object["single_word"] as? Bool ?? false)
  }

  /// Named token content with CLIP's defaults.
  func content(of key: String) -> String {
    if let token = named[key] { return token.content }
    return key == "bos_token" ? "<|startoftext|>" : "<|endoftext|>"
  }

  /// The added-token list (see the type's documentation), with ids from `vocabulary` or, for contents
  /// it lacks, new ids from `vocabularyCount` on.
  func addedTokens(vocabulary: [String: Int], vocabularyCount: Int) -> [CLIPAddedToken] {
    var listed: [Token] = addedTokensDecoder.map(\.token)
    let decoderContents = Set(listed.map(\.content))
    var fromDecoder: [String: Int] = [:]
    for (id, token) in addedTokensDecoder { fromDecoder[token.content] = id }
    for key in Self.namedKeys {
      guard let token = named[key] ?? Self.defaultNamed(key) else { continue }
      if decoderContents.contains(token.content) || listed.contains(token) { continue }
      listed.append(token)
    }
    var result: [CLIPAddedToken] = []
    var nextID = vocabularyCount
    let namedContents = Set(Self.namedKeys.compactMap { named[$0]?.content })
    for token in listed {
      let isSpecial = token.special || namedContents.contains(token.content) || token.isString
      let normalized = token.isString ? false : (token.normalized ?? !isSpecial)
      if let index = result.firstIndex(where: { $0.content == token.content }) {
        result[index].normalized = normalized
        continue
      }
      let id: Int
      if let known = fromDecoder[token.content] ?? vocabulary[token.content] {
        id = known
      } else {
        id = nextID
        nextID += 1
      }
      result.append(CLIPAddedToken(content: token.content, id: id, normalized: normalized))
    }
    return result
  }

  private static func defaultNamed(_ key: String) -> Token? {
    switch key {
    case "bos_token": return Token(content: "<|startoftext|>", isString: true, normalized: nil, special: true)
    case "eos_token", "unk_token", "pad_token":
      return Token(content: "<|endoftext|>", isString: true, normalized: nil, special: true)
    default: return nil
    }
  }
}
