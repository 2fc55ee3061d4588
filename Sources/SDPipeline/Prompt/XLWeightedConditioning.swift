import SDModels
import SDTensor

/// `--prompt-weighting a1111` for SDXL, as AUTOMATIC1111 does it (`modules/sd_hijack_clip.py` at
/// commit 00e09382, `FrozenCLIPEmbedderWithCustomWordsBase.forward` / `process_tokens`, which A1111
/// installs on each of SDXL's two embedders separately, `FrozenCLIPEmbedderForSDXLWithCustomWords` for
/// CLIP-L and the OpenCLIP bigG wrapper):
/// - each encoder's own tokenizer makes the chunks of the same parsed prompt (`PromptChunks`; bigG's
///   tokenizer pads with its pad id after the first end-of-text, `process_tokens`);
/// - each encoder's chunk states (the layer SDXL reads, `hidden_states[-2]`, no final LayerNorm) are
///   weighted and scaled back to their unweighted mean PER ENCODER (`EmphasisOriginal` runs inside
///   each embedder), then the two are joined along the channels (sgm's `GeneralConditioner`);
/// - the pooled vector is `zs[0].pooled`: bigG's projected end-of-text state of the first chunk, read
///   from the transformer output before the emphasis touches the hidden states — weights never change it.
///
/// The rest follows sdedit's unweighted SDXL path (diffusers' `encode_prompt`), so that switching the
/// weighting on changes nothing but the weights: `--clip-skip` applies to the prompt only, an absent
/// negative prompt is zeros (states and pooled) on `force_zeros_for_empty_prompt` models (A1111 zeros an
/// empty one), and without `--long-prompt` only the first chunk is kept, with a warning. With it, every
/// side and encoder is padded to the same chunk count with the encoding of "".
extension XLTextConditioning {
  /// Each encoder's A1111 chunks of `text` (without `longPrompt`, the first; warnings from the first encoder).
  func weightedChunks(_ text: String, longPrompt: Bool, warnings: inout [String]) throws -> [[PromptChunk]] {
    let pieces = try PromptAttention.parse(text)
    var result: [[PromptChunk]] = []
    for (t, tower) in towers.enumerated() {
      var towerWarnings: [String] = []
      let all = PromptChunks.make(pieces, tokenizer: tower.tokenizer)
      result.append(TextConditioning.kept(all, longPrompt: longPrompt, tokenizer: tower.tokenizer, warnings: &towerWarnings))
      if t == 0 { warnings += towerWarnings }
    }
    return result
  }

  func encodeWeighted(_ perTower: [[PromptChunk]], clipSkip: Int) throws -> Encoded {
    try encode(chunks: perTower.map { $0.map(\.ids) }, clipSkip: clipSkip, emphasis: perTower)
  }

  /// The weighted counterpart of `prepare` (which calls it for `.a1111`).
  func weightedPrepare(_ options: GenerationOptions, prompt: String, guidance: Bool, forceZeros: Bool) throws
    -> (context: Tensor, pooled: Tensor, warnings: [String])
  {
    var warnings: [String] = []
    var sides = [try weightedChunks(prompt, longPrompt: options.longPrompt, warnings: &warnings)]
    let zeros = forceZeros && !options.negativePromptGiven
    if guidance, !zeros {
      sides.append(try weightedChunks(options.negativePrompt, longPrompt: options.longPrompt, warnings: &warnings))
    }
    let count = sides.flatMap { $0.map(\.count) }.max() ?? 1
    for t in towers.indices {
      let empty = PromptChunks.make(try PromptAttention.parse(""), tokenizer: towers[t].tokenizer)
      for s in sides.indices {
        while sides[s][t].count < count { sides[s][t] += empty }
      }
    }
    let c = try encodeWeighted(sides[0], clipSkip: options.clipSkip)
    guard guidance else { return (c.states, c.pooled, warnings) }
    let u =
      zeros
      ? Encoded(states: Tensor(zeros: c.states.shape), pooled: Tensor(zeros: c.pooled.shape))
      : try encodeWeighted(sides[1], clipSkip: 0)  // diffusers: clip_skip for the positive prompt only
    return (Tensor.concat([u.states, c.states], axis: 0), Tensor.concat([u.pooled, c.pooled], axis: 0), warnings)
  }
}
