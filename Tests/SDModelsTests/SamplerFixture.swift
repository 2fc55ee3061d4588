import Foundation
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// Tests/Fixtures/schedulers/ (scripts/fixtures/schedulers.py): diffusers 0.42.1 trajectories.
enum SamplerFixture {
  struct Slice {
    let offset: Int
    let count: Int
    init?(_ any: Any?) {
      guard let d = any as? [String: Any], let o = d["offset"] as? Int, let c = d["count"] as? Int else { return nil }
      offset = o
      count = c
    }
  }

  struct Case: CustomTestStringConvertible {
    let configName: String
    let config: [String: Any]
    let file: String
    let raw: [String: Any]
    var sampler: String { raw["sampler"] as! String }
    var className: String { raw["class"] as! String }
    var overrides: [String: Any] { raw["overrides"] as? [String: Any] ?? [:] }
    var eta: Double { (raw["eta"] as? NSNumber)?.doubleValue ?? 0 }
    var steps: Int { raw["steps"] as! Int }
    var strength: Double? { (raw["strength"] as? NSNumber)?.doubleValue }
    func slice(_ key: String) -> Slice? { Slice(raw[key]) }
    var testDescription: String {
      "\(configName) \(sampler) \(steps) steps" + (strength.map { " strength \($0)" } ?? "")
    }
  }

  static let index: [String: Any] = {
    guard let data = try? Fixtures.data("schedulers/index.json"),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    return object
  }()

  static var latentShape: [Int] { index["latent_shape"] as? [Int] ?? [] }
  static var seed: UInt64 { UInt64(index["seed"] as? Int ?? 0) }
  static var imageSeed: UInt64 { UInt64(index["image_seed"] as? Int ?? 0) }
  static var noiseSeed: UInt64 { UInt64(index["noise_seed"] as? Int ?? 0) }

  static func cases(_ kind: String) -> [Case] {
    let configs = index["configs"] as? [[String: Any]] ?? []
    return configs.flatMap { entry in
      (entry[kind] as? [[String: Any]] ?? []).map {
        Case(
          configName: entry["name"] as! String, config: entry["config"] as! [String: Any],
          file: entry["file"] as! String, raw: $0)
      }
    }
  }

  static let txt2img = cases("txt2img")
  static let img2img = cases("img2img")

  private static var cache: [String: [Float]] = [:]
  private static let lock = NSLock()

  static func floats(_ file: String) throws -> [Float] {
    lock.lock()
    defer { lock.unlock() }
    if let cached = cache[file] { return cached }
    let data = try Fixtures.data("schedulers/\(file)")
    let values = data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map {
        Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * 4, as: UInt32.self)))
      }
    }
    cache[file] = values
    return values
  }

  static func values(_ c: Case, _ key: String) throws -> [Float]? {
    guard let s = c.slice(key) else { return nil }
    return Array(try floats(c.file)[s.offset..<(s.offset + s.count)])
  }

  /// The config as the model folder's scheduler_config.json, read through the JSON path.
  static func schedulerConfig(_ c: Case) throws -> SchedulerConfig {
    let json = c.config.filter { !($0.value is NSNull) }
    let data = try JSONSerialization.data(withJSONObject: json)
    return try SchedulerConfig(data: data, source: "\(c.configName) scheduler_config.json")
  }

  /// The sampler as `X.from_config(config, **overrides)` builds it.
  static func makeSampler(_ c: Case) throws -> any Sampler {
    let kind = SamplerKind(diffusersClassName: c.className)!
    var overrides = c.overrides
    let karras = overrides.removeValue(forKey: "use_karras_sigmas") as? Bool ?? false
    let config = try schedulerConfig(c).overriding(overrides)
    return try SDModels.makeSampler(kind: kind, config: config, stepCount: c.steps, karras: karras, eta: c.eta)
  }

  /// The fake model of schedulers.py: `x·a(t) + b(t)` with float32 coefficients from doubles.
  static func fakeModel(_ x: Tensor, _ t: Float) -> Tensor {
    let a = Float(0.3 * Foundation.cos(Double(t) / 100)), b = Float(0.1 * Foundation.sin(Double(t) / 50))
    return x.map { $0 * a + b }
  }

  /// |Δ| ≤ 1e-5 × max(1, max|ref|), DESIGN.md's sampler-step tolerance scaled to the values.
  /// Zero-terminal-SNR schedules get 1e-4: their ᾱ come from square roots that torch takes with
  /// MKL (not correctly rounded), and the cancellation near ᾱ = 0 magnifies those last bits.
  static func tolerance(_ reference: ArraySlice<Float>, _ c: Case) -> Float {
    (isZeroSNR(c) ? 1e-4 : 1e-5) * Swift.max(1, reference.reduce(0) { Swift.max($0, abs($1)) })
  }

  static func sigmaTolerance(_ c: Case) -> Float { isZeroSNR(c) ? 1e-4 : 1e-6 }

  static func isZeroSNR(_ c: Case) -> Bool {
    (c.config["rescale_betas_zero_snr"] as? Bool ?? false) && c.className != "PNDMScheduler"
      && c.className != "LMSDiscreteScheduler"
  }
}
