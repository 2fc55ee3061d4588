/// How prompt text becomes token weights (`--prompt-weighting`).
///
/// - `none` (the default): the literal text, as diffusers' `StableDiffusionPipeline` encodes it — `(`,
///   `)`, `[`, `]` and `BREAK` are ordinary text. Keeps sdedit's parity with diffusers.
/// - `a1111`: AUTOMATIC1111's emphasis, as its `modules/prompt_parser.py`, `modules/sd_hijack_clip.py`
///   and `modules/sd_emphasis.py` (option "Original", its default) implement it:
///   - `(text)` multiplies the weight of `text` by 1.1, `[text]` by 1/1.1, `(text:1.3)` by 1.3 (the
///     number may be signed and have spaces around it: `:\s*([+-]?[.\d]+)\s*\)`); nesting multiplies;
///     `\(` `\)` `\[` `\]` `\\` are the literal characters, a lone `\` disappears; an unclosed `(` or
///     `[` runs to the end of the prompt, an unmatched `)` or `]` is text; neighbouring pieces of
///     equal weight merge; a weight that is no number (`(x:1.2.3)`) is an error, as it is in A1111.
///   - `BREAK` (upper case, a whole word, with the spaces around it) ends the current 75-token chunk.
///   - Each piece is tokenized on its own; tokens fill chunks of 75 (plus bos and eos, padded with
///     eos); when a chunk is full and a comma lies among its last 20 tokens, the text after the comma
///     moves to the next chunk (A1111's `comma_padding_backtrack` = 20).
///   - Each chunk is encoded alone (the same layer and final LayerNorm as without weighting: the last
///     layer, or diffusers' `clip_skip` — A1111's "Clip skip" minus 1; SD 2.x folders already end at the
///     penultimate layer), every token's output vector is multiplied by its weight, and the chunk is
///     rescaled so that the mean of all its values equals the unweighted mean.
///   - Without `--long-prompt` only the first chunk is used (the rest is reported as truncated);
///     with it, chunks are concatenated, and prompt and negative prompt are padded to the same count
///     with the encoding of an empty prompt, as `--long-prompt` does without weighting.
///   - SDXL: each encoder is weighted on its own and its pooled vector stays unweighted
///     (`XLWeightedConditioning.swift`, with the A1111 source).
///   - Not implemented: prompt editing `[a:b:when]`, alternation `[a|b]`, `AND`, and A1111's rule
///     that keeps a textual-inversion embedding's vectors in one chunk.
public enum PromptWeighting: String, Sendable, CaseIterable, Hashable {
  case none
  case a1111
}

/// A prompt that `--prompt-weighting a1111` cannot read.
public struct PromptWeightingError: Error, CustomStringConvertible, Equatable {
  public let description: String
  public init(_ description: String) { self.description = description }
}
