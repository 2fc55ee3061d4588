import Foundation

/// The CLIP byte-level BPE tokenizer of Stable Diffusion's text encoder, at exact id parity with
/// transformers 5.24's `CLIPTokenizer` (a `tokenizers` 0.23 pipeline, see `CLIPTextNormalizer`):
///
/// text → added-token extraction (`<|startoftext|>`, `<|endoftext|>`, SD2's `!`) → NFC, whitespace runs →
/// one space, lowercase → CLIP pre-token regex → UTF-8 bytes → byte alphabet → BPE with `</w>` on each
/// word's last symbol → `<|startoftext|>` … `<|endoftext|>`.
///
/// Not reproduced, because the pinned reference stack does not do it either: ftfy's text repair
/// (ftfy is not installed and the `tokenizers` backend never calls it) and OpenAI's double
/// `html.unescape` — `&amp;` stays `&amp;`.
///
/// Loading the bundled vocabulary (inflate + build the ranks) takes tens of milliseconds in release
/// builds; encoding a prompt takes microseconds.
public struct CLIPTokenizer: Sendable {
  /// `<|startoftext|>`, 49406 for CLIP.
  public let bosToken: Int
  /// `<|endoftext|>`, 49407 for CLIP.
  public let eosToken: Int
  /// The padding id: 49407 (`<|endoftext|>`) for SD1.x, 0 (`!`) for SD2.x.
  public let padToken: Int
  /// Sequence length of the text encoder including bos and eos (`model_max_length`, 77).
  public let maxLength: Int

  let model: CLIPBPEModel
  var addedTokens: [CLIPAddedToken]
  /// id → the bytes it stands for (`</w>` kept literally), for `decode`.
  var tokenBytes: [[UInt8]]
  /// Added tokens that stand for several ids (a multi-vector textual-inversion trigger word → its
  /// vectors' tokens, see `adding(tokens:)`).
  var expansions: [Int: [Int]] = [:]

  /// Number of token ids (vocabulary plus added tokens beyond it), 49408 for CLIP.
  public var vocabularySize: Int { tokenBytes.count }

  init(vocabulary: [String: Int], merges: [(String, String)], specialTokens: CLIPSpecialTokenConfig) throws {
    try self.init(
      model: CLIPBPEModel(vocabulary: vocabulary, mergeRules: merges), vocabulary: vocabulary,
      specialTokens: specialTokens)
  }

  /// `model` must have been built from `vocabulary`.
  init(model: CLIPBPEModel, vocabulary: [String: Int], specialTokens: CLIPSpecialTokenConfig) throws {
    self.model = model
    let count = (vocabulary.values.max() ?? -1) + 1
    addedTokens = specialTokens.addedTokens(vocabulary: vocabulary, vocabularyCount: count).sorted { $0.id < $1.id }
    var bytes = [[UInt8]](repeating: [], count: max(count, (addedTokens.map(\.id).max() ?? -1) + 1))
    for (token, id) in vocabulary { bytes[id] = CLIPByteAlphabet.decodedBytes(of: token) }
    for token in addedTokens where token.id >= count {
      bytes[token.id] = CLIPByteAlphabet.decodedBytes(of: token.content)
    }
    tokenBytes = bytes
    let added = addedTokens
    func id(_ key: String) throws -> Int {
      let content = specialTokens.content(of: key)
      guard let id = added.first(where: { $0.content == content })?.id ?? vocabulary[content] else {
        throw CLIPTokenizerError.unknownToken(content)
      }
      return id
    }
    bosToken = try id("bos_token")
    eosToken = try id("eos_token")
    padToken = try id("pad_token")
    maxLength = specialTokens.modelMaxLength ?? 77
    guard maxLength >= 3 else { throw CLIPTokenizerError.invalidVocabulary("model_max_length \(maxLength) is below 3") }
  }

  // MARK: - Encoding

  /// The ids of `text` without bos/eos and without truncation.
  public func tokenize(_ text: String) -> [Int] {
    var ids: [Int] = []
    for segment in CLIPTextNormalizer.segments(of: text, addedTokens: addedTokens) {
      switch segment {
      case .token(let id): ids += expansions[id] ?? [id]
      case .text(let scalars):
        for piece in CLIPTextNormalizer.preTokenize(scalars) {
          var utf8: [UInt8] = []
          for scalar in scalars[piece] { utf8.append(contentsOf: scalar.utf8) }
          model.encodeWord(utf8, into: &ids)
        }
      }
    }
    return ids
  }

  /// How many body tokens fit between bos and eos.
  public var bodyLength: Int { maxLength - 2 }

  /// `tokenizer(text, truncation=True, max_length=77).input_ids`: bos, at most 75 tokens, eos; no padding.
  public func encode(_ text: String) -> [Int] {
    [bosToken] + tokenize(text).prefix(bodyLength) + [eosToken]
  }

  /// `tokenizer(text, padding="max_length", max_length=77, truncation=True).input_ids`, as diffusers'
  /// `StableDiffusionPipeline.encode_prompt` calls it, and whether tokens were dropped.
  public func encodePadded(_ text: String) -> (ids: [Int], truncated: Bool) {
    let body = tokenize(text)
    return (padded(body.prefix(bodyLength)), body.count > bodyLength)
  }

  /// Long prompts in the AUTOMATIC1111 manner: the whole token stream cut into chunks of 75, each
  /// wrapped in bos … eos and padded to 77 (each chunk is what `encodePadded` gives for those 75 tokens).
  /// An empty prompt gives one chunk. (A1111 additionally moves a chunk boundary back to the last comma
  /// and, for SD2, puts the padding before the eos; neither is done here.)
  public func encodeChunks(_ text: String) -> [[Int]] {
    let body = tokenize(text)
    guard !body.isEmpty else { return [padded([])] }
    return stride(from: 0, to: body.count, by: bodyLength).map {
      padded(body[$0..<min($0 + bodyLength, body.count)])
    }
  }

  private func padded(_ body: ArraySlice<Int>) -> [Int] {
    var ids = [bosToken] + body + [eosToken]
    ids += repeatElement(padToken, count: maxLength - ids.count)
    return ids
  }

  /// The tokens `encode`/`encodePadded` drop (diffusers' `untruncated_ids[:, model_max_length - 1 : -1]`).
  public func droppedTokens(_ text: String) -> [Int] {
    Array(tokenize(text).dropFirst(bodyLength))
  }

  /// diffusers' warning for a prompt longer than 75 tokens, or nil when nothing is dropped:
  /// "The following part of your input was truncated because CLIP can only handle sequences up to 77
  /// tokens: ['…']".
  public func truncationWarning(for text: String) -> String? {
    let dropped = droppedTokens(text)
    guard !dropped.isEmpty else { return nil }
    return "The following part of your input was truncated because CLIP can only handle sequences up to"
      + " \(maxLength) tokens: [\(Self.pythonRepr(decode(dropped)))]"
  }

  // MARK: - Decoding

  /// `tokenizer.decode(ids)`: the tokens' bytes joined and read as UTF-8 (invalid sequences become
  /// U+FFFD), every `</w>` replaced by a space, then surrounding whitespace stripped. Unknown ids are
  /// skipped; special tokens are kept.
  public func decode(_ ids: [Int]) -> String {
    var bytes: [UInt8] = []
    for id in ids where tokenBytes.indices.contains(id) { bytes += tokenBytes[id] }
    // Replace on bytes, not Characters: a combining mark after "</w>" would join the ">" grapheme.
    // "</w>" is ASCII, so replacing before the lossy UTF-8 decode gives the same text as after it.
    let suffix = Array("</w>".utf8)
    var replaced: [UInt8] = []
    replaced.reserveCapacity(bytes.count)
    var i = 0
    while i < bytes.count {
      if bytes[i] == suffix[0], bytes[i...].starts(with: suffix) {
        replaced.append(UInt8(ascii: " "))
        i += suffix.count
      } else {
        replaced.append(bytes[i])
        i += 1
      }
    }
    return Self.pythonStrip(String(decoding: replaced, as: UTF8.self))
  }

  /// Python's `str.strip()`: removes leading and trailing characters for which `str.isspace()` holds.
  static func pythonStrip(_ text: String) -> String {
    func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace || (0x1C...0x1F).contains(s.value) }
    let scalars = text.unicodeScalars
    guard let first = scalars.firstIndex(where: { !isSpace($0) }),
      let last = scalars.lastIndex(where: { !isSpace($0) })
    else { return "" }
    return String(scalars[first...last])
  }

  /// Python's `repr(str)`, for diffusers' message: single quotes unless the text has `'` and no `"`;
  /// backslash, the quote, `\t` `\n` `\r` escaped; other non-printable scalars (categories Cc, Cf, Cs, Co,
  /// Cn, Zl, Zp, Zs other than the space) as `\xNN`, `\uNNNN` or `\UNNNNNNNN`.
  static func pythonRepr(_ text: String) -> String {
    let quote: Unicode.Scalar = text.contains("'") && !text.contains("\"") ? "\"" : "'"
    var out = String(quote)
    for scalar in text.unicodeScalars {
      switch scalar {
      case "\\", quote: out += "\\" + String(scalar)
      case "\t": out += "\\t"
      case "\n": out += "\\n"
      case "\r": out += "\\r"
      default:
        if isPythonPrintable(scalar) {
          out.unicodeScalars.append(scalar)
        } else {
          let hex = String(scalar.value, radix: 16)
          let (prefix, width) = scalar.value < 0x100 ? ("x", 2) : scalar.value < 0x10000 ? ("u", 4) : ("U", 8)
          out += "\\" + prefix + String(repeating: "0", count: width - hex.count) + hex
        }
      }
    }
    out.unicodeScalars.append(quote)
    return out
  }

  private static func isPythonPrintable(_ scalar: Unicode.Scalar) -> Bool {
    if scalar == " " { return true }
    switch scalar.properties.generalCategory {
    case .control, .format, .surrogate, .privateUse, .unassigned, .lineSeparator, .paragraphSeparator,
      .spaceSeparator:
      return false
    default: return true
    }
  }
}
