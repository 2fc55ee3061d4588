import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// The subcommands end to end through the CLI binary, against diffusers' pipelines on the
/// committed tiny models (scripts/fixtures/pipelines.py): PSNR ≥ 40 dB against the
/// `output_type="np"` image rounded as diffusers' `numpy_to_pil` does.
@Suite struct PipelineParityTests {
  struct Run: Sendable, CustomStringConvertible {
    let kind: String, model: String, name: String
    let json: [String: any Sendable]
    var description: String { "\(kind) \(model)/\(name)" }
  }

  static func runs(_ kind: String) -> [Run] {
    guard let data = try? Fixtures.data("reference/\(kind)/index.json"),
      let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let runs = index["runs"] as? [[String: Any]]
    else { return [] }
    return runs.compactMap { run in
      guard let model = run["model"] as? String, let name = run["run"] as? String,
        let data = try? Fixtures.data("reference/\(kind)/\(model)/\(name).json"),
        let json = try? JSONSerialization.jsonObject(with: Self.strictJSON(data)) as? [String: any Sendable]
      else { return nil }
      return Run(kind: kind, model: model, name: name, json: json)
    }
  }

  /// Python's json writes `Infinity`/`NaN` (e.g. DPM-Solver's `lambda_min_clipped`); strict JSON has no such tokens.
  static func strictJSON(_ data: Data) -> Data {
    var text = String(decoding: data, as: UTF8.self)
    for token in ["-Infinity", "Infinity", "NaN"] { text = text.replacingOccurrences(of: ": \(token)", with: ": null") }
    return Data(text.utf8)
  }

  /// diffusers' `numpy_to_pil`: `(image * 255).round().astype("uint8")` (round half to even).
  static func quantize(_ image: Tensor) -> [UInt8] {
    image.data.map { UInt8(($0 * 255).rounded(.toNearestOrEven)) }
  }

  /// The command line that reproduces a reference run.
  static func arguments(_ run: Run, output: String, singleFile: Bool = false) -> [String] {
    let json = run.json
    var args = [
      run.kind, "--model", Fixtures.url("models/\(run.model)\(singleFile ? ".safetensors" : "")").path,
      "--prompt", json["prompt"] as! String,
      "--steps", "\(json["num_inference_steps"] as! Int)",
      "--guidance", "\((json["guidance_scale"] as! NSNumber).doubleValue)",
      "--seed", "\(json["seed"] as! Int)", "-o", output,
    ]
    if run.kind == "txt2img" { args += ["--width", "\(json["width"] as! Int)", "--height", "\(json["height"] as! Int)"] }
    if let strength = json["strength"] as? NSNumber { args += ["--strength", "\(strength.doubleValue)"] }
    if let negative = json["negative_prompt"] as? String, !negative.isEmpty { args += ["--negative-prompt", negative] }
    if let sampler = json["sampler"] as? [String: Any], let name = sampler["name"] as? String {
      args += ["--sampler", name.replacingOccurrences(of: "-karras", with: "")]
      if sampler["karras"] as? Bool == true { args.append("--karras") }
    }
    if let inputs = json["inputs"] as? [String: Any] {
      if let image = inputs["image"] as? String { args += ["--image", Fixtures.url("reference/\(image)").path] }
      if let mask = inputs["mask_image"] as? String { args += ["--mask", Fixtures.url("reference/\(mask)").path, "--no-composite"] }
    }
    return args
  }

  @Test func fixturesArePresent() {
    #expect(Self.runs("txt2img").count >= 24)
    #expect(Self.runs("img2img").count >= 4)
    #expect(Self.runs("inpaint").count >= 8)
  }

  @Test(arguments: runs("txt2img") + runs("img2img") + runs("inpaint"))
  func matchesDiffusers(run: Run) throws {
    try check(run, singleFile: false)
  }

  /// The same weights as single-file LDM checkpoints give the same images (one run per sampler family).
  @Test(arguments: runs("txt2img").filter { ["sd1-tiny/euler-a_48x64_seed7", "sd1-tiny/dpmpp-2m-karras_32x32_seed42",
    "sd2-tiny/ddim_48x64_seed7", "sd2-tiny/pndm_32x32_seed42"].contains("\($0.model)/\($0.name)") }
    + runs("inpaint").filter { $0.model == "sd1-inpaint-tiny" && $0.name.hasPrefix("ddim_strength1") })
  func singleFileMatchesDiffusers(run: Run) throws {
    try check(run, singleFile: true)
  }

  func check(_ run: Run, singleFile: Bool) throws {
    try ImageParity.check(
      reference: "reference/\(run.kind)/\(run.model)/\(run.name).safetensors", label: "\(run)\(singleFile ? " (single file)" : "")"
    ) { Self.arguments(run, output: $0, singleFile: singleFile) }
  }
}
