import Foundation

/// A diffusers `scheduler_config.json`, kept as written: only the keys the file contains.
///
/// diffusers' `XScheduler.from_config(pipe.scheduler.config)` passes on the keys the file set and
/// lets every other key take class X's own default (`ConfigMixin.extract_init_dict` drops the
/// `_use_default_values` of the first class). So a key's default is decided by the sampler that
/// reads it, never here: SD 1.5's file has no `timestep_spacing`, and PNDM then uses "leading"
/// while Euler uses "linspace".
public struct SchedulerConfig: Sendable {
  /// The file's values (`null` counts as absent).
  public let json: JSONConfig

  public init(_ json: JSONConfig) { self.json = json }

  public init(url: URL) throws { json = try JSONConfig(url: url) }

  public init(data: Data, source: String = "scheduler_config.json") throws {
    json = try JSONConfig(data: data, source: source)
  }

  /// A config from literal values, e.g. `["beta_schedule": "scaled_linear", "steps_offset": 1]`.
  public init(values: [String: Any], source: String = "scheduler config") {
    json = JSONConfig(values: values, source: source)
  }

  /// `_class_name`: the scheduler the model ships with (`PNDMScheduler` for SD 1.5).
  public var className: String? { try? json.string("_class_name") }

  /// The same config with some keys replaced (`from_config(config, key=value)`).
  public func overriding(_ values: [String: Any]) -> SchedulerConfig {
    SchedulerConfig(JSONConfig(values: json.values.merging(values) { _, new in new }, source: json.source))
  }

  /// `runwayml/stable-diffusion-v1-5` scheduler/scheduler_config.json.
  public static let stableDiffusion15 = SchedulerConfig(
    values: [
      "_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012,
      "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "set_alpha_to_one": false,
      "skip_prk_steps": true, "steps_offset": 1, "clip_sample": false,
    ], source: "stable-diffusion-v1-5 scheduler_config.json")

  /// `stabilityai/stable-diffusion-2-1` scheduler/scheduler_config.json (v-prediction).
  public static let stableDiffusion21 = SchedulerConfig(
    values: [
      "_class_name": "DDIMScheduler", "beta_start": 0.00085, "beta_end": 0.012,
      "beta_schedule": "scaled_linear", "num_train_timesteps": 1000, "set_alpha_to_one": false,
      "skip_prk_steps": true, "steps_offset": 1, "clip_sample": false, "prediction_type": "v_prediction",
    ], source: "stable-diffusion-2-1 scheduler_config.json")

  // MARK: - Typed look-ups used by the samplers

  func string(_ key: String, default value: String, allowed: [String]) throws -> String {
    let found = try json.string(key, default: value)
    guard allowed.contains(found) else {
      throw SchedulerError.unsupportedValue(key: key, value: found, supported: allowed, source: json.source)
    }
    return found
  }

  func bool(_ key: String, default value: Bool) throws -> Bool {
    guard let raw = present(key) else { return value }
    guard let flag = Self.boolean(raw) else { throw wrongType(key, "true or false") }
    return flag
  }

  func int(_ key: String, default value: Int) throws -> Int {
    guard let raw = present(key) else { return value }
    guard let d = Self.number(raw), d.rounded() == d, abs(d) < 1e9 else { throw wrongType(key, "an integer") }
    return Int(d)
  }

  func double(_ key: String) throws -> Double? {
    guard let raw = present(key) else { return nil }
    guard let d = Self.number(raw) else { throw wrongType(key, "a number") }
    return d
  }

  func double(_ key: String, default value: Double) throws -> Double { try double(key) ?? value }

  private func present(_ key: String) -> Any? {
    guard let raw = json.values[key], !(raw is NSNull) else { return nil }
    return raw
  }

  private func wrongType(_ key: String, _ expected: String) -> ConfigError {
    ConfigError(source: json.source, problem: "key \"\(key)\" should be \(expected), found \(String(describing: json.values[key]!))")
  }

  /// JSON booleans: Swift `Bool`, or Foundation's boolean NSNumber (objCType "c"). On Linux an
  /// integer NSNumber 0 or 1 also casts to Bool, so the cast alone cannot tell them apart.
  static func boolean(_ raw: Any) -> Bool? {
    if type(of: raw) == Bool.self { return raw as? Bool }
    guard let n = raw as? NSNumber, String(cString: n.objCType) == "c" else { return nil }
    return n.boolValue
  }

  /// JSON numbers (not booleans).
  static func number(_ raw: Any) -> Double? {
    if type(of: raw) == Bool.self { return nil }
    if let d = raw as? Double, type(of: raw) == Double.self { return d }
    if let i = raw as? Int, type(of: raw) == Int.self { return Double(i) }
    guard let n = raw as? NSNumber, String(cString: n.objCType) != "c" else { return nil }
    return n.doubleValue
  }

  /// Fails when the file turns on an option sdedit does not implement.
  func requireOff(_ key: String, sampler: String) throws {
    if try bool(key, default: false) {
      throw SchedulerError.unsupportedOption("\(json.source): \"\(key)\": true is not supported by the \(sampler) sampler")
    }
  }

  /// `trained_betas`: an explicit list of betas, or nil.
  func trainedBetas() throws -> [Double]? {
    guard json.contains("trained_betas") else { return nil }
    guard let list = json.values["trained_betas"] as? [Any] else { throw wrongType("trained_betas", "a list of numbers") }
    return try list.map { item in
      guard let d = Self.number(item) else { throw wrongType("trained_betas", "a list of numbers") }
      return d
    }
  }
}

/// Why a sampler could not be built or used.
public enum SchedulerError: Error, CustomStringConvertible, Equatable {
  /// The config's `_class_name` is a scheduler sdedit does not implement.
  case unsupportedScheduler(className: String, source: String)
  /// A key holds a value sdedit does not implement (`beta_schedule: "sigmoid"`).
  case unsupportedValue(key: String, value: String, supported: [String], source: String)
  /// An option the chosen sampler cannot honour (Karras sigmas for DDIM).
  case unsupportedOption(String)
  /// Step counts run from 1 to the number of training timesteps.
  case invalidStepCount(Int, trainTimesteps: Int)
  /// img2img strength must lie in [0, 1] and leave at least one step.
  case invalidStrength(Double, stepCount: Int)

  public var description: String {
    switch self {
    case .unsupportedScheduler(let name, let source):
      let known = SamplerKind.allCases.map(\.diffusersClassName).joined(separator: ", ")
      return "\(source): scheduler \"\(name)\" is not supported (supported: \(known)); choose one with --sampler"
    case .unsupportedValue(let key, let value, let supported, let source):
      return "\(source): \"\(key)\": \"\(value)\" is not supported (supported: \(supported.joined(separator: ", ")))"
    case .unsupportedOption(let message):
      return message
    case .invalidStepCount(let steps, let train):
      return "step count \(steps) is out of range: it must be between 1 and \(train)"
    case .invalidStrength(let strength, let steps):
      return "strength \(strength) with \(steps) steps leaves no denoising step: use a strength in (0, 1] with strength × steps ≥ 1"
    }
  }
}
