import SDTensor

/// Latent Consistency Model sampling (arXiv 2310.04378). Matches diffusers 0.42.1
/// `LCMScheduler`: the timesteps of `ConsistencySchedule` (999, 759, 499, 259 for 4 steps),
/// `init_noise_sigma` 1, no input scaling, and `step`:
/// x₀ from the prediction (ε, v or x₀; `clip_sample`), the boundary-condition scalings
/// `c_skip = σ_d²/((s·t)² + σ_d²)`, `c_out = s·t/√((s·t)² + σ_d²)` with σ_d = 0.5 and
/// s = `timestep_scaling` (10), `denoised = c_out·x₀ + c_skip·x`, then — except after the last
/// step — fresh noise: `x' = √ᾱ'·denoised + √(1−ᾱ')·z` with `z = randn(model_output.shape)`.
/// N steps draw N − 1 noise tensors (1-step sampling draws none).
/// Limitations: `thresholding` is refused; custom timestep lists are not offered.
public struct LCMSampler: Sampler {
  let consistency: ConsistencySchedule
  let timestepScaling: Float

  public var timesteps: [Float] { consistency.timesteps }
  public var stepCount: Int { consistency.stepCount }
  public var initNoiseSigma: Float { 1 }
  public var sigmas: [Float]? { nil }
  public var prediction: PredictionType { consistency.prediction }

  public init(config: SchedulerConfig, stepCount: Int) throws {
    consistency = try ConsistencySchedule(config: config, stepCount: stepCount, sampler: "lcm")
    timestepScaling = Float(try config.double("timestep_scaling", default: 10))
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor { sample }

  /// `get_scalings_for_boundary_condition_discrete`, in float32 as torch computes it from the
  /// int64 timestep tensor.
  func boundaryScalings(_ t: Int) -> (skip: Float, out: Float) {
    let sigmaData: Float = 0.25  // σ_d² with σ_d = 0.5
    let scaled = Float(t) * timestepScaling
    return (sigmaData / (scaled * scaled + sigmaData), scaled / (scaled * scaled + sigmaData).squareRoot())
  }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let t = consistency.integerTimesteps[step]
    let a = consistency.alphaCumprod(t)
    var x0 = consistency.prediction.originalAndNoise(modelOutput, sample: sample, alphaCumprod: a).x0
    if let range = consistency.clipRange { x0 = Elementwise.map(x0) { Swift.min(Swift.max($0, -range), range) } }
    let (cSkip, cOut) = boundaryScalings(t)
    let denoised = Elementwise.zip(x0, sample) { x0, x in cOut * x0 + cSkip * x }
    guard let next = consistency.next(after: step) else { return denoised }
    let aPrev = consistency.alphaCumprod(next)
    let sqrtAPrev = aPrev.squareRoot(), sqrtBetaPrev = (1 - aPrev).squareRoot()
    let noise = rng.randn(modelOutput.shape)
    return Elementwise.zip(denoised, noise) { d, z in sqrtAPrev * d + sqrtBetaPrev * z }
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    consistency.addNoise(original, noise: noise, step: step)
  }
}
