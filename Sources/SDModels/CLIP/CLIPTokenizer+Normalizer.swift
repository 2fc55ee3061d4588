import Foundation

/// The text pipeline in front of the BPE, as transformers 5.24's `CLIPTokenizer` configures the
/// `tokenizers` backend (transformers `models/clip/tokenization_clip.py`, tokenizers 0.23):
///
/// 1. normalizer `Sequence([NFC(), Replace(Regex("\s+"), " "), Lowercase()])` — no `strip`;
/// 2. pre-tokenizer `Split(pattern, behavior: removed, invert: true)` with the pattern
///    `<\|startoftext\|>|<\|endoftext\|>|'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+`
///    (case-sensitive; only the matches are kept, so whitespace disappears), followed by
///    `ByteLevel(add_prefix_space: false, use_regex: true)`, whose GPT-2 split changes nothing for these
///    pieces except a literal `<|startoftext|>`/`<|endoftext|>`, which it cuts into `<|`, the word, `|>`.
///
/// ftfy is not installed in the pinned reference stack, and the `tokenizers` backend never calls it
/// (nor `html.unescape`, which OpenAI's original tokenizer applies), so neither is reproduced here:
/// `&amp;` stays three tokens.
enum CLIPTextNormalizer {
  /// NFC, then every run of whitespace → one space, then per-scalar full lowercase mapping (Rust's
  /// `char::to_lowercase`: `İ` → `i̇`, and a final `Σ` becomes `σ`, not `ς`).
  static func normalize(_ text: Substring) -> [Unicode.Scalar] {
    let composed = referenceNFC(text)
    var out: [Unicode.Scalar] = []
    out.reserveCapacity(composed.count)
    var inWhitespace = false
    for scalar in composed {
      if isWhitespace(scalar) {
        if !inWhitespace { out.append(" ") }
        inWhitespace = true
        continue
      }
      inWhitespace = false
      appendLowercased(scalar, to: &out)
    }
    return out
  }

  /// Rust's `char::to_lowercase` (the full, context-free lowercase mapping), as `Lowercase()` applies it.
  @inline(__always) static func appendLowercased(_ scalar: Unicode.Scalar, to out: inout [Unicode.Scalar]) {
    if scalar.isASCII {
      let v = scalar.value
      out.append((0x41...0x5A).contains(v) ? Unicode.Scalar(UInt8(v + 0x20)) : scalar)
    } else {
      out.append(contentsOf: scalar.properties.lowercaseMapping.unicodeScalars)
    }
  }

  /// NFC as the reference `tokenizers` build computes it, from Foundation's
  /// `precomposedStringWithCanonicalMapping` with two corrections (found by comparing all canonical
  /// decompositions and 2.5 million composite + mark pairs; see `unicode.json` in the test fixtures):
  /// - Foundation leaves a precomposed starter followed by a combining-class-0 character that composes
  ///   with it uncomposed (Hangul LV syllable + trailing jamo, U+0CCA + U+0CD5); the reference composes.
  /// - The reference lacks the Unicode 13 composition U+11935 U+11930 → U+11938 (Dives Akuru).
  ///
  /// Known remaining difference: a few combining marks encoded since Unicode 13 have a combining class
  /// the reference does not know, so runs of marks containing them may be reordered differently
  /// (random-text testing: about 1 string in 5 000 drawn from all planes, none in real prompts).
  static func referenceNFC(_ text: Substring) -> [Unicode.Scalar] {
    if text.utf8.allSatisfy({ $0 < 0x80 }) { return Array(text.unicodeScalars) }
    var result: [Unicode.Scalar] = []
    // NFC each piece separately where the reference would not compose across the boundary.
    var pieceStart = text.unicodeScalars.startIndex
    var previous: Unicode.Scalar?
    for index in text.unicodeScalars.indices {
      let scalar = text.unicodeScalars[index]
      if scalar.value == 0x11930, previous?.value == 0x11935 {
        appendComposed(text.unicodeScalars[pieceStart..<index], to: &result)
        pieceStart = index
      }
      previous = scalar
    }
    appendComposed(text.unicodeScalars[pieceStart...], to: &result)
    return result
  }

  private static func appendComposed(
    _ piece: Substring.UnicodeScalarView.SubSequence, to result: inout [Unicode.Scalar]
  ) {
    let composed = String(String.UnicodeScalarView(piece)).precomposedStringWithCanonicalMapping
    for scalar in composed.unicodeScalars {
      if let last = result.last, let pair = composeAfterComposite(last, scalar) {
        result[result.count - 1] = pair
      } else {
        result.append(scalar)
      }
    }
  }

  /// The canonical compositions of a precomposed starter with a following class-0 character that
  /// Foundation misses.
  private static func composeAfterComposite(_ first: Unicode.Scalar, _ second: Unicode.Scalar) -> Unicode.Scalar? {
    let (a, b) = (first.value, second.value)
    // Hangul: LV syllable (AC00 + 28·k) + T jamo (11A8…11C2) → LVT syllable.
    if (0xAC00...0xD7A3).contains(a), (a - 0xAC00) % 28 == 0, (0x11A8...0x11C2).contains(b) {
      return Unicode.Scalar(a + (b - 0x11A7))
    }
    if a == 0x0CCA, b == 0x0CD5 { return Unicode.Scalar(0x0CCB as UInt32) }
    return nil
  }

  /// Oniguruma's Unicode `\s` (the White_Space property), from the reference tables.
  @inline(__always) static func isWhitespace(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    if v < 0x80 { return v == 0x20 || (0x09...0x0D).contains(v) }
    return CLIPUnicodeClasses.contains(CLIPUnicodeClasses.whitespaceRanges, v)
  }

  /// `\p{L}` as the reference matches it.
  @inline(__always) static func isLetter(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    if v < 0x80 { return (0x61...0x7A).contains(v) || (0x41...0x5A).contains(v) }
    return CLIPUnicodeClasses.contains(CLIPUnicodeClasses.letterRanges, v)
  }

  /// `\p{N}` as the reference matches it.
  @inline(__always) static func isNumber(_ scalar: Unicode.Scalar) -> Bool {
    let v = scalar.value
    if v < 0x80 { return (0x30...0x39).contains(v) }
    return CLIPUnicodeClasses.contains(CLIPUnicodeClasses.numberRanges, v)
  }

  private static let specialLiterals: [[Unicode.Scalar]] = ["<|startoftext|>", "<|endoftext|>"].map {
    Array($0.unicodeScalars)
  }
  private static let contractions: [[Unicode.Scalar]] = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"].map {
    Array($0.unicodeScalars)
  }

  /// Splits normalized text into pre-tokens (ranges into `text`), trying the pattern's alternatives
  /// in order at each position, as a leftmost-first regex engine does.
  static func preTokenize(_ text: [Unicode.Scalar]) -> [Range<Int>] {
    var pieces: [Range<Int>] = []
    var i = 0
    func matches(_ literal: [Unicode.Scalar], at start: Int) -> Bool {
      start + literal.count <= text.count && text[start..<start + literal.count].elementsEqual(literal)
    }
    while i < text.count {
      let scalar = text[i]
      if isWhitespace(scalar) {
        i += 1
      } else if let literal = specialLiterals.first(where: { matches($0, at: i) }) {
        // ByteLevel's GPT-2 split: "<|" + word + "|>".
        pieces += [i..<i + 2, i + 2..<i + literal.count - 2, i + literal.count - 2..<i + literal.count]
        i += literal.count
      } else if let contraction = contractions.first(where: { matches($0, at: i) }) {
        pieces.append(i..<i + contraction.count)
        i += contraction.count
      } else if isLetter(scalar) {
        let start = i
        while i < text.count, isLetter(text[i]) { i += 1 }
        pieces.append(start..<i)
      } else if isNumber(scalar) {
        pieces.append(i..<i + 1)
        i += 1
      } else {
        let start = i
        while i < text.count, !isWhitespace(text[i]), !isLetter(text[i]), !isNumber(text[i]) { i += 1 }
        pieces.append(start..<i)
      }
    }
    return pieces
  }
}

extension CLIPUnicodeClasses {
  /// Whether `value` lies in one of the flattened closed `ranges` (binary search).
  static func contains(_ ranges: [UInt32], _ value: UInt32) -> Bool {
    var low = 0
    var high = ranges.count / 2  // number of ranges
    while low < high {
      let mid = (low + high) / 2
      if value < ranges[2 * mid] {
        high = mid
      } else if value > ranges[2 * mid + 1] {
        low = mid + 1
      } else {
        return true
      }
    }
    return false
  }
}

/// A token the `tokenizers` added vocabulary matches in the text before the BPE (transformers registers
/// the named special tokens this way: bos, eos, unk, pad, … — so SD2's pad `"!"` is one too).
struct CLIPAddedToken: Sendable, Equatable {
  var content: String
  var id: Int
  /// `true`: matched in the normalized (lowercased) text; `false`: matched in the raw text first.
  var normalized: Bool
}

/// A piece of input text after added-token extraction.
enum CLIPTextSegment: Equatable {
  case token(Int)
  case text([Unicode.Scalar])
}

extension CLIPTextNormalizer {
  /// `tokenizers` `AddedVocabulary::extract_and_normalize`: split the raw text on the non-normalized
  /// added tokens, normalize what lies between, then split that on the normalized added tokens.
  /// Matching is leftmost-longest (the `aho_corasick` `LeftmostLongest` kind).
  static func segments(of text: String, addedTokens: [CLIPAddedToken]) -> [CLIPTextSegment] {
    let raw = addedTokens.filter { !$0.normalized }.map { (Array($0.content.unicodeScalars), $0.id) }
    let normalizedTokens = addedTokens.filter(\.normalized).map { (Array($0.content.unicodeScalars), $0.id) }
    var result: [CLIPTextSegment] = []
    let scalars = Array(text.unicodeScalars)
    for rawPiece in split(scalars, on: raw) {
      switch rawPiece {
      case .token: result.append(rawPiece)
      case .text(let piece):
        let normalizedText = normalize(Substring(String(String.UnicodeScalarView(piece))))
        result += split(normalizedText, on: normalizedTokens)
      }
    }
    return result
  }

  private static func split(_ text: [Unicode.Scalar], on tokens: [([Unicode.Scalar], Int)]) -> [CLIPTextSegment] {
    guard !tokens.isEmpty else { return text.isEmpty ? [] : [.text(text)] }
    var result: [CLIPTextSegment] = []
    var start = 0
    var i = 0
    while i < text.count {
      var best: (length: Int, id: Int)?
      for (content, id) in tokens where !content.isEmpty && content.count > (best?.length ?? 0) {
        if i + content.count <= text.count, text[i..<i + content.count].elementsEqual(content) {
          best = (content.count, id)
        }
      }
      if let best {
        if start < i { result.append(.text(Array(text[start..<i]))) }
        result.append(.token(best.id))
        i += best.length
        start = i
      } else {
        i += 1
      }
    }
    if start < text.count { result.append(.text(Array(text[start...]))) }
    return result
  }
}
