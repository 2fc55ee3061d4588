import Foundation
import SDModels
import SDTensor
import Testing

/// Sampler construction: config reading and defaults, spacing tables from REFERENCE.md (B1, B2,
/// B3), and the errors a user can trigger.
struct SamplerOptionTests {
  static let sd15JSON = """
    {"_class_name": "PNDMScheduler", "_diffusers_version": "0.6.0", "beta_end": 0.012,
     "beta_schedule": "scaled_linear", "beta_start": 0.00085, "num_train_timesteps": 1000,
     "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "trained_betas": null,
     "clip_sample": false}
    """

  static func sd15() throws -> SchedulerConfig {
    try SchedulerConfig(data: Data(sd15JSON.utf8), source: "sd15/scheduler_config.json")
  }

  @Test func readsSD15ConfigFile() throws {
    let config = try Self.sd15()
    #expect(config.className == "PNDMScheduler")
    let sampler = try makeSampler(kind: nil, config: config, stepCount: 20)
    #expect(sampler is PNDMSampler)
    // B3: N+1 calls, the second timestep repeated.
    #expect(sampler.timesteps.prefix(4) == [951, 901, 901, 851])
    #expect(sampler.timesteps.count == 21)
    #expect(sampler.timesteps.last == 1)
  }

  @Test func literalConfigEqualsJSONConfig() throws {
    let literal = SchedulerConfig.stableDiffusion15
    for kind in SamplerKind.allCases {
      let a = try makeSampler(kind: kind, config: literal, stepCount: 12)
      let b = try makeSampler(kind: kind, config: try Self.sd15(), stepCount: 12)
      #expect(a.timesteps == b.timesteps, "\(kind)")
      #expect(a.initNoiseSigma == b.initNoiseSigma, "\(kind)")
    }
  }

  /// B2: switching keeps the config but each class keeps its own default spacing.
  @Test func switchedSamplersUseTheirOwnSpacingDefaults() throws {
    let config = try Self.sd15()
    let ddim = try makeSampler(kind: .ddim, config: config, stepCount: 20)
    #expect(ddim.timesteps.first == 951 && ddim.timesteps.last == 1)  // leading + offset 1
    let euler = try makeSampler(kind: .euler, config: config, stepCount: 20)
    #expect(euler.timesteps.first == 999 && euler.timesteps.last == 0)  // linspace
    #expect(abs(euler.timesteps[1] - 946.42105) < 1e-4)
    #expect(abs(euler.initNoiseSigma - 14.6146) < 1e-3)  // σ_max with linspace
    let dpm = try makeSampler(kind: .dpmpp2m, config: config, stepCount: 20)
    #expect(dpm.timesteps.first == 999 && dpm.initNoiseSigma == 1)
    let leading = try makeSampler(kind: .euler, config: config.overriding(["timestep_spacing": "leading"]), stepCount: 20)
    #expect(leading.timesteps.first == 951)
    let sigmaMax = try #require(leading.sigmas?.first)
    #expect(leading.initNoiseSigma == (sigmaMax * sigmaMax + 1).squareRoot())
  }

  @Test func trailingSpacing() throws {
    let config = try Self.sd15().overriding(["timestep_spacing": "trailing"])
    let ddim = try makeSampler(kind: .ddim, config: config, stepCount: 20)
    #expect(ddim.timesteps.prefix(3) == [999, 949, 899])
    // numpy's arange(1000, 0, -1000/61) has 62 values, and diffusers keeps them all.
    let odd = try makeSampler(kind: .ddim, config: config, stepCount: 61)
    #expect(odd.timesteps.count == 62)
  }

  /// B1: SD's scaled-linear schedule.
  @Test func stableDiffusionNoiseSchedule() {
    let schedule = NoiseSchedule(.scaledLinear, betaStart: 0.00085, betaEnd: 0.012)
    #expect(abs(schedule.alphasCumprod[0] - 0.99915) < 1e-5)
    #expect(abs(schedule.alphasCumprod[999] - 0.004660) < 1e-5)
    #expect(abs(schedule.sigmas[0] - 0.029167) < 1e-5)
    #expect(abs(schedule.sigmas[999] - 14.6146) < 1e-3)
  }

  @Test func karrasOnlyWhereDiffusersHasIt() throws {
    let config = try Self.sd15()
    for kind in SamplerKind.allCases {
      if kind.supportsKarras {
        let sampler = try makeSampler(kind: kind, config: config, stepCount: 10, karras: true)
        #expect(sampler.sigmas != nil)
      } else {
        #expect(throws: SchedulerError.self) { try makeSampler(kind: kind, config: config, stepCount: 10, karras: true) }
      }
    }
  }

  @Test func unsupportedSchedulerClass() throws {
    let config = SchedulerConfig(values: ["_class_name": "UniPCMultistepScheduler"], source: "x.json")
    #expect(throws: SchedulerError.unsupportedScheduler(className: "UniPCMultistepScheduler", source: "x.json")) {
      try makeSampler(kind: nil, config: config, stepCount: 10)
    }
    // Naming a sampler still works with that config, as from_config would.
    #expect(try makeSampler(kind: .euler, config: config, stepCount: 10).timesteps.count == 10)
  }

  @Test func invalidValuesAreReported() throws {
    let sd15 = try Self.sd15()
    let badSchedule = sd15.overriding(["beta_schedule": "sigmoid"])
    #expect(throws: SchedulerError.self) { try makeSampler(kind: .euler, config: badSchedule, stepCount: 10) }
    let badSpacing = sd15.overriding(["timestep_spacing": "middle"])
    #expect(throws: SchedulerError.self) { try makeSampler(kind: .ddim, config: badSpacing, stepCount: 10) }
    let badType = sd15.overriding(["steps_offset": "one"])
    #expect(throws: ConfigError.self) { try makeSampler(kind: .ddim, config: badType, stepCount: 10) }
    let badBool = try SchedulerConfig(data: Data(#"{"skip_prk_steps": 1}"#.utf8))
    #expect(throws: ConfigError.self) { try makeSampler(kind: .pndm, config: badBool, stepCount: 10) }
    for broken in [["beta_end": 5.0], ["trained_betas": [0.1]], ["trained_betas": [0.1, 1.5]], ["num_train_timesteps": 1]] {
      #expect(throws: ConfigError.self) { try makeSampler(kind: .dpmpp2m, config: sd15.overriding(broken), stepCount: 1, karras: true) }
    }
    #expect(throws: SchedulerError.self) {
      try makeSampler(kind: .ddim, config: sd15.overriding(["steps_offset": 5000]), stepCount: 10)
    }
    let thresholding = sd15.overriding(["thresholding": true])
    #expect(throws: SchedulerError.self) { try makeSampler(kind: .ddim, config: thresholding, stepCount: 10) }
    for steps in [0, -3, 1001] {
      #expect(throws: SchedulerError.invalidStepCount(steps, trainTimesteps: 1000)) {
        try makeSampler(kind: .euler, config: sd15, stepCount: steps)
      }
    }
    let prk = sd15.overriding(["skip_prk_steps": false])
    #expect(throws: SchedulerError.self) { try makeSampler(kind: .pndm, config: prk, stepCount: 3) }
    #expect(try makeSampler(kind: .pndm, config: prk, stepCount: 4).timesteps.count == 13)
  }

  /// B2: `init = min(⌊N·strength⌋, N)`, `t_start = N − init`.
  @Test func strengthStartIndex() throws {
    let sampler = try makeSampler(kind: .euler, config: try Self.sd15(), stepCount: 10)
    #expect(try sampler.startIndex(strength: 1) == 0)
    #expect(try sampler.startIndex(strength: 0.75) == 3)
    #expect(try sampler.startIndex(strength: 0.3) == 7)
    for strength in [0.0, 0.05, -0.1, 1.5, .nan] {
      #expect(throws: SchedulerError.self) { try sampler.startIndex(strength: strength) }
    }
    let pndm = try makeSampler(kind: .pndm, config: try Self.sd15(), stepCount: 10)
    #expect(try pndm.startIndex(strength: 0.5) == 5)
  }

  @Test func freshSamplersRepeatExactly() throws {
    func run() throws -> Tensor {
      var sampler = try makeSampler(kind: .eulerAncestral, config: try Self.sd15(), stepCount: 6)
      var rng = TorchRandom(seed: 42)
      let x = sampler.initialLatents(noise: rng.randn([1, 4, 2, 3]))
      return sampler.sample(x, rng: &rng) { input, t in input.map { $0 * 0.1 + t / 1000 } }
    }
    #expect(try run() == run())
  }

  @Test func afterStepCanStopTheLoop() throws {
    struct Stop: Error {}
    var sampler = try makeSampler(kind: .dpmpp2m, config: try Self.sd15(), stepCount: 8)
    var rng = TorchRandom(seed: 1)
    var calls = 0
    #expect(throws: Stop.self) {
      _ = try sampler.sample(Tensor(zeros: [1, 4, 2, 2]), rng: &rng) { input, _ in
        calls += 1
        return input
      } afterStep: { step, _ in
        if step == 2 { throw Stop() }
      }
    }
    #expect(calls == 3)
  }
}
