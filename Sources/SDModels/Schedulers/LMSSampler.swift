import SDTensor

/// Linear multistep in σ (k-diffusion `sample_lms`, order 4). Matches diffusers 0.42
/// `LMSDiscreteScheduler`: keeps the last four derivatives d = (x − x₀)/σ and steps
/// `x' = x + Σⱼ cⱼ·d_{i−j}`, where cⱼ integrates the Lagrange basis polynomial through
/// σᵢ, σᵢ₋₁, … over [σᵢ, σᵢ₊₁]; the order is `min(step index + 1, 4)` as in diffusers (so an
/// img2img run starting mid-schedule pairs high-order coefficients with fewer derivatives,
/// exactly like diffusers). ε, v and x₀ prediction; Karras and exponential σ.
///
/// diffusers integrates with `scipy.integrate.quad` on a float32 integrand; here the integral of
/// the (at most cubic) polynomial is exact (4-point Gauss–Legendre in double), which agrees to
/// float32 rounding.
public struct LMSSampler: Sampler {
  public static let order = 4

  public let schedule: NoiseSchedule
  public let prediction: PredictionType
  public let stepCount: Int
  let kSchedule: KSigmaSchedule
  var derivatives: [Tensor] = []

  public var timesteps: [Float] { kSchedule.timesteps }
  public var initNoiseSigma: Float { kSchedule.initNoiseSigma }
  public var sigmas: [Float]? { kSchedule.sigmas }

  public init(config: SchedulerConfig, stepCount: Int) throws {
    schedule = try NoiseSchedule(config: config, readsRescaleKey: false, clampFinalAlpha: false)
    try checkStepCount(stepCount, schedule)
    prediction = try PredictionType.read(config, allowed: ["epsilon", "v_prediction", "sample"])
    var options = KSigmaSchedule.Options(
      spacing: try TimestepSpacing.read(config, default: SamplerKind.lms.defaultSpacing),
      stepsOffset: try config.int("steps_offset", default: 0))
    options.ramp = try SigmaSpacing.Ramp.read(config, sampler: "lms")
    if options.ramp == .exponential {
      options.sigmaMin = try config.double("sigma_min")
      options.sigmaMax = try config.double("sigma_max")
    }
    kSchedule = KSigmaSchedule(schedule: schedule, stepCount: stepCount, options: options)
    self.stepCount = stepCount
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor {
    kSchedule.scaleModelInput(sample, step: step)
  }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let sigma = kSchedule.sigmas[step]
    let x0 = KSigmaSchedule.denoised(modelOutput, sample: sample, sigma: sigma, prediction: prediction)
    derivatives.append(Elementwise.zip(sample, x0) { x, x0 in (x - x0) / sigma })
    if derivatives.count > Self.order { derivatives.removeFirst() }
    let order = Swift.min(step + 1, Self.order)
    // Σ cⱼ·d_{i−j}, accumulated left to right as Python's sum(), then added to x.
    var total: Tensor?
    for (j, derivative) in zip(0..<order, derivatives.reversed()) {
      let c = Float(coefficient(order: order, step: step, basis: j))
      total = total.map { t in Elementwise.zip(t, derivative) { s, d in s + c * d } }
        ?? Elementwise.map(derivative) { c * $0 }
    }
    guard let total else { return sample }
    return Elementwise.zip(sample, total) { x, s in x + s }
  }

  /// `get_lms_coefficient`: ∫ over [σᵢ, σᵢ₊₁] of ∏_{k≠j} (τ − σ_{i−k}) / (σ_{i−j} − σ_{i−k}).
  func coefficient(order: Int, step: Int, basis j: Int) -> Double {
    let s = kSchedule.sigmas.map(Double.init)
    func lagrange(_ tau: Double) -> Double {
      var product = 1.0
      for k in 0..<order where k != j {
        product *= (tau - s[step - k]) / (s[step - j] - s[step - k])
      }
      return product
    }
    let a = s[step], b = s[step + 1]
    let mid = (a + b) / 2, half = (b - a) / 2
    // 4-point Gauss–Legendre nodes and weights: exact for polynomials of degree ≤ 7.
    let nodes = [0.3399810435848562648, 0.8611363115940525752]
    let weights = [0.6521451548625461426, 0.3478548451374538574]
    var integral = 0.0
    for (x, w) in zip(nodes, weights) {
      integral += w * (lagrange(mid - half * x) + lagrange(mid + half * x))
    }
    return integral * half
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    kSchedule.addNoise(original, noise: noise, step: step)
  }
}
