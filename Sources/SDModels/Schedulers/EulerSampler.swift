import Foundation
import SDTensor

/// Euler (Karras et al. 2022, Algorithm 2 without churn). Matches diffusers 0.42
/// `EulerDiscreteScheduler`: x₀ from ε, v or x₀ prediction, `d = (x − x₀)/σ`,
/// `x' = x + d·(σ_next − σ)`; float timesteps; `use_karras_sigmas`, `use_exponential_sigmas`,
/// `sigma_min`/`sigma_max`, `interpolation_type` linear or log_linear, `final_sigmas_type`,
/// `timestep_type: "continuous"` (timesteps 0.25·log σ for v-prediction), `rescale_betas_zero_snr`.
/// Limitations: `s_churn` is 0 (the pipelines' default); `use_beta_sigmas` is refused.
public struct EulerSampler: Sampler {
  public let schedule: NoiseSchedule
  public let prediction: PredictionType
  public let stepCount: Int
  let kSchedule: KSigmaSchedule
  public let timesteps: [Float]

  public var initNoiseSigma: Float { kSchedule.initNoiseSigma }
  public var sigmas: [Float]? { kSchedule.sigmas }

  public init(config: SchedulerConfig, stepCount: Int) throws {
    schedule = try NoiseSchedule(config: config, readsRescaleKey: true, clampFinalAlpha: true)
    try checkStepCount(stepCount, schedule)
    prediction = try PredictionType.read(config, allowed: ["epsilon", "v_prediction", "sample", "original_sample"])
    var options = KSigmaSchedule.Options(
      spacing: try TimestepSpacing.read(config, default: SamplerKind.euler.defaultSpacing),
      stepsOffset: try config.int("steps_offset", default: 0))
    options.ramp = try SigmaSpacing.Ramp.read(config, sampler: "euler")
    options.logLinear = try config.string("interpolation_type", default: "linear", allowed: ["linear", "log_linear"]) == "log_linear"
    options.sigmaMin = try config.double("sigma_min")
    options.sigmaMax = try config.double("sigma_max")
    options.finalSigmaMin = try config.string("final_sigmas_type", default: "zero", allowed: ["zero", "sigma_min"]) == "sigma_min"
    kSchedule = KSigmaSchedule(schedule: schedule, stepCount: stepCount, options: options)
    let continuous = try config.string("timestep_type", default: "discrete", allowed: ["discrete", "continuous"]) == "continuous"
    if continuous && prediction == .vPrediction {
      timesteps = kSchedule.sigmas.dropLast().map { 0.25 * Foundation.log($0) }
    } else {
      timesteps = kSchedule.timesteps
    }
    self.stepCount = stepCount
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor {
    kSchedule.scaleModelInput(sample, step: step)
  }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let sigma = kSchedule.sigmas[step]
    let x0 = KSigmaSchedule.denoised(modelOutput, sample: sample, sigma: sigma, prediction: prediction)
    let dt = kSchedule.sigmas[step + 1] - sigma
    return Elementwise.zip(sample, x0) { x, x0 in x + (x - x0) / sigma * dt }
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    kSchedule.addNoise(original, noise: noise, step: step)
  }
}
