import Foundation

/// Noise levels for the k-diffusion style samplers (Euler, Euler-a, LMS, DPM-Solver), as the
/// diffusers schedulers derive them in `set_timesteps` (numpy, float64, then float32).
enum SigmaSpacing {
  /// Which σ ramp replaces the σ(t) of the spaced timesteps.
  enum Ramp: Equatable {
    /// σ interpolated at the timesteps (`np.interp`).
    case discrete
    /// Karras et al. 2022 (arXiv 2206.00364, eq. 5), ρ = 7 (`_convert_to_karras`).
    case karras
    /// Log-uniform from σ_max to σ_min (`_convert_to_exponential`).
    case exponential

    /// Reads `use_karras_sigmas` / `use_exponential_sigmas` (`use_beta_sigmas` is refused).
    static func read(_ config: SchedulerConfig, sampler: String) throws -> Ramp {
      try config.requireOff("use_beta_sigmas", sampler: sampler)
      let karras = try config.bool("use_karras_sigmas", default: false)
      let exponential = try config.bool("use_exponential_sigmas", default: false)
      if karras && exponential {
        throw SchedulerError.unsupportedOption(
          "\(config.json.source): only one of use_karras_sigmas and use_exponential_sigmas can be true")
      }
      return karras ? .karras : exponential ? .exponential : .discrete
    }
  }

  /// σ(t) at fractional timesteps, linear in t between training timesteps.
  static func interpolate(_ timesteps: [Double], table: [Float]) -> [Double] {
    let table = table.map(Double.init)
    return timesteps.map { NumPy.interp($0, table) }
  }

  /// `(σ_max^{1/ρ} + ramp·(σ_min^{1/ρ} − σ_max^{1/ρ}))^ρ`, ramp = linspace(0, 1, N), ρ = 7.
  static func karras(min sigmaMin: Double, max sigmaMax: Double, count: Int) -> [Double] {
    let rho = 7.0
    let minInvRho = Foundation.pow(sigmaMin, 1 / rho)
    let maxInvRho = Foundation.pow(sigmaMax, 1 / rho)
    return NumPy.linspace(0, 1, count).map { Foundation.pow(maxInvRho + $0 * (minInvRho - maxInvRho), rho) }
  }

  /// `exp(linspace(log σ_max, log σ_min, N))`.
  static func exponential(min sigmaMin: Double, max sigmaMax: Double, count: Int) -> [Double] {
    NumPy.linspace(Foundation.log(sigmaMax), Foundation.log(sigmaMin), count).map { Foundation.exp($0) }
  }

  /// The log-σ table `_sigma_to_t` searches: `np.log` of the float32 σ table, in float32.
  static func logTable(_ table: [Float]) -> [Float] { table.map(NumPy.logFloat32) }

  /// `_sigma_to_t`: the fractional timestep whose σ is `sigma`, interpolating log σ linearly
  /// between the two training timesteps around it (clamped to [0, T−1]).
  static func timestep(forSigma sigma: Double, logTable: [Float]) -> Double {
    let logSigma = Foundation.log(Swift.max(sigma, 1e-10))
    // low = the last index of the running count of (logσ − log_table ≥ 0), at its first maximum.
    var count = 0, best = -1, low = 0
    for (i, entry) in logTable.enumerated() {
      if logSigma - Double(entry) >= 0 { count += 1 }
      if count > best {
        best = count
        low = i
      }
    }
    low = Swift.min(low, logTable.count - 2)
    let lowLog = logTable[low], highLog = logTable[low + 1]
    var w = (Double(lowLog) - logSigma) / Double(lowLog - highLog)
    w = w.isNaN ? 0 : Swift.min(Swift.max(w, 0), 1)  // NaN only for degenerate (infinite) tables
    return (1 - w) * Double(low) + w * Double(low + 1)
  }
}
