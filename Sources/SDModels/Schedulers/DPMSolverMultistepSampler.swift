import Foundation
import SDTensor

/// DPM-Solver++ multistep (arXiv 2211.01095), "DPM++ 2M" with the defaults. Matches diffusers 0.42
/// `DPMSolverMultistepScheduler` for `algorithm_type` dpmsolver++ and sde-dpmsolver++,
/// `solver_order` 1–3, `solver_type` midpoint or heun, `lower_order_final` (first order at the
/// last step, and second order at the one before when N < 15), `euler_at_final`,
/// `final_sigmas_type` zero or sigma_min, Karras / exponential σ (timesteps rounded), leading /
/// linspace / trailing spacing, `lambda_min_clipped`, `rescale_betas_zero_snr`; the model output is
/// converted to an x₀ prediction from ε, v or x₀. `init_noise_sigma` is 1 and the model input is
/// not scaled; `add_noise` is α·x + σ·ε.
/// Limitations: `algorithm_type` dpmsolver / sde-dpmsolver (deprecated upstream), thresholding,
/// learned variance, Lu lambdas, flow and beta σ are refused.
public struct DPMSolverMultistepSampler: Sampler {
  public enum Algorithm: String, Sendable { case dpmSolverPP = "dpmsolver++", sdeDPMSolverPP = "sde-dpmsolver++" }
  public enum SolverType: String, Sendable { case midpoint, heun }

  public let schedule: NoiseSchedule
  public let prediction: PredictionType
  public let stepCount: Int
  public let algorithm: Algorithm
  public let solverType: SolverType
  public let solverOrder: Int
  public let integerTimesteps: [Int]
  let stepSigmas: [Float]
  let lowerOrderFinal: Bool
  let eulerAtFinal: Bool
  let finalSigmaIsZero: Bool

  // `step` state: the last x₀ predictions (oldest first) and how many low-order steps were taken.
  var modelOutputs: [Tensor] = []
  var lowerOrderCount = 0

  public var timesteps: [Float] { integerTimesteps.map(Float.init) }
  public var initNoiseSigma: Float { 1 }
  public var sigmas: [Float]? { stepSigmas }

  public init(config: SchedulerConfig, stepCount: Int) throws {
    let name = "dpmpp-2m"
    for key in ["thresholding", "use_lu_lambdas", "use_flow_sigmas"] { try config.requireOff(key, sampler: name) }
    if let variance = try config.json.string("variance_type") {
      throw SchedulerError.unsupportedValue(key: "variance_type", value: variance, supported: [], source: config.json.source)
    }
    var algorithmName = try config.string(
      "algorithm_type", default: "dpmsolver++", allowed: ["dpmsolver++", "sde-dpmsolver++", "deis"])
    if algorithmName == "deis" { algorithmName = "dpmsolver++" }  // diffusers maps it so
    algorithm = Algorithm(rawValue: algorithmName)!
    var solverName = try config.string(
      "solver_type", default: "midpoint", allowed: ["midpoint", "heun", "logrho", "bh1", "bh2"])
    if !["midpoint", "heun"].contains(solverName) { solverName = "midpoint" }  // diffusers maps it so
    solverType = SolverType(rawValue: solverName)!
    solverOrder = try config.int("solver_order", default: 2)
    guard (1...3).contains(solverOrder) else {
      throw SchedulerError.unsupportedValue(
        key: "solver_order", value: String(solverOrder), supported: ["1", "2", "3"], source: config.json.source)
    }
    prediction = try PredictionType.read(config, allowed: ["epsilon", "sample", "v_prediction"])
    lowerOrderFinal = try config.bool("lower_order_final", default: true)
    eulerAtFinal = try config.bool("euler_at_final", default: false)
    finalSigmaIsZero = try config.string("final_sigmas_type", default: "zero", allowed: ["zero", "sigma_min"]) == "zero"

    schedule = try NoiseSchedule(config: config, readsRescaleKey: true, clampFinalAlpha: true)
    try checkStepCount(stepCount, schedule)
    let table = schedule.sigmas
    let train = schedule.trainTimestepCount
    // λ(t) = log α − log σ, ascending after the flip; skip timesteps below lambda_min_clipped.
    let lambdaMin = try config.double("lambda_min_clipped", default: -.infinity)
    let lambdas = schedule.alphasCumprod.map { a -> Float in
      Foundation.log(a.squareRoot()) - Foundation.log((1 - a).squareRoot())
    }
    let clipped = lambdas.reversed().filter { Double($0) < lambdaMin }.count
    let last = train - clipped
    let spacing = try TimestepSpacing.read(config, default: SamplerKind.dpmpp2m.defaultSpacing)
    var times = spacing.dpmSolverTimesteps(
      count: stepCount, trainSteps: train, last: last, offset: try config.int("steps_offset", default: 0))
    let ramp = try SigmaSpacing.Ramp.read(config, sampler: name)
    var sigmas: [Double]
    if ramp == .discrete {
      sigmas = SigmaSpacing.interpolate(times.map(Double.init), table: table)
    } else {
      // Ends from the whole training table (or config sigma_min / sigma_max), then σ → t.
      let low = try config.double("sigma_min") ?? Double(table[0])
      let high = try config.double("sigma_max") ?? Double(table[train - 1])
      sigmas = ramp == .karras
        ? SigmaSpacing.karras(min: low, max: high, count: stepCount)
        : SigmaSpacing.exponential(min: low, max: high, count: stepCount)
      let logTable = SigmaSpacing.logTable(table)
      let cosine = try config.json.string("beta_schedule") == "squaredcos_cap_v2"
      times = sigmas.map { sigma in
        let t = SigmaSpacing.timestep(forSigma: sigma, logTable: logTable)
        // Karras timesteps are rounded (except for cosine schedules); `.to(int64)` truncates.
        return Int(ramp == .karras && !cosine ? NumPy.round(t) : t)
      }
    }
    let finalSigma = finalSigmaIsZero ? 0 : Double(table[0])
    stepSigmas = (sigmas + [finalSigma]).map { Float($0) }
    integerTimesteps = times
    self.stepCount = stepCount
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor { sample }

  /// `_sigma_to_alpha_sigma_t`: α = 1/√(σ²+1), σₜ = σ·α.
  static func alphaSigma(_ sigma: Float) -> (alpha: Float, sigma: Float) {
    let alpha = 1 / (sigma * sigma + 1).squareRoot()
    return (alpha, sigma * alpha)
  }

  static func lambda(_ alphaSigma: (alpha: Float, sigma: Float)) -> Float {
    Foundation.log(alphaSigma.alpha) - Foundation.log(alphaSigma.sigma)
  }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let count = integerTimesteps.count
    let finalLow = step == count - 1 && (eulerAtFinal || (lowerOrderFinal && count < 15) || finalSigmaIsZero)
    let secondLow = step == count - 2 && lowerOrderFinal && count < 15
    let x0 = convertModelOutput(modelOutput, sample: sample, step: step)
    modelOutputs.append(x0)
    if modelOutputs.count > solverOrder { modelOutputs.removeFirst() }
    let noise = algorithm == .sdeDPMSolverPP ? rng.randn(modelOutput.shape) : nil
    let next: Tensor
    if solverOrder == 1 || lowerOrderCount < 1 || finalLow {
      next = firstOrderUpdate(x0, sample: sample, step: step, noise: noise)
    } else if solverOrder == 2 || lowerOrderCount < 2 || secondLow {
      next = secondOrderUpdate(sample: sample, step: step, noise: noise)
    } else {
      next = thirdOrderUpdate(sample: sample, step: step, noise: noise)
    }
    if lowerOrderCount < solverOrder { lowerOrderCount += 1 }
    return next
  }

  /// `convert_model_output` for the ++ algorithms: the x₀ prediction.
  func convertModelOutput(_ output: Tensor, sample: Tensor, step: Int) -> Tensor {
    let (alpha, sigma) = Self.alphaSigma(stepSigmas[step])
    switch prediction {
    case .epsilon: return Elementwise.zip(sample, output) { x, e in (x - sigma * e) / alpha }
    case .sample: return output
    case .vPrediction: return Elementwise.zip(sample, output) { x, v in alpha * x - sigma * v }
    }
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    let (alpha, sigma) = Self.alphaSigma(stepSigmas[step])
    return Elementwise.zip(original, noise) { x, n in alpha * x + sigma * n }
  }
}
