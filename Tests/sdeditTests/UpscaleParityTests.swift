import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// `sdedit upscale` with the diffusion upscalers, through the CLI binary, against diffusers'
/// `StableDiffusionUpscalePipeline` and `StableDiffusionLatentUpscalePipeline` on the committed
/// tiny models (reference/upscale, scripts/fixtures/pipelines.py): PSNR ≥ 40 dB against the
/// `output_type="np"` image rounded as `numpy_to_pil` does. The inputs are smaller than the
/// default tile, so these runs are untiled.
@Suite struct UpscaleParityTests {
  static let runs = PipelineParityTests.runs("upscale")

  static func arguments(_ run: PipelineParityTests.Run, output: String) -> [String] {
    let json = run.json
    var args = [
      "upscale", "--model", Fixtures.url("models/\(run.model)").path,
      "-i", Fixtures.url("reference/\((json["inputs"] as! [String: Any])["image"] as! String)").path,
      "--prompt", json["prompt"] as! String,
      "--steps", "\(json["num_inference_steps"] as! Int)",
      "--guidance", "\((json["guidance_scale"] as! NSNumber).doubleValue)",
      "--seed", "\(json["seed"] as! Int)", "-o", output,
    ]
    if let negative = json["negative_prompt"] as? String { args += ["--negative-prompt", negative] }
    if let level = json["noise_level"] as? Int { args += ["--noise-level", "\(level)"] }
    if let sampler = json["sampler"] as? [String: Any], let name = sampler["name"] as? String { args += ["--sampler", name] }
    return args
  }

  @Test func fixturesArePresent() {
    #expect(Self.runs.filter { $0.model == "x4-upscaler-tiny" }.count >= 2)
    #expect(Self.runs.filter { $0.model == "latent-upscaler-tiny" }.count >= 2)
  }

  @Test(arguments: runs)
  func matchesDiffusers(run: PipelineParityTests.Run) throws {
    try ImageParity.check(reference: "reference/upscale/\(run.model)/\(run.name).safetensors", label: "\(run)") {
      Self.arguments(run, output: $0)
    }
  }

  /// `sdedit txt2img … -o - | sdedit upscale --model … -i - -o -`: stdin to stdout gives the same image.
  @Test func pipesThroughStdinAndStdout() throws {
    let run = try #require(Self.runs.first { $0.model == "latent-upscaler-tiny" })
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let file = dir.appendingPathComponent("file.png").path
    var args = Self.arguments(run, output: file)
    let byFile = try CLIRunner.run(args)
    #expect(byFile.status == 0, "\(byFile.stderr)")
    let input = try Data(contentsOf: Fixtures.url("reference/inputs/lowres_32x32.png"))
    args[args.firstIndex(of: "-i")! + 1] = "-"
    args[args.firstIndex(of: "-o")! + 1] = "-"
    let piped = try CLIRunner.run(args, stdin: input)
    #expect(piped.status == 0, "\(piped.stderr)")
    let viaPipe = try ImageCodec.decode(piped.stdout, name: "stdout")
    #expect(viaPipe == (try ImageFile.read(path: file)))
  }

  @Test func refusesWhatItCannotRun() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    let input = Fixtures.url("reference/inputs/lowres_16x16.png").path
    let cases: [([String], String)] = [
      (["--model", Fixtures.url("models/sd1-tiny").path], "not a diffusion upscaler"),
      (["--model", Fixtures.url("models/x4-upscaler-tiny").path, "--noise-level", "351"], "--noise-level"),
      (["--model", Fixtures.url("models/latent-upscaler-tiny").path, "--sampler", "ddim"], "euler"),
    ]
    for (extra, message) in cases {
      let result = try CLIRunner.run(["upscale", "-i", input, "-o", out, "--steps", "1"] + extra)
      #expect(result.status == 1, "\(extra): status \(result.status), \(result.stderr)")
      #expect(result.stderr.contains(message), "\(extra): \(result.stderr)")
      #expect(!FileManager.default.fileExists(atPath: out))
    }
  }
}
