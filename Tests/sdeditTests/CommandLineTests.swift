import Foundation
import SDTestSupport
import Testing

/// The command-line contract: exit codes, refusals, stdout discipline.
@Suite struct CommandLineTests {
  static let model = Fixtures.url("models/sd1-tiny").path

  @Test func sizeNotMultipleOfEightIsAUsageError() throws {
    let result = try CLIRunner.run(["txt2img", "--model", Self.model, "--prompt", "x", "--width", "30", "-o", "/tmp/never.png"])
    #expect(result.status == 2)
    #expect(result.stderr.contains("--width must be a multiple of 8"), "\(result.stderr)")
  }

  @Test func pickleCheckpointIsRefused() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let ckpt = dir.appendingPathComponent("model.ckpt")
    try Data([0x80, 0x02, 0x7D]).write(to: ckpt)
    let result = try CLIRunner.run(["txt2img", "--model", ckpt.path, "--prompt", "x", "-o", dir.appendingPathComponent("o.png").path])
    #expect(result.status == 1)
    #expect(result.stderr.contains("model.ckpt") && result.stderr.lowercased().contains("safetensors"), "\(result.stderr)")
  }

  @Test func stdoutCarriesOnlyThePNG() throws {
    let result = try CLIRunner.run([
      "txt2img", "--model", Self.model, "--prompt", "a cat", "--width", "32", "--height", "32", "--steps", "2",
      "--seed", "5", "-o", "-",
    ])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(result.stdout.starts(with: [0x89, 0x50, 0x4E, 0x47]))
  }

  @Test func pngCarriesA1111Parameters() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("o.png").path
    let result = try CLIRunner.run([
      "txt2img", "--model", Self.model, "--prompt", "a cat", "--negative-prompt", "dog", "--width", "32", "--height", "32",
      "--steps", "2", "--seed", "5", "--sampler", "euler-a", "-o", out,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: out)), as: UTF8.self)
    #expect(text.contains("parameters"))
    #expect(text.contains("Negative prompt: dog"))
    #expect(text.contains("Steps: 2, Sampler: Euler a, CFG scale: 7.5, Seed: 5, Size: 32x32, Model: sd1-tiny"))
  }

  @Test func countWritesOneImagePerSeed() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let result = try CLIRunner.run([
      "txt2img", "--model", Self.model, "--prompt", "a cat", "--width", "32", "--height", "32", "--steps", "2",
      "--seed", "5", "--count", "2", "-o", dir.appendingPathComponent("o.png").path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).sorted()
    #expect(files == ["o-5.png", "o-6.png"])
  }

  @Test func missingModelIsOneClearLine() throws {
    let result = try CLIRunner.run(["txt2img", "--model", "/nonexistent/model", "--prompt", "x", "-o", "/tmp/never.png"])
    #expect(result.status == 1)
    #expect(result.stderr.contains("/nonexistent/model") && result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
  }

  @Test func tokenizePrintsIds() throws {
    let result = try CLIRunner.run(["tokenize", "--prompt", "a photo of an astronaut riding a horse on mars", "--json"])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(String(decoding: result.stdout, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
      == "[49406, 320, 1125, 539, 550, 18376, 6765, 320, 4558, 525, 7496, 49407]")
  }
}

/// `txt2img --count N --rank --clip PATH`: images named by CLIP rank, best first, agreeing with `sdedit rank`.
@Suite struct Txt2ImgRankTests {
  @Test func rankedOutputsAgreeWithRankCommand() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let clip = Fixtures.url("models/clip-tiny").path
    let result = try CLIRunner.run([
      "txt2img", "--model", Fixtures.url("models/sd1-tiny").path, "--prompt", "a red circle", "--width", "32",
      "--height", "32", "--steps", "2", "--seed", "10", "--count", "3", "--rank", "--clip", clip,
      "-o", dir.appendingPathComponent("o.png").path,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map { $0.split(separator: "\t") }
    #expect(lines.count == 3)
    let paths = lines.map { String($0[3]) }
    #expect(paths.enumerated().allSatisfy { $0.element.hasSuffix("o-\($0.offset + 1)-\(lines[$0.offset][2]).png") })
    let scores = lines.map { Float($0[1])! }
    #expect(scores == scores.sorted(by: >))
    let ranked = try CLIRunner.run(["rank", "--clip", clip, "--prompt", "a red circle"] + paths.reversed())
    #expect(ranked.status == 0, "\(ranked.stderr)")
    let order = String(decoding: ranked.stdout, as: UTF8.self).split(separator: "\n").map { String($0.split(separator: "\t").last!) }
    #expect(order == paths)
  }
}
