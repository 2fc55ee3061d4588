extension KeyRules {
  /// The foreign keys `rename` maps to `key`: the table read backwards, for adapters written in a
  /// foreign naming (a kohya LoRA with LDM/sgm UNet names). A rule only counts when renaming its
  /// candidate really gives `key` back (a longer rule may take precedence).
  public func foreignNames(of key: String) -> [String] {
    prefixes.compactMap { from, to in
      guard key.hasPrefix(to) else { return nil }
      let candidate = from + key.dropFirst(to.count)
      return rename(candidate) == key ? candidate : nil
    }.sorted()
  }
}
