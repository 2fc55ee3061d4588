import SDTensor

/// PNDM / PLMS (arXiv 2202.09778). Matches diffusers 0.42 `PNDMScheduler`:
/// - with `skip_prk_steps` (SD 1.x configs): pure PLMS over N+1 model calls, the second timestep
///   repeated — call 0 steps with ε, call 1 restarts from the stored sample with (ε₀+ε₁)/2, then
///   Adams–Bashforth of order 2, 3 and 4 (`step_plms`);
/// - without it (the class default, e.g. after switching from a config that lacks the key):
///   12 Runge–Kutta calls over the first three intervals, then PLMS (`step_prk`); needs N ≥ 4;
/// - the update is eq. 9 of the paper (`_get_prev_sample`), for ε and v prediction;
/// - `add_noise` is DDPM's. The call counter runs from the first call this sampler sees, so an
///   img2img run starting mid-schedule behaves exactly like diffusers' (which restarts the counter).
public struct PNDMSampler: Sampler {
  public let schedule: NoiseSchedule
  public let prediction: PredictionType
  public let stepCount: Int
  public let integerTimesteps: [Int]
  let prkTimesteps: [Int]
  let skipPRK: Bool
  let finalAlphaCumprod: Float
  let ratio: Int

  // `step` state: calls so far, the last four ε, the stored sample, the running RK sum.
  var counter = 0
  var ets: [Tensor] = []
  var storedSample: Tensor?
  var rkSum: Tensor?

  public var timesteps: [Float] { integerTimesteps.map(Float.init) }
  public var initNoiseSigma: Float { 1 }
  public var sigmas: [Float]? { nil }

  public init(config: SchedulerConfig, stepCount: Int) throws {
    schedule = try NoiseSchedule(config: config, readsRescaleKey: false, clampFinalAlpha: false)
    try checkStepCount(stepCount, schedule)
    prediction = try PredictionType.read(config, allowed: ["epsilon", "v_prediction"])
    skipPRK = try config.bool("skip_prk_steps", default: false)
    finalAlphaCumprod = try config.bool("set_alpha_to_one", default: false) ? 1 : schedule.alphasCumprod[0]
    let spacing = try TimestepSpacing.read(config, default: SamplerKind.pndm.defaultSpacing)
    let train = schedule.trainTimestepCount
    let ascending = Array(spacing.integerTimesteps(
      count: stepCount, trainSteps: train, offset: try config.int("steps_offset", default: 0)).reversed())
    ratio = train / stepCount
    let n = ascending.count
    if skipPRK {
      // concat(t[:-1], t[-2:-1], t[-1:])[::-1]
      let repeated = n >= 2 ? [ascending[n - 2]] : []
      prkTimesteps = []
      integerTimesteps = (Array(ascending.dropLast()) + repeated + ascending.suffix(1)).reversed()
    } else {
      guard n >= 4 else {
        throw SchedulerError.unsupportedOption(
          "the pndm sampler without skip_prk_steps needs at least 4 steps (got \(stepCount))")
      }
      // (t[-4:].repeat(2) + tile([0, ratio//2], 4))[:-1].repeat(2)[1:-1][::-1]
      let half = ratio / 2
      let pairs = ascending.suffix(4).flatMap { [$0, $0 + half] }.dropLast()
      let doubled = pairs.flatMap { [$0, $0] }
      prkTimesteps = Array(doubled.dropFirst().dropLast().reversed())
      integerTimesteps = prkTimesteps + ascending.dropLast(3).reversed()
    }
    guard integerTimesteps.allSatisfy({ (-train..<train).contains($0) }) else {
      throw SchedulerError.unsupportedOption("\(config.json.source): steps_offset puts a timestep outside 0…\(train - 1)")
    }
    self.stepCount = stepCount
  }

  public func scaleModelInput(_ sample: Tensor, step: Int) -> Tensor { sample }

  public mutating func step(_ modelOutput: Tensor, step: Int, sample: Tensor, rng: inout TorchRandom) -> Tensor {
    let t = integerTimesteps[step]
    if !skipPRK && counter < prkTimesteps.count { return stepPRK(modelOutput, timestep: t, sample: sample) }
    return stepPLMS(modelOutput, timestep: t, sample: sample)
  }

  /// `step_plms`: linear multistep on the stored ε.
  mutating func stepPLMS(_ output: Tensor, timestep: Int, sample: Tensor) -> Tensor {
    var t = timestep
    var prevT = t - ratio
    if counter != 1 {
      ets = Array(ets.suffix(3)) + [output]
    } else {
      prevT = t
      t += ratio
    }
    var x = sample
    let e: Tensor
    if ets.count == 1 && counter == 0 {
      e = output
      storedSample = sample
    } else if ets.count == 1 && counter == 1 {
      e = Elementwise.zip(output, ets[0]) { a, b in (a + b) / 2 }
      x = storedSample ?? sample
      storedSample = nil
    } else if ets.count == 2 {
      e = Elementwise.zip(ets[1], ets[0]) { e1, e2 in (3 * e1 - e2) / 2 }
    } else if ets.count == 3 {
      e = Elementwise.zip(ets[2], ets[1], ets[0]) { e1, e2, e3 in (23 * e1 - 16 * e2 + 5 * e3) / 12 }
    } else {
      let c = Float(1.0 / 24.0)
      e = Elementwise.zip(ets[3], ets[2], ets[1], ets[0]) { e1, e2, e3, e4 in
        c * (55 * e1 - 59 * e2 + 37 * e3 - 9 * e4)
      }
    }
    counter += 1
    return previousSample(x, timestep: t, previous: prevT, output: e)
  }

  /// `step_prk`: a fourth-order Runge–Kutta step spread over four calls.
  mutating func stepPRK(_ output: Tensor, timestep: Int, sample: Tensor) -> Tensor {
    let diffToPrev = counter % 2 != 0 ? 0 : ratio / 2
    let prevT = timestep - diffToPrev
    let t = prkTimesteps[counter / 4 * 4]
    var e = output
    let sixth = Float(1.0 / 6.0), third = Float(1.0 / 3.0)
    switch counter % 4 {
    case 0:
      rkSum = accumulate(rkSum, output, sixth)
      ets.append(output)
      storedSample = sample
    case 1, 2:
      rkSum = accumulate(rkSum, output, third)
    default:
      let sum = rkSum ?? Tensor(zeros: output.shape)
      e = Elementwise.zip(sum, output) { s, o in s + sixth * o }
      rkSum = nil
    }
    counter += 1
    return previousSample(storedSample ?? sample, timestep: t, previous: prevT, output: e)
  }

  private func accumulate(_ sum: Tensor?, _ output: Tensor, _ weight: Float) -> Tensor {
    guard let sum else { return Elementwise.map(output) { weight * $0 } }
    return Elementwise.zip(sum, output) { s, o in s + weight * o }
  }

  /// ᾱ of the previous timestep: `final_alpha_cumprod` before 0.
  func previousAlphaCumprod(_ t: Int) -> Float {
    t >= 0 ? schedule.alphasCumprod[Swift.min(t, schedule.trainTimestepCount - 1)] : finalAlphaCumprod
  }

  /// `_get_prev_sample`, PNDM eq. 9: x' = √(ᾱ'/ᾱ)·x − (ᾱ'−ᾱ)·ε / (ᾱ·√(1−ᾱ') + √(ᾱ(1−ᾱ)ᾱ')).
  func previousSample(_ sample: Tensor, timestep: Int, previous: Int, output: Tensor) -> Tensor {
    // `alphas_cumprod[t]` (torch indexing; t + ratio is clamped, where diffusers would fail).
    let a = schedule.alphaCumprod(at: Swift.min(timestep, schedule.trainTimestepCount - 1))
    let aPrev = previousAlphaCumprod(previous)
    let b = 1 - a, bPrev = 1 - aPrev
    var eps = output
    if prediction == .vPrediction {
      let sqrtA = a.squareRoot(), sqrtB = b.squareRoot()
      eps = Elementwise.zip(output, sample) { v, x in sqrtA * v + sqrtB * x }
    }
    let sampleCoeff = (aPrev / a).squareRoot()
    let denominator = a * bPrev.squareRoot() + (a * b * aPrev).squareRoot()
    let difference = aPrev - a
    return Elementwise.zip(sample, eps) { x, e in sampleCoeff * x - difference * e / denominator }
  }

  public func addNoise(_ original: Tensor, noise: Tensor, step: Int) -> Tensor {
    schedule.addNoise(original, noise: noise, timestep: integerTimesteps[step])
  }
}
