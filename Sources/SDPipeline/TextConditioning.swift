import SDModels
import SDTensor

/// Prompt → text-encoder states, as diffusers' `StableDiffusionPipeline.encode_prompt` does it:
/// pad to 77 with the tokenizer's pad token, truncate (with diffusers' warning), encode, take
/// the last hidden state (or `hidden_states[-(clipSkip+1)]` through the final LayerNorm).
/// With `longPrompt`, prompts are encoded in 75-token chunks whose states are concatenated
/// (AUTOMATIC1111); the negative prompt is padded with empty chunks to the same count.
public struct TextConditioning: Sendable {
  public let tokenizer: CLIPTokenizer
  public let encoder: CLIPTextModel

  public init(tokenizer: CLIPTokenizer, encoder: CLIPTextModel) {
    self.tokenizer = tokenizer
    self.encoder = encoder
  }

  public struct Encoded: Sendable {
    /// `[1, 77·chunks, width]`.
    public let states: Tensor
    /// The pooled output of the first chunk, `[1, width]` (the latent upscaler uses it).
    public let pooled: Tensor
  }

  /// Token chunks for `text`: one padded chunk (truncated) or, with `longPrompt`, several.
  public func chunks(_ text: String, longPrompt: Bool) -> [[Int]] {
    longPrompt ? tokenizer.encodeChunks(text) : [tokenizer.encodePadded(text).ids]
  }

  /// The warning diffusers prints when `text` is truncated (nil when it fits or is chunked).
  public func warning(_ text: String, longPrompt: Bool) -> String? {
    longPrompt ? nil : tokenizer.truncationWarning(for: text)
  }

  public func encode(chunks: [[Int]], clipSkip: Int = 0) -> Encoded {
    let output = encoder(chunks)  // one batch row per chunk
    let states = encoder.normedHiddenState(output, clipSkip: clipSkip)  // [chunks, 77, width]
    let width = states.dim(2)
    return Encoded(
      states: states.reshaped([1, chunks.count * states.dim(1), width]),
      pooled: output.pooled.slice(axis: 0, 0..<1))
  }

  /// `[uncond, cond]` states for classifier-free guidance (uncond first, as diffusers batches
  /// them), or just `cond` when guidance is off.
  public func context(prompt: String, negativePrompt: String, guidance: Bool, clipSkip: Int, longPrompt: Bool) -> Tensor {
    var cond = chunks(prompt, longPrompt: longPrompt)
    guard guidance else { return encode(chunks: cond, clipSkip: clipSkip).states }
    var uncond = chunks(negativePrompt, longPrompt: longPrompt)
    if longPrompt {
      let empty = tokenizer.encodePadded("").ids
      while uncond.count < cond.count { uncond.append(empty) }
      while cond.count < uncond.count { cond.append(empty) }
    }
    let c = encode(chunks: cond, clipSkip: clipSkip).states
    let u = encode(chunks: uncond, clipSkip: clipSkip).states
    return Tensor.concat([u, c], axis: 0)  // [2, 77·chunks, width]
  }

  /// The guidance context and diffusers' truncation warnings for a generation's prompt and
  /// negative prompt (what every pipeline starts with). `<lora:…>` tags are taken out of the prompt
  /// first (`PromptTags`); `promptWeighting` `.a1111` reads A1111's emphasis syntax.
  /// `guidance`: whether to encode the negative side too (default: `options.usesGuidance`).
  public func prepare(_ options: GenerationOptions, guidance: Bool? = nil) throws -> (context: Tensor, warnings: [String]) {
    let guides = guidance ?? options.usesGuidance
    let prompt = PromptTags.removingLoRAs(from: options.prompt)
    if options.promptWeighting == .a1111 {
      return try weightedContext(
        prompt: prompt, negativePrompt: options.negativePrompt, guidance: guides,
        clipSkip: options.clipSkip, longPrompt: options.longPrompt)
    }
    let texts = guides ? [prompt, options.negativePrompt] : [prompt]
    let warnings = texts.compactMap { warning($0, longPrompt: options.longPrompt) }
    let context = context(
      prompt: prompt, negativePrompt: options.negativePrompt, guidance: guides,
      clipSkip: options.clipSkip, longPrompt: options.longPrompt)
    return (context, warnings)
  }
}
