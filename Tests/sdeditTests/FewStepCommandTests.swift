import Foundation
import SDImage
import SDTestSupport
import Testing

/// The few-step options from the outside: `--preview`, `info`'s sampler line, `--help`, and the
/// errors a user can trigger with `--taesd`, `--vae`, `--eta`, `--spacing` and the LCM schedule.
@Suite struct FewStepCommandTests {
  static let sd1 = Fixtures.url("models/sd1-tiny").path
  static let taesd = Fixtures.url("models/taesd-tiny").path
  static let image = Fixtures.url("reference/inputs/img2img_48x64.png").path

  static func txt2img(_ extra: [String], output: String) -> [String] {
    ["txt2img", "--model", sd1, "--prompt", "a cat", "--width", "32", "--height", "32", "--steps", "2", "--seed", "1", "-o", output]
      + extra
  }

  /// The preview after the last step is the TAESD decode of the final latents: the output itself.
  @Test func previewShowsTheLatestStep() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path, preview = dir.appendingPathComponent("preview.png").path
    let result = try CLIRunner.run(Self.txt2img(["--taesd", Self.taesd, "--preview", preview, "--steps", "3"], output: out))
    #expect(result.status == 0, "\(result.stderr)")
    let final = try ImageFile.read(path: out).rgb(), shown = try ImageFile.read(path: preview).rgb()
    #expect(shown.width == 32 && shown.height == 32)
    #expect(shown.pixels == final.pixels)
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted() == ["out.png", "preview.png"])
  }

  @Test func infoNamesTheSamplerDefaults() throws {
    let lcm = try CLIRunner.run(["info", "--model", Fixtures.url("models/sd1-lcm-tiny").path])
    #expect(lcm.status == 0, "\(lcm.stderr)")
    let lcmText = String(decoding: lcm.stdout, as: UTF8.self)
    #expect(lcmText.contains("sampler: LCMScheduler (--sampler lcm), timesteps from the 50-step distillation schedule, epsilon prediction"))
    #expect(lcmText.contains("time_cond_proj_dim 256"))
    let turbo = try CLIRunner.run(["info", "--model", Fixtures.url("models/sd1-turbo-tiny").path])
    #expect(String(decoding: turbo.stdout, as: UTF8.self).contains(
      "sampler: EulerDiscreteScheduler (--sampler euler), timestep spacing trailing, steps_offset 1, epsilon prediction"))
  }

  @Test func helpListsTheFewStepOptions() throws {
    let result = try CLIRunner.run(["txt2img", "--help"])
    let help = String(decoding: result.stdout, as: UTF8.self)
    for option in ["--taesd", "--vae", "--preview", "--spacing", "--eta", "lcm", "tcd"] {
      #expect(help.contains(option), "txt2img --help lacks \(option)")
    }
  }

  /// Bad codec paths and settings: one line naming the problem, the documented exit code, no output.
  @Test(arguments: [
    (["--taesd", "/nonexistent/taesd"], Int32(1), "/nonexistent/taesd: no such file or folder"),
    (["--vae", Fixtures.url("models/taesd-tiny").path], 1, "holds an AutoencoderTiny, not an AutoencoderKL: use --taesd for it"),
    (["--taesd", Fixtures.url("models/vae-alt-tiny").path], 1, "holds an AutoencoderKL, not an AutoencoderTiny: use --vae for it"),
    (["--vae", Fixtures.url("models/x4-upscaler-tiny/vae").path], 1, "down factor 4, but the model's VAE has 4 and 2"),
    (["--vae", "/tmp/sdedit-no-such-vae.ckpt"], 1, "no such file or folder"),
    (["--vae", Fixtures.url("models/sd1-tiny/model_index.json").path], 1, "model_index.json"),
    (["--preview", "/tmp/p.png"], 2, "--preview needs --taesd"),
    (["--taesd", Fixtures.url("models/taesd-tiny").path, "--vae", Fixtures.url("models/vae-alt-tiny").path], 2, "give one of them"),
    (["--sampler", "tcd", "--eta", "1.5"], 2, "--eta must be between 0 and 1"),
    (["--spacing", "middle"], 2, "--spacing"),
    (["--sampler", "lcm", "--steps", "60"], 1, "the lcm sampler takes at most 50 steps"),
  ] as [([String], Int32, String)])
  func refusesBadSettings(arguments: [String], status: Int32, message: String) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try CLIRunner.run(Self.txt2img(arguments, output: dir.appendingPathComponent("out.png").path))
    #expect(result.status == status, "\(result.stderr)")
    #expect(result.stderr.contains(message), "\(result.stderr)")
    if status == 1 { #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)") }
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).isEmpty)
  }

  /// img2img needs the TAESD encoder: a decoder file alone is refused by name.
  @Test func img2imgRefusesADecoderOnlyTAESD() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let decoder = dir.appendingPathComponent("taesd_decoder.safetensors")
    try FileManager.default.copyItem(at: Fixtures.url("models/taesd-tiny-files/taesd_decoder.safetensors"), to: decoder)
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run([
      "img2img", "--model", Self.sd1, "--image", Self.image, "--prompt", "a cat", "--steps", "2", "--taesd", decoder.path, "-o", out,
    ])
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains("is a TAESD decoder without its encoder"), "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
    // txt2img needs only the decoder.
    let t2i = try CLIRunner.run(Self.txt2img(["--taesd", decoder.path], output: out))
    #expect(t2i.status == 0, "\(t2i.stderr)")
  }

  /// A damaged TAESD file names the file; a corrupt config names the config.
  @Test func damagedCodecFilesAreNamed() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let truncated = dir.appendingPathComponent("taesd_decoder.safetensors")
    let bytes = try Data(contentsOf: Fixtures.url("models/taesd-tiny-files/taesd_decoder.safetensors"))
    try bytes.prefix(bytes.count / 2).write(to: truncated)
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run(Self.txt2img(["--taesd", truncated.path], output: out))
    #expect(result.status == 1 && result.stderr.contains(truncated.path), "\(result.stderr)")
    let folder = dir.appendingPathComponent("broken-vae")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    try Data("{\"_class_name\": \"AutoencoderKL\", \"block_out_channels\": [16, 3".utf8).write(to: folder.appendingPathComponent("config.json"))
    let broken = try CLIRunner.run(Self.txt2img(["--vae", folder.path], output: out))
    #expect(broken.status == 1 && broken.stderr.contains("config.json"), "\(broken.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }
}
