import SDModels

/// One chunk of a weighted prompt: 77 token ids (bos, 75 body tokens padded with eos, eos; after the
/// first eos the tokenizer's pad id, as A1111's `process_tokens` does for SD2) and each token's weight.
public struct PromptChunk: Equatable, Sendable {
  public var ids: [Int]
  public var multipliers: [Double]
  /// How many of the 75 body positions hold prompt tokens.
  public var length: Int
}

/// A1111's `FrozenCLIPEmbedderWithCustomWordsBase.tokenize_line` (`modules/sd_hijack_clip.py`): the
/// parsed pieces tokenized one by one and packed into chunks of 75 tokens, a `BREAK` piece closing
/// the current chunk, and a full chunk handing the tokens after its last comma to the next chunk
/// when that comma is among its last `commaBacktrack` tokens.
public enum PromptChunks {
  /// A1111's `comma_padding_backtrack` default.
  public static let commaBacktrack = 20

  public static func make(_ pieces: [PromptAttention.Piece], tokenizer: CLIPTokenizer) -> [PromptChunk] {
    let size = tokenizer.bodyLength
    let commaIDs = tokenizer.tokenize(",")
    let comma = commaIDs.count == 1 ? commaIDs[0] : nil
    var chunks: [PromptChunk] = []
    var ids: [Int] = [], weights: [Double] = []
    var lastComma = -1
    func close() {
      let length = ids.count
      let padding = max(size - length, 0)
      var tokens = [tokenizer.bosToken] + ids + [Int](repeating: tokenizer.eosToken, count: padding) + [tokenizer.eosToken]
      if let firstEOS = tokens.firstIndex(of: tokenizer.eosToken), tokenizer.padToken != tokenizer.eosToken {
        for p in (firstEOS + 1)..<tokens.count { tokens[p] = tokenizer.padToken }
      }
      let multipliers = [1] + weights + [Double](repeating: 1, count: padding) + [1]
      chunks.append(PromptChunk(ids: tokens, multipliers: multipliers, length: length))
      (ids, weights, lastComma) = ([], [], -1)
    }
    for piece in pieces {
      if piece.isBreak {
        close()
        continue
      }
      for token in tokenizer.tokenize(piece.text) {
        if token == comma {
          lastComma = ids.count
        } else if commaBacktrack != 0, ids.count == size, lastComma != -1, ids.count - lastComma <= commaBacktrack {
          let cut = lastComma + 1
          let (movedIDs, movedWeights) = (Array(ids[cut...]), Array(weights[cut...]))
          (ids, weights) = (Array(ids[..<cut]), Array(weights[..<cut]))
          close()
          (ids, weights) = (movedIDs, movedWeights)
        }
        if ids.count == size { close() }
        ids.append(token)
        weights.append(piece.weight)
      }
    }
    if !ids.isEmpty || chunks.isEmpty { close() }
    return chunks
  }
}
