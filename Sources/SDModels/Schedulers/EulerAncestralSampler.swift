import SDTensor

/// Euler ancestral (k-diffusion `sample_euler_ancestral`, η = 1). Matches diffusers 0.42
/// `EulerAncestralDiscreteScheduler`: `σ_up = √(σ'²(σ² − σ'²)/σ²)`, `σ_down = √(σ'² − σ_up²)`,
/// `x' = x + d·(σ_down − σ) + z·σ_up` with `z = randn(model_output.shape)` drawn from the
/// generator at every step (the last one too, where σ_up = 0); ε and v prediction; leading /
/// linspace / trailing spacing; `rescale_betas_zero_snr`.
/// Limitations: as in diffusers, no Karras or exponential σ (the class has no such option).
public struct EulerAncestralSampler: Sampler {
  public let schedule: NoiseSchedule
  public let prediction: PredictionType
  public let stepCount: Int
  let kSchedule: KSigmaSchedule

  public var timesteps: [Float] { kSchedule.timesteps }
  public var initNoiseSigma: Float { kSchedule.initNoiseSigma }
  public var sigmas: [Float]? { kSchedule.sigmas }

  public init(config: SchedulerConfig, stepCount: Int) throws {
    schedule = try NoiseSchedule(config: config, readsRescaleKey: true, clampFinalAlpha: true)
    try checkStepCount(stepCount, schedule)
    prediction = try PredictionType.read(config, allowed: ["epsilon", "v_prediction"])
    kSchedule = KSigmaSchedule(
      schedule: schedule, stepCount: stepCount,
      options: .init(
        spacing: try TimestepSpacing.read(config, default: SamplerKind.eulerAncestral.defaultSpacing),
        stepsOffset: try config.int("steps_offset", default: 0)))
    self.stepCount = stepCount
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor {
    kSchedule.scaleModelInput(sample, step: step)
  }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let sigma = kSchedule.sigmas[step], next = kSchedule.sigmas[step + 1]
    let x0 = KSigmaSchedule.denoised(modelOutput, sample: sample, sigma: sigma, prediction: prediction)
    let sigmaUp = (next * next * (sigma * sigma - next * next) / (sigma * sigma)).squareRoot()
    let sigmaDown = (next * next - sigmaUp * sigmaUp).squareRoot()
    let dt = sigmaDown - sigma
    let noise = rng.randn(modelOutput.shape)
    return Elementwise.zip(sample, x0, noise) { x, x0, z in (x + (x - x0) / sigma * dt) + z * sigmaUp }
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    kSchedule.addNoise(original, noise: noise, step: step)
  }
}
