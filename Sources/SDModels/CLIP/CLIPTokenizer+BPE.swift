/// GPT-2/CLIP byte-level alphabet: every byte maps to one printable Unicode scalar, so a BPE over
/// "characters" is a BPE over UTF-8 bytes. Reproduces `bytes_to_unicode()` of OpenAI's
/// `clip/simple_tokenizer.py` and of `tokenizers`' `pre_tokenizers::byte_level`.
enum CLIPByteAlphabet {
  /// `scalars[i]` is the scalar for the i-th entry of the alphabet in vocabulary order: first the bytes
  /// that are printable themselves (`!`…`~`, `¡`…`¬`, `®`…`ÿ`), then the other 68 bytes, mapped to
  /// U+0100, U+0101, … in byte order. `bytes[i]` is the byte that entry stands for.
  static let (bytes, scalars): ([UInt8], [Unicode.Scalar]) = {
    var bytes = Array(UInt8(ascii: "!")...UInt8(ascii: "~")) + Array(0xA1...0xAC) + Array(0xAE...0xFF)
    var scalars = bytes.map { Unicode.Scalar($0) }
    var next: UInt32 = 256
    for byte in UInt8.min...UInt8.max where !bytes.contains(byte) {
      bytes.append(byte)
      scalars.append(Unicode.Scalar(next) ?? "?")  // 256…323 are all valid scalars
      next += 1
    }
    return (bytes, scalars)
  }()

  /// The alphabet scalar for each byte value.
  static let scalarForByte: [Unicode.Scalar] = {
    var table = [Unicode.Scalar](repeating: " ", count: 256)
    for (byte, scalar) in zip(bytes, scalars) { table[Int(byte)] = scalar }
    return table
  }()

  /// The byte each alphabet scalar (all below U+0144) stands for, indexed by scalar value; -1 for none.
  static let byteForScalar: [Int16] = {
    var table = [Int16](repeating: -1, count: 0x144)
    for (byte, scalar) in zip(bytes, scalars) { table[Int(scalar.value)] = Int16(byte) }
    return table
  }()

  /// The bytes a token string stands for, as `tokenizers`' ByteLevel decoder maps it: each scalar back
  /// to its byte, or, when any scalar is outside the alphabet (added tokens), the token's own UTF-8.
  static func decodedBytes(of token: String) -> [UInt8] {
    var out: [UInt8] = []
    out.reserveCapacity(token.utf8.count)
    for scalar in token.unicodeScalars {
      let value = Int(scalar.value)
      guard value < byteForScalar.count, byteForScalar[value] >= 0 else { return Array(token.utf8) }
      out.append(UInt8(byteForScalar[value]))
    }
    return out
  }
}

/// The BPE model of the CLIP tokenizer with `end_of_word_suffix = "</w>"`, working on token ids.
///
/// Reproduces `tokenizers` `models::bpe::BPE::merge_word` as configured by transformers'
/// `CLIPTokenizer` (no dropout, no continuing-subword prefix): a pre-token's UTF-8 bytes become one
/// symbol each, the last one carrying `</w>`; then the adjacent pair with the lowest merge rank (the
/// leftmost among equal ranks) is merged, repeatedly, until no adjacent pair has a merge.
struct CLIPBPEModel: Sendable {
  /// Token id of each byte as a word-initial/inner symbol, and as the final symbol (`byte</w>`).
  let byteToken: [Int32]
  let finalByteToken: [Int32]
  /// (left id << 32 | right id) → (rank << 32 | merged id).
  let merges: [UInt64: UInt64]

  /// - Parameters:
  ///   - vocabulary: token string → id.
  ///   - mergeRules: merge pairs in rank order (rank = index); a later duplicate pair replaces an earlier
  ///     one, as in `tokenizers`.
  init(vocabulary: [String: Int], mergeRules: [(String, String)]) throws {
    var byteToken = [Int32](repeating: -1, count: 256)
    var finalByteToken = [Int32](repeating: -1, count: 256)
    for byte in 0..<256 {
      let symbol = String(CLIPByteAlphabet.scalarForByte[byte])
      guard let inner = vocabulary[symbol], let final = vocabulary[symbol + "</w>"] else {
        throw CLIPTokenizerError.invalidVocabulary(
          "the vocabulary lacks the byte symbol \"\(symbol)\" or \"\(symbol)</w>\"")
      }
      byteToken[byte] = Int32(inner)
      finalByteToken[byte] = Int32(final)
    }
    var merges: [UInt64: UInt64] = [:]
    merges.reserveCapacity(mergeRules.count)
    for (rank, (left, right)) in mergeRules.enumerated() {
      guard let leftID = vocabulary[left], let rightID = vocabulary[right] else {
        throw CLIPTokenizerError.invalidVocabulary(
          "merge \(rank + 1) (\"\(left) \(right)\") uses a token missing from the vocabulary")
      }
      guard let mergedID = vocabulary[left + right] else {
        throw CLIPTokenizerError.invalidVocabulary(
          "the result of merge \(rank + 1) (\"\(left)\(right)\") is missing from the vocabulary")
      }
      merges[Self.pairKey(Int32(leftID), Int32(rightID))] = UInt64(rank) << 32 | UInt64(mergedID)
    }
    self.byteToken = byteToken
    self.finalByteToken = finalByteToken
    self.merges = merges
  }

  @inline(__always) static func pairKey(_ left: Int32, _ right: Int32) -> UInt64 {
    UInt64(UInt32(bitPattern: left)) << 32 | UInt64(UInt32(bitPattern: right))
  }

  /// Appends the token ids of one pre-token (given as its UTF-8 bytes) to `output`.
  func encodeWord(_ bytes: [UInt8], into output: inout [Int]) {
    guard !bytes.isEmpty else { return }
    let symbols = initialSymbols(bytes)
    let merged = symbols.count <= Self.shortWordLimit ? mergeShort(symbols) : mergeLong(symbols)
    for symbol in merged { output.append(Int(symbol)) }
  }

  /// One symbol per byte, the last one with `</w>`.
  func initialSymbols(_ bytes: [UInt8]) -> [Int32] {
    var symbols = bytes.map { byteToken[Int($0)] }
    if let last = bytes.last { symbols[symbols.count - 1] = finalByteToken[Int(last)] }
    return symbols
  }

  /// Words up to this many bytes use the quadratic scan; longer ones the heap.
  static let shortWordLimit = 48

  /// Scan for the best pair after every merge: fastest for the short words of real prompts.
  func mergeShort(_ input: [Int32]) -> [Int32] {
    var symbols = input
    // pairs[i] = merge of (symbols[i], symbols[i+1]) or UInt64.max when none; the low half is the merged id.
    var pairs = [UInt64](repeating: .max, count: max(0, symbols.count - 1))
    for i in pairs.indices { pairs[i] = merges[Self.pairKey(symbols[i], symbols[i + 1])] ?? .max }
    while let best = pairs.indices.min(by: { pairs[$0] >> 32 < pairs[$1] >> 32 }), pairs[best] != .max {
      symbols[best] = Int32(truncatingIfNeeded: pairs[best] & 0xFFFF_FFFF)
      symbols.remove(at: best + 1)
      pairs.remove(at: best)
      if best > 0 { pairs[best - 1] = merges[Self.pairKey(symbols[best - 1], symbols[best])] ?? .max }
      if best < pairs.count { pairs[best] = merges[Self.pairKey(symbols[best], symbols[best + 1])] ?? .max }
    }
    return symbols
  }

  /// `tokenizers`' `Word::merge_all`: a min-heap of (rank, position) over a linked list of symbols, with
  /// stale entries skipped; O(n log n), so a pathological 100 000-byte "word" cannot stall the tokenizer.
  func mergeLong(_ input: [Int32]) -> [Int32] {
    var symbols = input
    var next = Array(1...input.count)  // input.count marks the end
    next[input.count - 1] = -1
    var previous = Array(-1..<(input.count - 1))
    var heap = MergeHeap()
    func push(_ left: Int) {
      let right = next[left]
      guard right >= 0, let merge = merges[Self.pairKey(symbols[left], symbols[right])] else { return }
      heap.push((merge >> 32) << 32 | UInt64(left), mergedID: Int32(truncatingIfNeeded: merge & 0xFFFF_FFFF))
    }
    for i in 0..<(input.count - 1) { push(i) }
    var removed = [Bool](repeating: false, count: input.count)
    while let (key, mergedID) = heap.pop() {
      let left = Int(key & 0xFFFF_FFFF)
      let right = next[left]
      guard !removed[left], right >= 0,
        let current = merges[Self.pairKey(symbols[left], symbols[right])],
        Int32(truncatingIfNeeded: current & 0xFFFF_FFFF) == mergedID
      else { continue }
      symbols[left] = mergedID
      removed[right] = true
      next[left] = next[right]
      if next[right] >= 0 { previous[next[right]] = left }
      if previous[left] >= 0 { push(previous[left]) }
      push(left)
    }
    var result: [Int32] = []
    var i = 0
    while i >= 0 {
      result.append(symbols[i])
      i = next[i]
    }
    return result
  }
}

/// A binary min-heap of (rank << 32 | position) keys with the id each merge produces.
private struct MergeHeap {
  private var keys: [UInt64] = []
  private var ids: [Int32] = []

  mutating func push(_ key: UInt64, mergedID: Int32) {
    keys.append(key)
    ids.append(mergedID)
    var child = keys.count - 1
    while child > 0 {
      let parent = (child - 1) / 2
      guard keys[child] < keys[parent] else { break }
      keys.swapAt(child, parent)
      ids.swapAt(child, parent)
      child = parent
    }
  }

  mutating func pop() -> (UInt64, Int32)? {
    guard let top = keys.first else { return nil }
    let topID = ids[0]
    keys.swapAt(0, keys.count - 1)
    ids.swapAt(0, ids.count - 1)
    keys.removeLast()
    ids.removeLast()
    var parent = 0
    while true {
      var smallest = parent
      for child in [2 * parent + 1, 2 * parent + 2] where child < keys.count && keys[child] < keys[smallest] {
        smallest = child
      }
      guard smallest != parent else { break }
      keys.swapAt(parent, smallest)
      ids.swapAt(parent, smallest)
      parent = smallest
    }
    return (top, topID)
  }
}
