import Foundation
import SDTensor

/// The training noise schedule: βₜ, and ᾱₜ = Π(1 − βᵢ), in float32 exactly as diffusers'
/// scheduler constructors compute them (`scheduling_ddim.py::__init__` and its copies):
/// - `linear`: `torch.linspace(β₀, β₁, T)`;
/// - `scaled_linear`: `torch.linspace(√β₀, √β₁, T)²` (Stable Diffusion: 0.00085 → 0.012);
/// - `squaredcos_cap_v2`: `betas_for_alpha_bar` (cosine ᾱ, β capped at 0.999), in double;
/// - `trained_betas`: given list;
/// then optionally `rescale_zero_terminal_snr` (arXiv 2305.08891, Algorithm 1).
public struct NoiseSchedule: Sendable, Equatable {
  public enum BetaSchedule: String, Sendable, CaseIterable {
    case linear
    case scaledLinear = "scaled_linear"
    case squaredCosCapV2 = "squaredcos_cap_v2"
  }

  public let betas: [Float]
  /// ᾱₜ for t = 0 … T−1.
  public let alphasCumprod: [Float]

  public var trainTimestepCount: Int { alphasCumprod.count }

  /// - Parameters:
  ///   - rescaleZeroTerminalSNR: `rescale_betas_zero_snr`, which makes ᾱ_{T−1} = 0.
  ///   - clampFinalAlpha: Euler, Euler-a and DPM-Solver then set ᾱ_{T−1} = 2⁻²⁴ so that σ stays
  ///     finite; DDIM keeps 0.
  public init(betas: [Float], rescaleZeroTerminalSNR: Bool = false, clampFinalAlpha: Bool = false) {
    precondition(!betas.isEmpty, "NoiseSchedule: no betas")
    let finalBetas = rescaleZeroTerminalSNR ? Self.rescaledForZeroTerminalSNR(betas) : betas
    var cumprod = Torch.cumprod(finalBetas.map { 1 - $0 })
    if rescaleZeroTerminalSNR && clampFinalAlpha { cumprod[cumprod.count - 1] = 0x1p-24 }
    self.betas = finalBetas
    self.alphasCumprod = cumprod
  }

  public init(
    _ schedule: BetaSchedule, betaStart: Double = 0.0001, betaEnd: Double = 0.02, count: Int = 1000,
    rescaleZeroTerminalSNR: Bool = false, clampFinalAlpha: Bool = false
  ) {
    let betas: [Float]
    switch schedule {
    case .linear:
      betas = Torch.linspace(betaStart, betaEnd, count)
    case .scaledLinear:
      betas = Torch.linspace(betaStart.squareRoot(), betaEnd.squareRoot(), count).map { $0 * $0 }
    case .squaredCosCapV2:
      betas = Self.cosineBetas(count)
    }
    self.init(betas: betas, rescaleZeroTerminalSNR: rescaleZeroTerminalSNR, clampFinalAlpha: clampFinalAlpha)
  }

  /// The defaults of a scheduler class for keys its config leaves out: DDPM's (`linear`,
  /// 0.0001 → 0.02) for most classes; LCM and TCD default to SD's `scaled_linear` 0.00085 → 0.012.
  struct Defaults {
    var schedule = BetaSchedule.linear
    var betaStart = 0.0001
    var betaEnd = 0.02
    static let ddpm = Defaults()
    static let stableDiffusion = Defaults(schedule: .scaledLinear, betaStart: 0.00085, betaEnd: 0.012)
  }

  /// Reads `num_train_timesteps`, `beta_start`, `beta_end`, `beta_schedule`, `trained_betas`
  /// and (where the sampler has that key) `rescale_betas_zero_snr`, with the class's defaults.
  init(config: SchedulerConfig, readsRescaleKey: Bool, clampFinalAlpha: Bool, defaults: Defaults = .ddpm) throws {
    let rescale = readsRescaleKey ? try config.bool("rescale_betas_zero_snr", default: false) : false
    if let trained = try config.trainedBetas() {
      guard trained.count >= 2 else {
        throw ConfigError(source: config.json.source, problem: "key \"trained_betas\" needs at least 2 values")
      }
      try self.init(checking: trained.map { Float($0) }, source: config.json.source, rescale: rescale, clamp: clampFinalAlpha)
      return
    }
    let count = try config.int("num_train_timesteps", default: 1000)
    guard (2...100_000).contains(count) else {
      throw ConfigError(source: config.json.source, problem: "key \"num_train_timesteps\" should be between 2 and 100000")
    }
    let name = try config.string(
      "beta_schedule", default: defaults.schedule.rawValue, allowed: BetaSchedule.allCases.map(\.rawValue))
    let betas = NoiseSchedule(
      BetaSchedule(rawValue: name)!, betaStart: try config.double("beta_start", default: defaults.betaStart),
      betaEnd: try config.double("beta_end", default: defaults.betaEnd), count: count
    ).betas
    try self.init(checking: betas, source: config.json.source, rescale: rescale, clamp: clampFinalAlpha)
  }

  /// Betas from a file must lie in [0, 1): anything else makes ᾱ leave (0, 1] and σ undefined.
  private init(checking betas: [Float], source: String, rescale: Bool, clamp: Bool) throws {
    guard betas.allSatisfy({ $0.isFinite && $0 >= 0 && $0 < 1 }) else {
      throw ConfigError(source: source, problem: "the noise schedule has betas outside [0, 1) (check beta_start, beta_end, trained_betas)")
    }
    self.init(betas: betas, rescaleZeroTerminalSNR: rescale, clampFinalAlpha: clamp)
  }

  /// k-diffusion noise levels σₜ = √((1 − ᾱₜ)/ᾱₜ), float32 as torch computes them.
  public var sigmas: [Float] { alphasCumprod.map { ((1 - $0) / $0).squareRoot() } }

  /// ᾱ at `timestep` indexed the way torch indexes `alphas_cumprod[t]`: −1 is the last entry.
  /// (Trailing spacing can produce t = −1, e.g. for 61 steps.)
  public func alphaCumprod(at timestep: Int) -> Float {
    precondition((-trainTimestepCount..<trainTimestepCount).contains(timestep), "timestep \(timestep) out of range")
    return alphasCumprod[timestep >= 0 ? timestep : timestep + trainTimestepCount]
  }

  /// DDPM forward noising `√ᾱₜ·x₀ + √(1−ᾱₜ)·ε` (`DDPMScheduler.add_noise`, also DDIM's and PNDM's).
  public func addNoise(_ original: Tensor, noise: Tensor, timestep: Int) -> Tensor {
    let a = alphaCumprod(at: timestep)
    let sqrtA = a.squareRoot(), sqrtOneMinusA = (1 - a).squareRoot()
    return Elementwise.zip(original, noise) { x, n in sqrtA * x + sqrtOneMinusA * n }
  }

  // MARK: - Schedules

  /// `betas_for_alpha_bar(T)` with the cosine ᾱ(t) = cos²((t + 0.008)/1.008 · π/2), in double.
  static func cosineBetas(_ count: Int) -> [Float] {
    func alphaBar(_ t: Double) -> Double {
      let c = Foundation.cos((t + 0.008) / 1.008 * Double.pi / 2)
      return c * c
    }
    return (0..<count).map { i in
      let t1 = Double(i) / Double(count), t2 = Double(i + 1) / Double(count)
      return Float(Swift.min(1 - alphaBar(t2) / alphaBar(t1), 0.999))
    }
  }

  /// `rescale_zero_terminal_snr`: shift and scale √ᾱ so that its last value is 0 and its first
  /// unchanged, then recover the betas (float32 throughout, as the torch code).
  static func rescaledForZeroTerminalSNR(_ betas: [Float]) -> [Float] {
    var sqrtBar = Torch.cumprod(betas.map { 1 - $0 }).map { $0.squareRoot() }
    let first = sqrtBar[0], last = sqrtBar[sqrtBar.count - 1]
    let scale = first / (first - last)
    sqrtBar = sqrtBar.map { ($0 - last) * scale }
    let bar = sqrtBar.map { $0 * $0 }
    var alphas = [bar[0]]
    for i in 1..<bar.count { alphas.append(bar[i] / bar[i - 1]) }
    return alphas.map { 1 - $0 }
  }
}
