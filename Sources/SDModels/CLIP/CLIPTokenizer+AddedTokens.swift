extension CLIPTokenizer {
  /// The tokenizer with `groups` of new tokens, as transformers' `add_tokens` adds plain words (not
  /// special, `normalized: true`: matched in the lower-cased text, anywhere, longest first) with ids
  /// from `vocabularySize` on. A group's first token stands for the whole group: a multi-vector
  /// textual-inversion trigger `tok` gives the ids of `tok tok_1 … tok_{n-1}`, which diffusers'
  /// `maybe_convert_prompt` reaches by rewriting the text (it only does when the prompt spells the
  /// trigger exactly as the token is stored, i.e. in lower case; here any case expands). Returns the
  /// new ids, group by group.
  public func adding(tokens groups: [[String]]) -> (tokenizer: CLIPTokenizer, ids: [[Int]]) {
    var copy = self
    var ids: [[Int]] = []
    for group in groups {
      var groupIDs: [Int] = []
      for token in group {
        let id = copy.tokenBytes.count
        let content = Self.normalizedContent(token)
        copy.addedTokens.append(CLIPAddedToken(content: content, id: id, normalized: true))
        copy.tokenBytes.append(Array(content.utf8))
        groupIDs.append(id)
      }
      if groupIDs.count > 1, let first = groupIDs.first { copy.expansions[first] = groupIDs }
      ids.append(groupIDs)
    }
    return (copy, ids)
  }

  /// Whether `text`, lower-cased as prompts are, is already a token (a vocabulary entry such as `cat`
  /// or an added token), so that adding it would change how existing words tokenize.
  public func isToken(_ text: String) -> Bool {
    let content = Self.normalizedContent(text)
    if addedTokens.contains(where: { $0.content == content }) { return true }
    let bytes = Array(content.utf8)
    return tokenBytes.contains(bytes)
  }

  static func normalizedContent(_ text: String) -> String {
    var scalars = String.UnicodeScalarView()
    scalars.append(contentsOf: CLIPTextNormalizer.normalize(Substring(text)))
    return String(scalars)
  }
}
