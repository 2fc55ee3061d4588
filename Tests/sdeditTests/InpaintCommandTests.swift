import Foundation
import SDImage
import SDTestSupport
import Testing

/// `sdedit inpaint` behaviour beyond parity: the composite keeps every unmasked pixel exactly,
/// and bad masks fail cleanly (one line, exit 1, no output file).
@Suite struct InpaintCommandTests {
  static let image = Fixtures.url("reference/inputs/img2img_48x64.png").path
  static let mask = Fixtures.url("reference/inputs/mask_48x64.png").path

  func arguments(model: String = "sd1-tiny", mask: String = Self.mask, output: String, extra: [String] = []) -> [String] {
    ["inpaint", "--model", Fixtures.url("models/\(model)").path, "-i", Self.image, "--mask", mask,
     "--prompt", "a red door", "--steps", "3", "--seed", "1", "-o", output] + extra
  }

  @Test(arguments: ["sd1-tiny", "sd1-inpaint-tiny"], [Float(0), 4])
  func compositeKeepsUnmaskedPixels(model: String, blur: Float) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run(arguments(model: model, output: out, extra: ["--mask-blur", "\(blur)"]))
    #expect(result.status == 0, "\(result.stderr)")
    let input = try ImageFile.read(path: Self.image).rgb()
    let output = try ImageFile.read(path: out).rgb()
    let mask = try ImageFile.read(path: Self.mask).gaussianBlurred(sigma: blur)
    var kept = 0, changed = 0
    for i in 0..<(input.width * input.height) {
      if mask.pixels[i] == 0 {
        kept += 1
        #expect(Array(input.pixels[(3 * i)..<(3 * i + 3)]) == Array(output.pixels[(3 * i)..<(3 * i + 3)]))
      } else if input.pixels[3 * i] != output.pixels[3 * i] {
        changed += 1
      }
    }
    #expect(kept > 0 && changed > 0, "kept \(kept), changed \(changed)")
  }

  @Test func maskOfAnotherSizeIsRefused() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let small = dir.appendingPathComponent("small.png").path
    try ImageFile.write(RGBImage(width: 32, height: 32, channels: 1, repeating: 255), to: small)
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run(arguments(mask: small, output: out))
    #expect(result.status == 1)
    #expect(result.stderr.contains("32×32") && result.stderr.contains("64×48"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
  }

  @Test(arguments: ["missing", "undecodable"])
  func badMaskFailsCleanly(kind: String) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let mask = dir.appendingPathComponent("mask.png").path
    if kind == "undecodable" { try Data("GIF89a not an image".utf8).write(to: URL(fileURLWithPath: mask)) }
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run(arguments(mask: mask, output: out))
    #expect(result.status == 1, "\(result.stderr)")
    #expect(result.stderr.contains("mask.png"), "\(result.stderr)")
    #expect(result.stderr.split(separator: "\n").count == 1, "\(result.stderr)")
    #expect(!FileManager.default.fileExists(atPath: out))
    #expect(try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0 != "mask.png" }.isEmpty)
  }

  @Test func outputNamingTheInputIsRefused() throws {
    let result = try CLIRunner.run(arguments(output: Self.image))
    #expect(result.status == 2, "\(result.stderr)")
  }
}

/// Sides that are not multiples of 8 are padded with edge pixels (the mask with "keep") and cropped back.
@Suite struct OddSizeEditingTests {
  @Test(arguments: ["inpaint", "img2img"])
  func oddSizedImagesComeBackTheSameSize(command: String) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = try ImageFile.read(path: InpaintCommandTests.image).rgb().cropped(toWidth: 45, height: 37)
    let image = dir.appendingPathComponent("odd.png").path
    try ImageFile.write(source, to: image)
    var mask = RGBImage(width: 45, height: 37, channels: 1, repeating: 0)
    for y in 10..<25 { for x in 12..<30 { mask.pixels[y * 45 + x] = 255 } }
    let maskPath = dir.appendingPathComponent("mask.png").path
    try ImageFile.write(mask, to: maskPath)
    let out = dir.appendingPathComponent("out.png").path
    var args = [command, "--model", Fixtures.url("models/sd1-tiny").path, "-i", image, "--prompt", "a door",
                "--steps", "3", "--seed", "2", "-o", out]
    if command == "inpaint" { args += ["--mask", maskPath] }
    let result = try CLIRunner.run(args)
    #expect(result.status == 0, "\(result.stderr)")
    let output = try ImageFile.read(path: out).rgb()
    #expect(output.width == 45 && output.height == 37)
    if command == "inpaint" {
      for i in 0..<(45 * 37) where mask.pixels[i] == 0 {
        #expect(Array(source.pixels[(3 * i)..<(3 * i + 3)]) == Array(output.pixels[(3 * i)..<(3 * i + 3)]))
      }
    }
  }
}
