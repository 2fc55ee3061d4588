import Foundation
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// Every sampler against diffusers 0.42.1 (scripts/fixtures/schedulers.py): timesteps, σ,
/// init_noise_sigma, and whole trajectories (model input and latents after every step) driven by
/// the same fake model and the same seeded generator.
struct SamplerParityTests {
  @Test func fixtureIsPresent() {
    #expect(SamplerFixture.txt2img.count >= 100)
    #expect(SamplerFixture.img2img.count >= 100)
  }

  @Test(arguments: SamplerFixture.txt2img)
  func txt2imgTrajectory(_ c: SamplerFixture.Case) throws {
    var sampler = try SamplerFixture.makeSampler(c)
    let refTimesteps = try #require(try SamplerFixture.values(c, "timesteps"))
    #expect(sampler.timesteps.count == refTimesteps.count, "timestep count")
    // Spaced timesteps are exact; σ→t mapped ones (Karras, exponential) inherit torch's MKL
    // square roots in the σ table, so they may differ in the last bits.
    let mapped = sampler.timesteps.contains { $0 != $0.rounded() }
    let timestepTolerance: Float = mapped ? (SamplerFixture.isZeroSNR(c) ? 1e-5 : 1e-6) : 0
    for (t, ref) in zip(sampler.timesteps, refTimesteps) {
      #expect(abs(t - ref) <= timestepTolerance * Swift.max(1, abs(ref)), "timestep \(t) vs \(ref)")
    }
    if let refSigmas = try SamplerFixture.values(c, "sigmas") {
      let sigmas = try #require(sampler.sigmas)
      let error = Compare.maxRelDiff(sigmas, refSigmas)
      #expect(error <= SamplerFixture.sigmaTolerance(c), "sigmas off by \(error): \(sigmas) vs \(refSigmas)")
    }
    let refInit = Float((c.raw["init_noise_sigma"] as! NSNumber).doubleValue)
    #expect(abs(sampler.initNoiseSigma - refInit) <= 1e-6 * refInit, "init_noise_sigma")

    var rng = TorchRandom(seed: SamplerFixture.seed)
    let latents = sampler.initialLatents(noise: rng.randn(SamplerFixture.latentShape))
    let refInitial = try #require(try SamplerFixture.values(c, "initial_latents"))
    #expect(Compare.maxAbsDiff(latents.data, refInitial) <= SamplerFixture.tolerance(refInitial[...], c))
    try checkTrajectory(c, sampler: &sampler, start: 0, latents: latents, rng: &rng)
  }

  @Test(arguments: SamplerFixture.img2img)
  func img2img(_ c: SamplerFixture.Case) throws {
    var sampler = try SamplerFixture.makeSampler(c)
    let strength = try #require(c.strength)
    let start = try sampler.startIndex(strength: strength)
    #expect(start == c.raw["start_index"] as? Int)
    var imageRNG = TorchRandom(seed: SamplerFixture.imageSeed)
    var noiseRNG = TorchRandom(seed: SamplerFixture.noiseSeed)
    let image = imageRNG.randn(SamplerFixture.latentShape)
    let noise = noiseRNG.randn(SamplerFixture.latentShape)
    let noisy = sampler.addNoise(image, noise: noise, step: start)
    let refNoisy = try #require(try SamplerFixture.values(c, "noisy"))
    #expect(Compare.maxAbsDiff(noisy.data, refNoisy) <= SamplerFixture.tolerance(refNoisy[...], c), "add_noise")
    guard c.slice("latents") != nil else { return }
    var rng = TorchRandom(seed: SamplerFixture.seed)
    let from = Tensor(shape: SamplerFixture.latentShape, data: refNoisy)
    try checkTrajectory(c, sampler: &sampler, start: start, latents: from, rng: &rng)
  }

  /// Runs `sample` from `start` and compares every model input and every step's latents.
  func checkTrajectory(
    _ c: SamplerFixture.Case, sampler: inout any Sampler, start: Int, latents: Tensor, rng: inout TorchRandom
  ) throws {
    let refInputs = try #require(try SamplerFixture.values(c, "model_inputs"))
    let refLatents = try #require(try SamplerFixture.values(c, "latents"))
    let n = latents.count
    var inputs: [Float] = [], outputs: [Float] = []
    _ = sampler.sample(latents, from: start, rng: &rng) { input, t in
      inputs += input.data
      return SamplerFixture.fakeModel(input, t)
    } afterStep: { _, x in
      outputs += x.data
    }
    #expect(inputs.count == refInputs.count && outputs.count == refLatents.count, "call count")
    guard inputs.count == refInputs.count, outputs.count == refLatents.count else { return }
    for step in 0..<(refLatents.count / n) {
      let range = (step * n)..<((step + 1) * n)
      let inputError = Compare.maxAbsDiff(Array(inputs[range]), Array(refInputs[range]))
      let latentError = Compare.maxAbsDiff(Array(outputs[range]), Array(refLatents[range]))
      let inputTolerance = SamplerFixture.tolerance(refInputs[range], c)
      let latentTolerance = SamplerFixture.tolerance(refLatents[range], c)
      #expect(inputError <= inputTolerance, "step \(step): model input off by \(inputError)")
      #expect(latentError <= latentTolerance, "step \(step): latents off by \(latentError) (tolerance \(latentTolerance))")
      if inputError > inputTolerance || latentError > latentTolerance { return }
    }
  }

  /// A config's own `_class_name` (kind nil) builds the same sampler as naming that class.
  @Test(arguments: ["sd15", "sd21", "sdxl", "zsnr"])
  func nativeSamplerFollowsClassName(_ name: String) throws {
    let c = try #require(SamplerFixture.txt2img.first { $0.configName == name })
    let config = try SamplerFixture.schedulerConfig(c)
    let native = try makeSampler(kind: nil, config: config, stepCount: 10)
    let kind = try #require(SamplerKind(diffusersClassName: config.className!))
    let named = try makeSampler(kind: kind, config: config, stepCount: 10)
    #expect(native.timesteps == named.timesteps)
    #expect(type(of: native) == type(of: named))
  }

  @Test(arguments: ["scaled_linear", "linear", "squaredcos_cap_v2", "linear_zsnr", "euler_zsnr"])
  func noiseScheduleMatchesTorch(_ name: String) throws {
    let schedules = try #require(SamplerFixture.index["schedules"] as? [String: [String: Any]])
    let slice = try #require(SamplerFixture.Slice(schedules[name]?["alphas_cumprod"]))
    let reference = Array(try SamplerFixture.floats("schedules.f32")[slice.offset..<(slice.offset + slice.count)])
    let schedule: NoiseSchedule
    switch name {
    case "scaled_linear": schedule = NoiseSchedule(.scaledLinear, betaStart: 0.00085, betaEnd: 0.012)
    case "linear": schedule = NoiseSchedule(.linear)
    case "squaredcos_cap_v2": schedule = NoiseSchedule(.squaredCosCapV2)
    case "linear_zsnr": schedule = NoiseSchedule(.linear, rescaleZeroTerminalSNR: true)
    default: schedule = NoiseSchedule(.linear, rescaleZeroTerminalSNR: true, clampFinalAlpha: true)
    }
    if name.hasSuffix("zsnr") {
      // The rescale takes square roots, which torch computes with MKL (not correctly rounded);
      // the cancellation near ᾱ = 0 magnifies those last-bit differences.
      let error = Compare.maxRelDiff(schedule.alphasCumprod, reference, floor: 1e-7)
      #expect(error <= 2e-4, "ᾱ off by \(error) (relative)")
    } else {
      let mismatches = zip(schedule.alphasCumprod, reference).filter { $0.bitPattern != $1.bitPattern }.count
      #expect(mismatches == 0, "\(mismatches) of \(reference.count) ᾱ values differ")
    }
  }
}
