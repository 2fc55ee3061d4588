import Foundation
import SDImage
import SDPipeline
import SDTestSupport
import Testing

/// `sdedit info IMAGE [--json]`: the generation parameters an image carries; `info --model` and
/// `info MODEL` still describe models.
@Suite struct ImageInfoTests {
  static let model = Fixtures.url("models/sd1-tiny").path

  /// A generated PNG and its stored `parameters` text.
  static func generated(in dir: URL) throws -> (path: String, parameters: String) {
    let out = dir.appendingPathComponent("gen.png").path
    let result = try CLIRunner.run([
      "txt2img", "--model", model, "--prompt", "a lighthouse, at dusk", "--negative-prompt", "blurry", "--width", "32",
      "--height", "32", "--steps", "2", "--seed", "77", "-o", out,
    ])
    #expect(result.status == 0, "\(result.stderr)")
    let text = try ImageFile.readWithMetadata(path: out).text
    return (out, try #require(text.first { $0.key == "parameters" }?.value))
  }

  @Test func printsTheStoredParameters() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let (path, parameters) = try Self.generated(in: dir)
    let result = try CLIRunner.run(["info", path])
    #expect(result.status == 0, "\(result.stderr)")
    #expect(String(decoding: result.stdout, as: UTF8.self) == parameters + "\n")
  }

  @Test func jsonHoldsTheParsedParameters() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let (path, parameters) = try Self.generated(in: dir)
    for (arguments, stdin) in [(["info", path, "--json"], nil), (["info", "-", "--json"], try Data(contentsOf: URL(fileURLWithPath: path)))] {
      let result = try CLIRunner.run(arguments, stdin: stdin)
      #expect(result.status == 0, "\(result.stderr)")
      let json = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [String: Any])
      let parsed = ImageParameters.parse(parameters)
      #expect(json["parameters"] as? String == parameters)
      #expect(json["prompt"] as? String == parsed.prompt && parsed.prompt == "a lighthouse, at dusk")
      #expect(json["negative_prompt"] as? String == "blurry")
      #expect(json["format"] as? String == "png" && json["width"] as? Int == 32 && json["height"] as? Int == 32)
      let settings = try #require(json["settings"] as? [String: String])
      #expect(settings == Dictionary(uniqueKeysWithValues: parsed.settings.map { ($0.key, $0.value) }))
      #expect(settings["Seed"] == "77" && settings["Steps"] == "2")
    }
  }

  @Test func imageWithoutParameters() throws {
    let jpeg = Fixtures.url("images/baseline420.jpg").path
    let text = try CLIRunner.run(["info", jpeg])
    #expect(text.status == 0, "\(text.stderr)")
    #expect(String(decoding: text.stdout, as: UTF8.self).contains("no generation parameters"))
    let json = try CLIRunner.run(["info", jpeg, "--json"])
    let object = try #require(try JSONSerialization.jsonObject(with: json.stdout) as? [String: Any])
    #expect(object["parameters"] is NSNull && object["format"] as? String == "jpeg")
  }

  @Test func modelsAreStillDescribed() throws {
    for arguments in [["info", "--model", Self.model], ["info", Self.model], ["info", Fixtures.url("models/sd1-tiny.safetensors").path]] {
      let result = try CLIRunner.run(arguments)
      #expect(result.status == 0, "\(arguments): \(result.stderr)")
      #expect(String(decoding: result.stdout, as: UTF8.self).contains("architecture:"))
    }
    #expect(try CLIRunner.run(["info"]).status == 2)
    #expect(try CLIRunner.run(["info", Self.model, "--json"]).status == 2)
    let broken = try CLIRunner.run(["info", Fixtures.url("images/truncated_idat.png").path])
    #expect(broken.status == 1 && broken.stderr.contains("truncated_idat.png"), "\(broken.stderr)")
  }
}
