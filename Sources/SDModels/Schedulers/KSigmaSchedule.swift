import Foundation
import SDTensor

/// The timestep/σ schedule shared by Euler, Euler-a and LMS (`set_timesteps`,
/// `init_noise_sigma`, `scale_model_input` and `add_noise` of those diffusers classes): float
/// timesteps, σ interpolated at them (or a Karras / exponential ramp mapped back to fractional
/// timesteps), then a final σ.
struct KSigmaSchedule: Sendable {
  let timesteps: [Float]
  /// One σ per step plus the final one.
  let sigmas: [Float]
  let initNoiseSigma: Float

  /// Options that differ between the three classes.
  struct Options {
    var spacing: TimestepSpacing
    var stepsOffset: Int
    var ramp: SigmaSpacing.Ramp = .discrete
    /// `interpolation_type: "log_linear"` (Euler only): N+1 log-uniform σ from σ_max to σ_min.
    var logLinear = false
    /// Config `sigma_min` / `sigma_max` overriding the ramp ends (Euler; LMS only for the
    /// exponential ramp, as diffusers).
    var sigmaMin: Double?
    var sigmaMax: Double?
    /// `final_sigmas_type: "sigma_min"` instead of 0.
    var finalSigmaMin = false
  }

  init(schedule: NoiseSchedule, stepCount: Int, options: Options) {
    let table = schedule.sigmas
    var times = options.spacing.floatTimesteps(
      count: stepCount, trainSteps: schedule.trainTimestepCount, offset: options.stepsOffset
    ).map(Double.init)
    var sigmas: [Double]
    if options.logLinear {
      // torch.linspace(log σ_max, log σ_min, N+1).exp()
      let logs = Torch.linspace(
        Double(NumPy.logFloat32(table[table.count - 1])), Double(NumPy.logFloat32(table[0])), stepCount + 1)
      sigmas = logs.map { Double(Float(Foundation.exp(Double($0)))) }
    } else {
      sigmas = SigmaSpacing.interpolate(times, table: table)
    }
    if options.ramp != .discrete {
      let low = options.sigmaMin ?? sigmas[sigmas.count - 1]
      let high = options.sigmaMax ?? sigmas[0]
      sigmas = options.ramp == .karras
        ? SigmaSpacing.karras(min: low, max: high, count: stepCount)
        : SigmaSpacing.exponential(min: low, max: high, count: stepCount)
      let logTable = SigmaSpacing.logTable(table)
      times = sigmas.map { SigmaSpacing.timestep(forSigma: $0, logTable: logTable) }
    }
    let last = options.finalSigmaMin ? Double(table[0]) : 0
    self.sigmas = (sigmas + [last]).map { Float($0) }
    self.timesteps = times.map { Float($0) }
    let maxSigma = self.sigmas.max() ?? 0
    initNoiseSigma = options.spacing == .leading ? (maxSigma * maxSigma + 1).squareRoot() : maxSigma
  }

  /// `x / √(σ²+1)`.
  func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor {
    let sigma = sigmas[step]
    let divisor = (sigma * sigma + 1).squareRoot()
    return Elementwise.map(sample) { $0 / divisor }
  }

  /// `x + ε·σ` at the σ of `step`.
  func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    let sigma = sigmas[step]
    return Elementwise.zip(original, noise) { x, n in x + n * sigma }
  }

  /// x₀ from the model output at σ (`step` of Euler, Euler-a and LMS).
  static func denoised(_ output: Tensor, sample: Tensor, sigma: Float, prediction: PredictionType) -> Tensor {
    switch prediction {
    case .epsilon:
      return Elementwise.zip(sample, output) { x, e in x - sigma * e }
    case .vPrediction:
      let outScale = -sigma / (sigma * sigma + 1).squareRoot()
      let sampleDivisor = sigma * sigma + 1
      return Elementwise.zip(output, sample) { v, x in v * outScale + x / sampleDivisor }
    case .sample:
      return output
    }
  }
}
