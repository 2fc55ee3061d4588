import SDTensor

/// A diffusion sampler for one image: the timesteps it visits, how the model input is scaled, and
/// the update that turns a model prediction into the next latents.
///
/// The pipeline owns the model: it hands the sampler a `denoise(modelInput, timestep)` closure
/// that runs the UNet (with classifier-free guidance, inpainting channels, …) and returns the raw
/// prediction in the model's parameterisation (ε, v or x₀). Samplers never see the UNet.
/// Multistep samplers keep history, so make a fresh one per image (`makeSampler`).
///
/// Indices: `step` always indexes `timesteps` (diffusers' `step_index`); img2img starts at
/// `startIndex(strength:)` instead of 0.
public protocol Sampler {
  /// The value passed to the UNet at each model call, from noisiest to cleanest. Fractional for
  /// Euler, Euler-a and LMS; PNDM repeats its second timestep (N+1 calls).
  var timesteps: [Float] { get }
  /// The number of inference steps N that was asked for (`num_inference_steps`).
  var stepCount: Int { get }
  /// The standard deviation of fresh initial latents (`init_noise_sigma`): 1 for DDIM, PNDM and
  /// DPM-Solver; σ_max (or √(σ_max²+1) with leading spacing) for Euler, Euler-a and LMS.
  var initNoiseSigma: Float { get }
  /// σ per step plus the final σ, for the k-diffusion style samplers; nil for DDIM and PNDM.
  var sigmas: [Float]? { get }
  var prediction: PredictionType { get }

  /// The model input for call `step` (`scale_model_input`): x/√(σ²+1) for Euler, Euler-a and LMS,
  /// x itself for the others.
  func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor

  /// One update (`scheduler.step`) from the model's prediction at `timesteps[step]`. Ancestral and
  /// η > 0 samplers draw `modelOutput`-shaped noise from `rng`, as diffusers does from its generator.
  mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor

  /// Noises clean latents to the level of `timesteps[step]` (`add_noise` once the pipeline has set
  /// the begin index, as img2img and inpainting do): √ᾱ·x + √(1−ᾱ)·ε for DDIM and PNDM,
  /// x + σ·ε for Euler, Euler-a and LMS, α·x + σ·ε for DPM-Solver.
  func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor
}

extension Sampler {
  /// Initial latents for text-to-image: `noise · init_noise_sigma`.
  public func initialLatents(noise: Tensor) -> Tensor {
    let scale = initNoiseSigma
    return Elementwise.map(noise) { $0 * scale }
  }

  /// The first step for img2img and inpainting (`StableDiffusionImg2ImgPipeline.get_timesteps`):
  /// `t_start = N − min(⌊N·strength⌋, N)`. Throws when no step would be left.
  public func startIndex(strength: Double) throws -> Int {
    guard strength.isFinite, strength >= 0, strength <= 1 else {
      throw SchedulerError.invalidStrength(strength, stepCount: stepCount)
    }
    let initSteps = Swift.min(Int(Double(stepCount) * strength), stepCount)
    let start = Swift.max(stepCount - initSteps, 0)
    guard start < timesteps.count, initSteps > 0 else {
      throw SchedulerError.invalidStrength(strength, stepCount: stepCount)
    }
    return start
  }

  /// The denoising loop of the Stable Diffusion pipelines, from `timesteps[start]` up to (not
  /// including) `timesteps[end]` (default: the last): scale the input, call
  /// `denoise(modelInput, timestep)`, step. `afterStep(step, &latents)` runs after each update
  /// (progress, cancellation by throwing, inpainting's latent blending).
  public mutating func sample(
    _ latents: Tensor, from start: Int = 0, until end: Int? = nil, rng: inout TorchRandom,
    denoise: (_ modelInput: Tensor, _ timestep: Float) throws -> Tensor,
    afterStep: (_ step: Int, _ latents: inout Tensor) throws -> Void
  ) rethrows -> Tensor {
    let end = end ?? timesteps.count
    precondition(start >= 0 && start <= end && end <= timesteps.count, "sample: steps \(start)..<\(end) out of range")
    var x = latents
    for i in start..<end {
      let output = try denoise(scaleModelInput(x, step: i), timesteps[i])
      x = step(output, step: i, sample: x, rng: &rng)
      try afterStep(i, &x)
    }
    return x
  }

  /// `sample(_:from:rng:denoise:afterStep:)` without a per-step hook.
  public mutating func sample(
    _ latents: Tensor, from start: Int = 0, rng: inout TorchRandom,
    denoise: (_ modelInput: Tensor, _ timestep: Float) throws -> Tensor
  ) rethrows -> Tensor {
    try sample(latents, from: start, rng: &rng, denoise: denoise, afterStep: { _, _ in })
  }
}

/// The samplers sdedit implements, each the diffusers scheduler of the same algorithm.
public enum SamplerKind: String, Sendable, CaseIterable {
  case ddim
  case pndm
  case euler
  case eulerAncestral = "euler-a"
  case dpmpp2m = "dpmpp-2m"
  case lms
  case lcm
  case tcd

  /// The diffusers class this sampler reproduces.
  public var diffusersClassName: String {
    switch self {
    case .ddim: "DDIMScheduler"
    case .pndm: "PNDMScheduler"
    case .euler: "EulerDiscreteScheduler"
    case .eulerAncestral: "EulerAncestralDiscreteScheduler"
    case .dpmpp2m: "DPMSolverMultistepScheduler"
    case .lms: "LMSDiscreteScheduler"
    case .lcm: "LCMScheduler"
    case .tcd: "TCDScheduler"
    }
  }

  /// The sampler for a config's `_class_name`, if sdedit implements it.
  public init?(diffusersClassName name: String) {
    guard let kind = Self.allCases.first(where: { $0.diffusersClassName == name }) else { return nil }
    self = kind
  }

  /// Whether the diffusers class has `use_karras_sigmas` (EulerAncestralDiscreteScheduler has not).
  public var supportsKarras: Bool {
    switch self {
    case .euler, .dpmpp2m, .lms: true
    case .ddim, .pndm, .eulerAncestral, .lcm, .tcd: false
    }
  }

  /// Whether the diffusers class reads `timestep_spacing` (LCM and TCD take their timesteps from
  /// the distillation schedule instead).
  public var usesTimestepSpacing: Bool { self != .lcm && self != .tcd }

  /// The class's `timestep_spacing` when the config has none (REFERENCE B2): leading for DDIM
  /// and PNDM (and, unused, LCM and TCD), linspace for the k-diffusion samplers and DPM-Solver.
  public var defaultSpacing: TimestepSpacing {
    switch self {
    case .ddim, .pndm, .lcm, .tcd: .leading
    case .euler, .eulerAncestral, .dpmpp2m, .lms: .linspace
    }
  }
}

/// Builds the sampler for one image, as a diffusers pipeline would after
/// `pipe.scheduler = X.from_config(pipe.scheduler.config)` and `set_timesteps(stepCount)`.
///
/// - Parameters:
///   - kind: the sampler to use; nil means the config's own `_class_name`.
///   - config: the model's `scheduler_config.json`; keys it lacks take the sampler's defaults.
///   - karras: Karras σ spacing (`use_karras_sigmas=True`); Euler, LMS and DPM++ 2M only. When
///     false, the config's own `use_karras_sigmas` still applies.
///   - eta: the pipelines' `eta`: DDIM's η (default 0) and TCD's γ (default 0.3, the default of
///     `TCDScheduler.step`; `StableDiffusionPipeline` itself passes 0 unless told); ignored by
///     the other samplers, as in diffusers.
public func makeSampler(
  kind: SamplerKind?, config: SchedulerConfig, stepCount: Int, karras: Bool = false, eta: Double? = nil
) throws -> any Sampler {
  let resolved: SamplerKind
  if let kind {
    resolved = kind
  } else {
    let name = config.className ?? "PNDMScheduler"
    guard let native = SamplerKind(diffusersClassName: name) else {
      throw SchedulerError.unsupportedScheduler(className: name, source: config.json.source)
    }
    resolved = native
  }
  if karras && !resolved.supportsKarras {
    throw SchedulerError.unsupportedOption(
      "the \(resolved.rawValue) sampler has no Karras sigmas (diffusers' \(resolved.diffusersClassName) has no use_karras_sigmas); use euler, lms or dpmpp-2m with --karras")
  }
  let effective = karras ? config.overriding(["use_karras_sigmas": true]) : config
  switch resolved {
  case .ddim: return try DDIMSampler(config: effective, stepCount: stepCount, eta: Float(eta ?? 0))
  case .pndm: return try PNDMSampler(config: effective, stepCount: stepCount)
  case .euler: return try EulerSampler(config: effective, stepCount: stepCount)
  case .eulerAncestral: return try EulerAncestralSampler(config: effective, stepCount: stepCount)
  case .dpmpp2m: return try DPMSolverMultistepSampler(config: effective, stepCount: stepCount)
  case .lms: return try LMSSampler(config: effective, stepCount: stepCount)
  case .lcm: return try LCMSampler(config: effective, stepCount: stepCount)
  case .tcd: return try TCDSampler(config: effective, stepCount: stepCount, gamma: eta ?? 0.3)
  }
}

/// Validates a step count against the number of training timesteps.
func checkStepCount(_ steps: Int, _ schedule: NoiseSchedule) throws {
  guard steps >= 1, steps <= schedule.trainTimestepCount else {
    throw SchedulerError.invalidStepCount(steps, trainTimesteps: schedule.trainTimestepCount)
  }
}
