import SDTensor

/// What LCM and TCD share: the noise schedule and their timestep selection from the distillation
/// schedule.
///
/// Timesteps (`LCMScheduler.set_timesteps` / `TCDScheduler.set_timesteps`, diffusers 0.42.1):
/// `k = T // original_inference_steps`; the distillation schedule is `[1 … original]·k − 1`
/// (19, 39, …, 999 for 50 steps), reversed; N of them are taken at indices
/// `floor(linspace(0, original, N, endpoint=False))`: N = 4 gives 999, 759, 499, 259.
/// `timestep_spacing` and `steps_offset` are not used (as in diffusers).
struct ConsistencySchedule: Sendable {
  let schedule: NoiseSchedule
  let prediction: PredictionType
  let stepCount: Int
  let integerTimesteps: [Int]
  /// ᾱ before timestep 0 (`final_alpha_cumprod`; LCM and TCD never step past 0).
  let finalAlphaCumprod: Float
  /// `clip_sample_range` when `clip_sample` is on (LCM only).
  let clipRange: Float?

  init(config: SchedulerConfig, stepCount: Int, sampler: String) throws {
    try config.requireOff("thresholding", sampler: sampler)
    schedule = try NoiseSchedule(
      config: config, readsRescaleKey: true, clampFinalAlpha: false, defaults: .stableDiffusion)
    try checkStepCount(stepCount, schedule)
    prediction = try PredictionType.read(config, allowed: ["epsilon", "sample", "v_prediction"])
    let train = schedule.trainTimestepCount
    let original = try config.int("original_inference_steps", default: 50)
    guard original >= 1, original <= train else {
      throw SchedulerError.unsupportedOption(
        "\(config.json.source): original_inference_steps \(original) must be between 1 and num_train_timesteps \(train)")
    }
    guard stepCount <= original else {
      throw SchedulerError.unsupportedOption(
        "the \(sampler) sampler takes at most \(original) steps (original_inference_steps of the scheduler config); got \(stepCount)")
    }
    let k = train / original
    let origin = (1...original).map { $0 * k - 1 }.reversed().map { $0 }
    let spacing = Double(origin.count) / Double(stepCount)  // np.linspace(0, len, N, endpoint=False)
    integerTimesteps = (0..<stepCount).map { origin[Int((Double($0) * spacing).rounded(.down))] }
    finalAlphaCumprod = try config.bool("set_alpha_to_one", default: true) ? 1 : schedule.alphasCumprod[0]
    clipRange = try config.bool("clip_sample", default: false)
      ? Float(try config.double("clip_sample_range", default: 1)) : nil
    self.stepCount = stepCount
  }

  var timesteps: [Float] { integerTimesteps.map(Float.init) }

  /// The timestep after `step`, or nil after the last one.
  func next(after step: Int) -> Int? { step + 1 < integerTimesteps.count ? integerTimesteps[step + 1] : nil }

  func alphaCumprod(_ t: Int) -> Float { t >= 0 ? schedule.alphaCumprod(at: t) : finalAlphaCumprod }

  /// DDPM forward noising at the timestep of `step` (`add_noise`).
  func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    schedule.addNoise(original, noise: noise, timestep: integerTimesteps[step])
  }
}
