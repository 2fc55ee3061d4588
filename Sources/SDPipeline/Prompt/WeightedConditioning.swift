import SDModels
import SDTensor

/// `--prompt-weighting a1111`: prompt → weighted text-encoder states (the rules are listed in
/// `PromptWeighting`). With weights all 1 and no `BREAK` or long prompt, this gives exactly the
/// unweighted states.
extension TextConditioning {
  /// The A1111 chunks of `text`.
  public func weightedChunks(_ text: String) throws -> [PromptChunk] {
    PromptChunks.make(try PromptAttention.parse(text), tokenizer: tokenizer)
  }

  /// `[1, 77·chunks, width]`: the chunks encoded in one batch, and in each chunk every token's state
  /// multiplied by its weight, then the chunk scaled back to its unweighted mean (`emphasize`).
  public func encodeWeighted(_ chunks: [PromptChunk], clipSkip: Int) -> Tensor {
    let output = encoder(chunks.map(\.ids))
    var states = encoder.normedHiddenState(output, clipSkip: clipSkip)  // [chunks, 77, width]
    Self.emphasize(&states, chunks: chunks)
    return states.reshaped([1, chunks.count * states.dim(1), states.dim(2)])
  }

  /// A1111 `EmphasisOriginal.after_transformers` on `states` `[chunks, 77, width]`: in each chunk every
  /// token's state is multiplied by its weight, then the chunk is scaled back to its unweighted mean (the
  /// means taken over the whole `[77, width]` chunk). Should the weighted mean be zero (or the ratio not
  /// finite), the chunk is left unscaled, as stable-diffusion.cpp does, rather than filled with infinities.
  static func emphasize(_ states: inout Tensor, chunks: [PromptChunk]) {
    let t = states.dim(1), width = states.dim(2)
    states.withUnsafeMutableBufferPointer { z in
      for (b, chunk) in chunks.enumerated() {
        let chunkZ = UnsafeMutableBufferPointer(rebasing: z[(b * t * width)..<((b + 1) * t * width)])
        let originalMean = Self.mean(chunkZ)
        for (p, weight) in chunk.multipliers.enumerated() {
          let w = Float(weight)
          for c in 0..<width { chunkZ[p * width + c] *= w }
        }
        let ratio = Float(originalMean) / Float(Self.mean(chunkZ))
        guard ratio.isFinite else { continue }
        for i in chunkZ.indices { chunkZ[i] *= ratio }
      }
    }
  }

  static func mean(_ values: UnsafeMutableBufferPointer<Float>) -> Double {
    values.isEmpty ? 0 : values.reduce(0) { $0 + Double($1) } / Double(values.count)
  }

  /// `all` without `longPrompt`: its first chunk, with a warning naming what was dropped.
  static func kept(_ all: [PromptChunk], longPrompt: Bool, tokenizer: CLIPTokenizer, warnings: inout [String]) -> [PromptChunk] {
    guard !longPrompt, all.count > 1 else { return all }
    let dropped = all.dropFirst().flatMap { Array($0.ids[1..<(1 + $0.length)]) }
    warnings.append(
      "The following part of your input was truncated because CLIP can only handle sequences up to"
        + " \(tokenizer.maxLength) tokens (without --long-prompt only the first chunk of a weighted prompt is used): "
        + "[\(tokenizer.decode(dropped))]")
    return [all[0]]
  }

  /// The weighted `[uncond, cond]` context (or `cond` alone without guidance) and the truncation
  /// warnings: without `longPrompt` each side keeps its first chunk.
  public func weightedContext(
    prompt: String, negativePrompt: String, guidance: Bool, clipSkip: Int, longPrompt: Bool
  ) throws -> (context: Tensor, warnings: [String]) {
    var warnings: [String] = []
    func chunks(_ text: String) throws -> [PromptChunk] {
      Self.kept(try weightedChunks(text), longPrompt: longPrompt, tokenizer: tokenizer, warnings: &warnings)
    }
    var cond = try chunks(prompt)
    guard guidance else { return (encodeWeighted(cond, clipSkip: clipSkip), warnings) }
    var uncond = try chunks(negativePrompt)
    if longPrompt {
      let empty = try weightedChunks("")
      while uncond.count < cond.count { uncond += empty }
      while cond.count < uncond.count { cond += empty }
    }
    let u = encodeWeighted(uncond, clipSkip: clipSkip)
    let c = encodeWeighted(cond, clipSkip: clipSkip)
    return (Tensor.concat([u, c], axis: 0), warnings)  // [2, 77·chunks, width]
  }
}
