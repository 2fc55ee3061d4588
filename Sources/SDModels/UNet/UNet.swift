import SDTensor

/// diffusers `UNet2DConditionModel` for SD 1.x/2.x, their inpainting variants (9 input
/// channels), the x4 upscaler (7 input channels, noise-level class embedding) and the x2 latent
/// upscaler (K-diffusion blocks, Fourier time features, `timestep_cond`; `KBlocks.swift`). One
/// implementation, driven by `UNetConfig`; weights use diffusers names.
public struct UNet: Sendable {
  public let config: UNetConfig
  let fourierProjection: FourierProjection?
  let timeEmbedding: TimestepEmbedding
  let classEmbedding: Embedding?
  /// SDXL's `add_embedding` (`config.textTime`).
  let addEmbedding: TimestepEmbedding?
  let convIn: Conv2DLayer
  let downBlocks: [UNetDownBlock]
  let midBlock: UNetMidBlock?
  let upBlocks: [UNetUpBlock]
  /// The contracting and expanding paths when `config.isKDiffusion` (then the arrays above are empty).
  let kBody: KUNetBody?
  let convNormOut: GroupNormLayer?
  let convOut: Conv2DLayer

  public init(_ w: WeightScope, config: UNetConfig) throws {
    self.config = config
    let c0 = config.blockOutChannels[0]
    fourierProjection = config.timeEmbeddingType == .fourier
      ? try FourierProjection(w("time_proj"), size: config.timeEmbedDim / 2, flipSinToCos: config.flipSinToCos) : nil
    timeEmbedding = try TimestepEmbedding(
      w("time_embedding"), channels: config.timestepInputDim, embedDim: config.timeEmbedDim,
      flipSinToCos: config.flipSinToCos, freqShift: config.freqShift, condProjDim: config.timeCondProjDim,
      activation: config.activation, postActivation: config.timestepPostActivation)
    classEmbedding = try config.classEmbeddings.map { try Embedding(w("class_embedding"), count: $0, width: config.timeEmbedDim) }
    addEmbedding = try config.textTime.map {
      try TimestepEmbedding(
        w("add_embedding"), channels: $0.inputDim, embedDim: config.timeEmbedDim, flipSinToCos: config.flipSinToCos,
        freqShift: config.freqShift, condProjDim: nil)
    }
    // The first and last convolutions stay fp32 at any precision (≈ 0.3 % of the UNet's work): the
    // last one computes the noise prediction itself, and bf16 there cost 6–11 dB of PSNR against
    // fp32 on the tiny test models; bf16 everywhere else costs under 1 dB more.
    convIn = try Conv2DLayer(w("conv_in"), in: config.inChannels, out: c0, kernel: config.convInKernel, precision: .fp32)
    var input = c0
    let standard = !config.isKDiffusion
    downBlocks = !standard ? [] : try config.downBlocks.indices.map { i in
      defer { input = config.blockOutChannels[i] }
      return try UNetDownBlock(w("down_blocks")(i), config: config, index: i, inChannels: input)
    }
    midBlock = config.hasMidBlock ? try UNetMidBlock(w("mid_block"), config: config) : nil
    upBlocks = !standard ? [] : try config.upBlocks.indices.map { try UNetUpBlock(w("up_blocks")($0), config: config, index: $0) }
    kBody = standard ? nil : try KUNetBody(w, config: config)
    convNormOut = !config.hasOutputNorm ? nil
      : try GroupNormLayer(w("conv_norm_out"), channels: c0, groups: config.normGroups, eps: config.normEps)
    convOut = try Conv2DLayer(w("conv_out"), in: c0, out: config.outChannels, kernel: config.convOutKernel, precision: .fp32)
  }

  /// One denoiser evaluation.
  /// - sample: `[N, inChannels, h, w]` latents (with any extra conditioning channels concatenated).
  /// - timesteps: one per sample, or one for all (fractional values allowed).
  /// - context: `[N, S, crossAttentionDim]` text states.
  /// - classLabels: the x4 upscaler's noise level per sample.
  /// - timestepCondition: `[N, time_cond_proj_dim]` when the config has `time_cond_proj_dim`
  ///   (the latent upscaler's noise-level embedding ⊕ pooled text; LCM's guidance embedding).
  /// - added: SDXL's `added_cond_kwargs` when the config has `text_time`.
  /// Returns `[N, outChannels, h, w]`.
  public func callAsFunction(
    _ sample: Tensor, timesteps: [Float], context: Tensor, classLabels: [Int]? = nil, timestepCondition: Tensor? = nil,
    added: AddedConditions? = nil
  ) -> Tensor {
    let n = sample.dim(0)
    precondition(sample.dim(1) == config.inChannels, "UNet: \(sample.dim(1)) input channels, config has \(config.inChannels)")
    precondition(timesteps.count == n || timesteps.count == 1, "UNet: \(timesteps.count) timesteps for \(n) samples")
    let t = timesteps.count == n ? timesteps : [Float](repeating: timesteps[0], count: n)
    var emb = fourierProjection.map { timeEmbedding.embed($0(t), condition: timestepCondition) }
      ?? timeEmbedding(t, condition: timestepCondition)  // [N, timeEmbedDim]
    if let classEmbedding {
      precondition(classLabels?.count == n, "UNet: this model needs one class label per sample")
      emb += classEmbedding([classLabels!]).reshaped([n, config.timeEmbedDim])
    }
    if let addEmbedding, let textTime = config.textTime {
      guard let added else { preconditionFailure("UNet: this model (addition_embed_type text_time) needs added conditions") }
      emb += addEmbedding.embed(added.features(timeEmbedDim: textTime.timeEmbedDim, config: config, batch: n))  // [N, timeEmbedDim]
    }

    var h = convIn(sample)  // [N, c0, h, w]
    if let kBody {
      h = kBody(h, emb: emb, context: context)
      return convOut(convNormOut.map { $0(h, activation: config.activation) } ?? h)  // [N, outChannels, h, w]
    }
    var skips = [h]
    for block in downBlocks {
      let (out, states) = block(h, emb: emb, context: context)
      h = out
      skips += states
    }
    if let midBlock { h = midBlock(h, emb: emb, context: context) }
    for block in upBlocks {
      let taken = Array(skips.suffix(block.resnets.count))
      skips.removeLast(block.resnets.count)
      // Upsample to the next skip's size: 2× when the input was a multiple of the down factor.
      let size = skips.last.map { ($0.dim(2), $0.dim(3)) }
      h = block(h, skips: taken, emb: emb, context: context, upsampleSize: size)
    }
    return convOut(convNormOut.map { $0(h, activation: config.activation) } ?? h)  // [N, outChannels, h, w]
  }
}

/// SDXL's `added_cond_kwargs`: `text_embeds` (the pooled, projected text of the second encoder)
/// and `time_ids` (micro-conditioning values), one row per sample or one row for all.
public struct AddedConditions: Sendable {
  /// `[B, pooled width]`.
  public var textEmbeds: Tensor
  /// `[B, ids]`: (original H, W, crop top, left, target H, W), or the refiner's
  /// (original H, W, crop top, left, aesthetic score).
  public var timeIds: Tensor

  public init(textEmbeds: Tensor, timeIds: Tensor) {
    self.textEmbeds = textEmbeds
    self.timeIds = timeIds
  }

  /// `cat([text_embeds, add_time_proj(time_ids).reshape(B, -1)], -1)`, rows broadcast to `batch`.
  func features(timeEmbedDim: Int, config: UNetConfig, batch: Int) -> Tensor {
    let rows = textEmbeds.dim(0), ids = timeIds.dim(1)
    precondition(timeIds.dim(0) == rows && (rows == batch || rows == 1), "UNet: \(rows) added-condition rows for \(batch) samples")
    let times = TimestepEmbedding.sinusoid(
      timeIds.data, channels: timeEmbedDim, flipSinToCos: config.flipSinToCos, freqShift: config.freqShift
    ).reshaped([rows, ids * timeEmbedDim])  // [B, ids·d]
    let joined = Tensor.concat([textEmbeds, times], axis: 1)  // [B, pooled + ids·d]
    precondition(joined.dim(1) == config.textTime?.inputDim, "UNet: added conditions are \(joined.dim(1)) wide, the model takes \(config.textTime?.inputDim ?? 0)")
    return rows == batch ? joined : Tensor.concat([Tensor](repeating: joined, count: batch), axis: 0)
  }
}
