/// AUTOMATIC1111's emphasis parser, `parse_prompt_attention` of `modules/prompt_parser.py` (the
/// current release's `re_attention`, which allows spaces around a weight), read as the same
/// alternation of tokens, tried in this order at each position:
/// `\(` `\)` `\[` `\]` `\\` (escapes: the character, weight 1), a lone `\` (nothing), `(`, `[`,
/// `:\s*([+-]?[.\d]+)\s*\)` (a weight closing the innermost `(`), `)`, `]`, a run of anything else
/// but `\ ( ) [ ] :`, and `:`. Text is split at `\s*\bBREAK\b\s*` into pieces with a `BREAK` piece
/// of weight −1 between them. The rules in words are in `PromptWeighting`'s documentation.
///
/// Works on Unicode scalars, as Python's `re` works on code points: `\s` is Python's `str.isspace`,
/// `\d` a decimal digit (category Nd), `\w` a letter, a number or `_`.
public enum PromptAttention {
  public struct Piece: Equatable, Sendable {
    public var text: String
    public var weight: Double

    public init(_ text: String, _ weight: Double) {
      (self.text, self.weight) = (text, weight)
    }

    /// A chunk break: A1111 tests `text == 'BREAK' and weight == -1` (a `BREAK` inside brackets has
    /// another weight and is read as the word).
    public var isBreak: Bool { text == "BREAK" && weight == -1 }
  }

  public static let roundMultiplier = 1.1
  public static let squareMultiplier = 1 / 1.1

  public static func parse(_ text: String) throws -> [Piece] {
    let s = Array(text.unicodeScalars)
    var pieces: [(text: [Unicode.Scalar], weight: Double)] = []
    var round: [Int] = [], square: [Int] = []
    func multiply(from start: Int, by factor: Double) {
      for p in start..<pieces.count { pieces[p].weight *= factor }
    }
    func appendText(_ t: ArraySlice<Unicode.Scalar>) {
      for (i, part) in splitAtBreaks(Array(t)).enumerated() {
        if i > 0 { pieces.append((Array("BREAK".unicodeScalars), -1)) }
        pieces.append((part, 1))
      }
    }
    var i = 0
    while i < s.count {
      switch s[i] {
      case "\\":
        if i + 1 < s.count, "()[]\\".unicodeScalars.contains(s[i + 1]) {
          pieces.append(([s[i + 1]], 1))
          i += 2
        } else {
          pieces.append(([], 1))
          i += 1
        }
      case "(":
        round.append(pieces.count)
        i += 1
      case "[":
        square.append(pieces.count)
        i += 1
      case ":":
        if let (number, end) = weight(in: s, at: i) {
          if let open = round.popLast() {
            guard let value = pythonFloat(number) else {
              throw PromptWeightingError(
                "prompt weight '\(String(String.UnicodeScalarView(number)))' in '\(String(String.UnicodeScalarView(s[i..<end])))' is not a number")
            }
            multiply(from: open, by: value)
          } else {
            appendText(s[i..<end])
          }
          i = end
        } else {
          appendText(s[i...i])
          i += 1
        }
      case ")":
        if let open = round.popLast() { multiply(from: open, by: roundMultiplier) } else { appendText(s[i...i]) }
        i += 1
      case "]":
        if let open = square.popLast() { multiply(from: open, by: squareMultiplier) } else { appendText(s[i...i]) }
        i += 1
      default:
        var j = i
        while j < s.count, !"\\()[]:".unicodeScalars.contains(s[j]) { j += 1 }
        appendText(s[i..<j])
        i = j
      }
    }
    for open in round { multiply(from: open, by: roundMultiplier) }
    for open in square { multiply(from: open, by: squareMultiplier) }
    if pieces.isEmpty { pieces = [([], 1)] }
    var merged: [(text: [Unicode.Scalar], weight: Double)] = []
    for piece in pieces {
      if let last = merged.last, last.weight == piece.weight {
        merged[merged.count - 1].text += piece.text
      } else {
        merged.append(piece)
      }
    }
    return merged.map { Piece(String(String.UnicodeScalarView($0.text)), $0.weight) }
  }

  /// `:\s*([+-]?[.\d]+)\s*\)` at `start` (the colon): the number's scalars and the index after `)`.
  static func weight(in s: [Unicode.Scalar], at start: Int) -> ([Unicode.Scalar], Int)? {
    var j = start + 1
    while j < s.count, isSpace(s[j]) { j += 1 }
    let numberStart = j
    if j < s.count, s[j] == "+" || s[j] == "-" { j += 1 }
    let digitsStart = j
    while j < s.count, s[j] == "." || isDigit(s[j]) { j += 1 }
    guard j > digitsStart else { return nil }
    let number = Array(s[numberStart..<j])
    while j < s.count, isSpace(s[j]) { j += 1 }
    guard j < s.count, s[j] == ")" else { return nil }
    return (number, j + 1)
  }

  /// Python's `float()` of a `[+-]?[.\d]+` string: nil unless it has one dot at most and a digit.
  static func pythonFloat(_ number: [Unicode.Scalar]) -> Double? {
    var ascii = ""
    for scalar in number {
      if isDigit(scalar), let value = scalar.properties.numericValue {
        ascii += String(Int(value))
      } else {
        ascii.unicodeScalars.append(scalar)
      }
    }
    guard ascii.filter({ $0 == "." }).count <= 1, ascii.contains(where: \.isNumber) else { return nil }
    return Double(ascii)
  }

  /// Python's `re.split(r"\s*\bBREAK\b\s*", text)`.
  static func splitAtBreaks(_ s: [Unicode.Scalar]) -> [[Unicode.Scalar]] {
    let word = Array("BREAK".unicodeScalars)
    guard s.count >= word.count else { return [s] }
    // The end of the whitespace run starting at each index (the index itself when none starts there).
    var runEnd = [Int](repeating: 0, count: s.count + 1)
    runEnd[s.count] = s.count
    for p in stride(from: s.count - 1, through: 0, by: -1) { runEnd[p] = isSpace(s[p]) ? runEnd[p + 1] : p }
    var parts: [[Unicode.Scalar]] = []
    var partStart = 0, p = 0
    while p < s.count {
      let q = runEnd[p]
      let isMatch =
        q + word.count <= s.count && s[q..<(q + word.count)].elementsEqual(word)
        && (q == 0 || !isWordCharacter(s[q - 1])) && (q + word.count == s.count || !isWordCharacter(s[q + word.count]))
      if isMatch {
        parts.append(Array(s[partStart..<p]))
        partStart = runEnd[q + word.count]
        p = partStart
      } else {
        p += 1
      }
    }
    parts.append(Array(s[partStart...]))
    return parts
  }

  /// Python's `str.isspace()`.
  static func isSpace(_ s: Unicode.Scalar) -> Bool { s.properties.isWhitespace || (0x1C...0x1F).contains(s.value) }

  /// `\d` in a Python `str` pattern: a decimal digit.
  static func isDigit(_ s: Unicode.Scalar) -> Bool { s.properties.numericType == .decimal }

  /// `\w` in a Python `str` pattern: `str.isalnum()` or `_`.
  static func isWordCharacter(_ s: Unicode.Scalar) -> Bool {
    if s == "_" || s.properties.numericType != nil { return true }
    switch s.properties.generalCategory {
    case .uppercaseLetter, .lowercaseLetter, .titlecaseLetter, .modifierLetter, .otherLetter: return true
    default: return false
    }
  }
}
