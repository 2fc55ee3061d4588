import SDModels
import SDTensor

/// Prompt → SDXL conditioning, as diffusers 0.42.1 `StableDiffusionXLPipeline.encode_prompt`:
/// every text encoder (CLIP-L then OpenCLIP-bigG; the refiner: bigG alone) encodes the prompt
/// padded to 77 with its own tokenizer's pad (tokenizer_2 pads with `!` = 0), its
/// `hidden_states[-2]` (`[-(clip_skip + 2)]` for the positive prompt; no final LayerNorm) are
/// concatenated along the channels, and the pooled vector is the last encoder's `text_embeds`
/// (its projected end-of-text state). Without a negative prompt, `force_zeros_for_empty_prompt`
/// models use zeros for both negative tensors; an explicit one (even "") is encoded.
/// With `longPrompt` each encoder takes AUTOMATIC1111's 75-token chunks (pooled: the first chunk).
/// `--prompt-weighting a1111`: see `weightedPrepare` (XLWeightedConditioning.swift).
public struct XLTextConditioning: Sendable {
  public let towers: [ModelBundle.TextTower]

  public init(towers: [ModelBundle.TextTower]) {
    self.towers = towers
  }

  /// `states` `[1, 77·chunks, Σ widths]` and `pooled` `[1, projection]`.
  public struct Encoded: Sendable {
    public let states: Tensor
    public let pooled: Tensor
  }

  /// Token chunks of `text` for each encoder.
  func chunks(_ text: String, longPrompt: Bool) -> [[[Int]]] {
    towers.map { longPrompt ? $0.tokenizer.encodeChunks(text) : [$0.tokenizer.encodePadded(text).ids] }
  }

  /// `emphasis`: with `--prompt-weighting a1111`, each encoder's weighted chunks (the same ids as
  /// `perTower`), whose weights scale that encoder's states (`TextConditioning.emphasize`); the pooled
  /// vector is never weighted.
  public func encode(chunks perTower: [[[Int]]], clipSkip: Int, emphasis: [[PromptChunk]]? = nil) throws -> Encoded {
    var states: [Tensor] = [], pooled: Tensor?
    for (t, (tower, chunks)) in zip(towers, perTower).enumerated() {
      let output = tower.encoder(chunks)
      let index = output.hiddenStates.count - 2 - clipSkip
      guard index >= 0 else {
        throw GenerationError("clip skip \(clipSkip) is more than this text encoder's \(output.hiddenStates.count - 1) layers allow")
      }
      var h = output.hiddenStates[index]  // [chunks, 77, width]
      if let emphasis { TextConditioning.emphasize(&h, chunks: emphasis[t]) }
      states.append(h.reshaped([1, h.dim(0) * h.dim(1), h.dim(2)]))
      if let embeds = tower.encoder.textEmbeds(output) { pooled = embeds.slice(axis: 0, 0..<1) }  // [1, projection]
    }
    guard let pooled else { throw GenerationError("this SDXL model's last text encoder has no text projection") }
    return Encoded(states: Tensor.concat(states, axis: 2), pooled: pooled)
  }

  /// `[uncond, cond]` states and pooled vectors (cond alone without guidance) and diffusers'
  /// truncation warnings.
  public func prepare(_ options: GenerationOptions, guidance: Bool, forceZeros: Bool) throws
    -> (context: Tensor, pooled: Tensor, warnings: [String])
  {
    let tokenizer = towers[0].tokenizer
    let prompt = PromptTags.removingLoRAs(from: options.prompt)
    if options.promptWeighting == .a1111 {
      return try weightedPrepare(options, prompt: prompt, guidance: guidance, forceZeros: forceZeros)
    }
    var warnings = options.longPrompt ? [] : [tokenizer.truncationWarning(for: prompt)].compactMap { $0 }
    var cond = chunks(prompt, longPrompt: options.longPrompt)
    guard guidance else {
      let c = try encode(chunks: cond, clipSkip: options.clipSkip)
      return (c.states, c.pooled, warnings)
    }
    let zeros = forceZeros && !options.negativePromptGiven
    if !zeros, !options.longPrompt, let warning = tokenizer.truncationWarning(for: options.negativePrompt) { warnings.append(warning) }
    var uncond = chunks(zeros ? "" : options.negativePrompt, longPrompt: options.longPrompt)
    if options.longPrompt {
      for t in towers.indices {
        let empty = towers[t].tokenizer.encodePadded("").ids
        while uncond[t].count < cond[t].count { uncond[t].append(empty) }
        while cond[t].count < uncond[t].count { cond[t].append(empty) }
      }
    }
    let c = try encode(chunks: cond, clipSkip: options.clipSkip)
    let u: Encoded
    if zeros {
      u = Encoded(states: Tensor(zeros: c.states.shape), pooled: Tensor(zeros: c.pooled.shape))
    } else {
      u = try encode(chunks: uncond, clipSkip: 0)  // diffusers: clip_skip for the positive prompt only
    }
    return (Tensor.concat([u.states, c.states], axis: 0), Tensor.concat([u.pooled, c.pooled], axis: 0), warnings)
  }
}
