import Foundation
import SDTensor

/// Trajectory Consistency Distillation sampling (arXiv 2402.19159). Matches diffusers 0.42.1
/// `TCDScheduler`: the timesteps of `ConsistencySchedule`, `init_noise_sigma` 1, no input
/// scaling, and `step(eta: γ)`: with `s = ⌊(1 − γ)·t'⌋` (t' the next timestep, 0 after the last),
/// x₀ and ε from the prediction, `x_s = √ᾱ_s·x₀ + √(1−ᾱ_s)·ε`; then, when γ > 0 and this is
/// not the last step, `x' = √(ᾱ'/ᾱ_s)·x_s + √(1 − ᾱ'/ᾱ_s)·z` with `z = randn(model_output.shape)`,
/// otherwise `x' = x_s`. γ = 0 is deterministic.
/// Limitations: `thresholding` is refused (diffusers' TCD step ignores it and `clip_sample`).
public struct TCDSampler: Sampler {
  let consistency: ConsistencySchedule
  /// γ, diffusers' `eta` (`TCDScheduler.step` defaults to 0.3).
  public let gamma: Double

  public var timesteps: [Float] { consistency.timesteps }
  public var stepCount: Int { consistency.stepCount }
  public var initNoiseSigma: Float { 1 }
  public var sigmas: [Float]? { nil }
  public var prediction: PredictionType { consistency.prediction }

  public init(config: SchedulerConfig, stepCount: Int, gamma: Double = 0.3) throws {
    guard gamma.isFinite, gamma >= 0, gamma <= 1 else {
      throw SchedulerError.unsupportedOption("the tcd sampler's eta (gamma) must be between 0 and 1 (got \(gamma))")
    }
    consistency = try ConsistencySchedule(config: config, stepCount: stepCount, sampler: "tcd")
    self.gamma = gamma
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor { sample }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let t = consistency.integerTimesteps[step]
    let next = consistency.next(after: step)
    let prevT = next ?? 0
    // torch: floor((1 − γ) · int64 tensor) in float32.
    let s = Int((Float(1 - gamma) * Float(prevT)).rounded(.down))
    let (x0, eps) = consistency.prediction.originalAndNoise(modelOutput, sample: sample, alphaCumprod: consistency.alphaCumprod(t))
    let aS = consistency.alphaCumprod(s)
    let sqrtAS = aS.squareRoot(), sqrtBetaS = (1 - aS).squareRoot()
    let noised = Elementwise.zip(x0, eps) { x0, e in sqrtAS * x0 + sqrtBetaS * e }
    guard gamma > 0, next != nil else { return noised }
    let ratio = consistency.alphaCumprod(prevT) / aS
    let keep = ratio.squareRoot(), fresh = (1 - ratio).squareRoot()
    let noise = rng.randn(modelOutput.shape)
    return Elementwise.zip(noised, noise) { x, z in keep * x + fresh * z }
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    consistency.addNoise(original, noise: noise, step: step)
  }
}
