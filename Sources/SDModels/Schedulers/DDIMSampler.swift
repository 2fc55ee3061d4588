import SDTensor

/// DDIM (arXiv 2010.02502). Matches diffusers 0.42 `DDIMScheduler`: `set_timesteps` with
/// leading / linspace / trailing spacing, `step` for ε, v and x₀ prediction with `clip_sample`,
/// η ≥ 0 (η > 0 draws `randn(model_output.shape)` from the generator every step, including the
/// last), `set_alpha_to_one`, `rescale_betas_zero_snr`, and DDPM-style `add_noise`.
/// Limitations: `thresholding` (dynamic thresholding) is refused.
public struct DDIMSampler: Sampler {
  public let schedule: NoiseSchedule
  public let prediction: PredictionType
  public let stepCount: Int
  public let eta: Float
  public let integerTimesteps: [Int]
  let finalAlphaCumprod: Float
  let clipRange: Float?

  public var timesteps: [Float] { integerTimesteps.map(Float.init) }
  public var initNoiseSigma: Float { 1 }
  public var sigmas: [Float]? { nil }

  public init(config: SchedulerConfig, stepCount: Int, eta: Float = 0) throws {
    try config.requireOff("thresholding", sampler: "ddim")
    schedule = try NoiseSchedule(config: config, readsRescaleKey: true, clampFinalAlpha: false)
    try checkStepCount(stepCount, schedule)
    prediction = try PredictionType.read(config, allowed: ["epsilon", "sample", "v_prediction"])
    let spacing = try TimestepSpacing.read(config, default: SamplerKind.ddim.defaultSpacing)
    integerTimesteps = spacing.integerTimesteps(
      count: stepCount, trainSteps: schedule.trainTimestepCount, offset: try config.int("steps_offset", default: 0))
    let train = schedule.trainTimestepCount
    guard integerTimesteps.allSatisfy({ (-train..<train).contains($0) }) else {
      throw SchedulerError.unsupportedOption("\(config.json.source): steps_offset puts a timestep outside 0…\(train - 1)")
    }
    finalAlphaCumprod = try config.bool("set_alpha_to_one", default: true) ? 1 : schedule.alphasCumprod[0]
    clipRange = try config.bool("clip_sample", default: true)
      ? Float(try config.double("clip_sample_range", default: 1)) : nil
    self.stepCount = stepCount
    self.eta = eta
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor { sample }

  /// ᾱ of the previous timestep: `final_alpha_cumprod` before 0.
  func previousAlphaCumprod(_ t: Int) -> Float { t >= 0 ? schedule.alphasCumprod[t] : finalAlphaCumprod }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let t = integerTimesteps[step]
    let prevT = t - schedule.trainTimestepCount / stepCount
    let a = schedule.alphaCumprod(at: t), aPrev = previousAlphaCumprod(prevT)
    let beta = 1 - a
    let converted = prediction.originalAndNoise(modelOutput, sample: sample, alphaCumprod: a)
    var x0 = converted.x0
    let eps = converted.eps
    if let range = clipRange { x0 = Elementwise.map(x0) { Swift.min(Swift.max($0, -range), range) } }
    // σ_t = η·√((1−ᾱ')/(1−ᾱ)·(1−ᾱ/ᾱ'))  (`_get_variance`)
    let variance = (1 - aPrev) / beta * (1 - a / aPrev)
    let stdDev = eta * variance.squareRoot()
    let direction = (1 - aPrev - stdDev * stdDev).squareRoot()
    let sqrtAPrev = aPrev.squareRoot()
    var prev = Elementwise.zip(x0, eps) { x0, e in sqrtAPrev * x0 + direction * e }
    if eta > 0 {
      let noise = rng.randn(modelOutput.shape)
      prev = Elementwise.zip(prev, noise) { p, z in p + stdDev * z }
    }
    return prev
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    schedule.addNoise(original, noise: noise, timestep: integerTimesteps[step])
  }
}
