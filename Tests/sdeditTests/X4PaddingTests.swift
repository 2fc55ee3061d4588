import Foundation
import SDImage
import SDModels
import SDTestSupport
import Testing

/// The x4 upscaler takes sides that are not multiples of its UNet's down factor: the input is
/// padded with edge pixels and the ×4 result cropped back, so `upscale(image)` is exactly the
/// top-left crop of `upscale(image padded by hand)`, and exactly 4× the input's size.
@Suite struct X4PaddingTests {
  static let model = Fixtures.url("models/x4-upscaler-tiny").path

  /// 2^(down blocks) of the committed tiny model's UNet.
  static func unetFactor() throws -> Int {
    let config = try JSONConfig(url: Fixtures.url("models/x4-upscaler-tiny/unet/config.json"))
    return 1 << ((try config.ints("block_out_channels") ?? []).count - 1)
  }

  /// (width, height, tile): an untiled run and a tiled one (windows of 16 input pixels).
  @Test(arguments: [(18, 13, 256), (37, 21, 16)])
  func oddSidesArePaddedAndCropped(width: Int, height: Int, tile: Int) throws {
    let factor = try Self.unetFactor()
    #expect(width % factor != 0 && height % factor != 0)
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let source = try ImageFile.read(path: Fixtures.url("reference/inputs/img2img_48x64.png").path).rgb()
    let odd = source.cropped(toWidth: width, height: height)
    let round = { (n: Int) in (n + factor - 1) / factor * factor }
    let padded = odd.padded(toWidth: round(width), height: round(height))
    let (oddPath, paddedPath) = (dir.appendingPathComponent("odd.png").path, dir.appendingPathComponent("padded.png").path)
    try ImageFile.write(odd, to: oddPath)
    try ImageFile.write(padded, to: paddedPath)

    func upscale(_ input: String) throws -> RGBImage {
      let out = input + ".x4.png"
      let result = try CLIRunner.run([
        "upscale", "--model", Self.model, "-i", input, "--prompt", "a photo", "--steps", "2", "--seed", "3",
        "--tile", "\(tile)", "--threads", "1", "-o", out,
      ])
      #expect(result.status == 0, "\(result.stderr)")
      return try ImageFile.read(path: out).rgb()
    }
    let fromOdd = try upscale(oddPath)
    let fromPadded = try upscale(paddedPath)
    #expect(fromOdd.width == 4 * width && fromOdd.height == 4 * height)
    #expect(fromOdd == fromPadded.cropped(toWidth: 4 * width, height: 4 * height))
  }
}
