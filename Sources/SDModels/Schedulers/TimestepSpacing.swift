/// How `set_timesteps` picks N of the T training timesteps (arXiv 2305.08891, Table 2), as each
/// diffusers scheduler spells it out (`timestep_spacing`, `steps_offset`). All lists run from the
/// noisiest timestep down.
public enum TimestepSpacing: String, Sendable, CaseIterable {
  /// `ratio = T // N`; `t = i·ratio + steps_offset` (SD 1.5 with offset 1: 951 … 1 for N = 20).
  case leading
  /// `linspace(0, T−1, N)`: 999 … 0 (floats for Euler and LMS, rounded for DDIM and PNDM).
  case linspace
  /// `round(arange(T, 0, −T/N)) − 1`: 999, 949, … for N = 20.
  case trailing

  /// Reads `timestep_spacing`, defaulting to the sampler's own default.
  static func read(_ config: SchedulerConfig, default value: TimestepSpacing) throws -> TimestepSpacing {
    let name = try config.string("timestep_spacing", default: value.rawValue, allowed: allCases.map(\.rawValue))
    return TimestepSpacing(rawValue: name)!
  }

  /// DDIM's and PNDM's integer timesteps, descending (`scheduling_ddim.py::set_timesteps`).
  func integerTimesteps(count: Int, trainSteps: Int, offset: Int) -> [Int] {
    switch self {
    case .linspace:
      return NumPy.linspace(0, Double(trainSteps - 1), count).map { Int(NumPy.round($0)) }.reversed()
    case .leading:
      let ratio = trainSteps / count
      return (0..<count).reversed().map { $0 * ratio + offset }
    case .trailing:
      return NumPy.arange(Double(trainSteps), 0, -Double(trainSteps) / Double(count)).map { Int(NumPy.round($0)) - 1 }
    }
  }

  /// Euler's, Euler-a's and LMS's float32 timesteps, descending
  /// (`scheduling_euler_discrete.py::set_timesteps`).
  func floatTimesteps(count: Int, trainSteps: Int, offset: Int) -> [Float] {
    switch self {
    case .linspace:
      return NumPy.linspace(0, Double(trainSteps - 1), count).map { Float($0) }.reversed()
    case .leading, .trailing:
      return integerTimesteps(count: count, trainSteps: trainSteps, offset: offset).map { Float($0) }
    }
  }

  /// DPM-Solver's integer timesteps, descending (`scheduling_dpmsolver_multistep.py::set_timesteps`):
  /// N+1 points with the last (0) dropped, over `[0, last)` where `last` excludes timesteps whose
  /// λ is below `lambda_min_clipped`.
  func dpmSolverTimesteps(count: Int, trainSteps: Int, last: Int, offset: Int) -> [Int] {
    switch self {
    case .linspace:
      let points = NumPy.linspace(0, Double(last - 1), count + 1).map { Int(NumPy.round($0)) }
      return Array(points.reversed().dropLast())
    case .leading:
      let ratio = last / (count + 1)
      return (1...count).reversed().map { $0 * ratio + offset }
    case .trailing:
      return NumPy.arange(Double(last), 0, -Double(trainSteps) / Double(count)).map { Int(NumPy.round($0)) - 1 }
    }
  }
}
