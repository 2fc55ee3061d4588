import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// The check every CLI parity test makes: run sdedit with `arguments(outputPath)`, then
/// compare its image with the `image` tensor of a diffusers reference file (`output_type="np"`,
/// quantised as diffusers' `numpy_to_pil`): same size, PSNR ≥ 40 dB.
enum ImageParity {
  static func check(reference: String, label: String, _ arguments: (_ output: String) -> [String]) throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let out = dir.appendingPathComponent("out.png").path
    let result = try CLIRunner.run(arguments(out))
    #expect(result.status == 0, "\(label): sdedit failed: \(result.stderr)")
    guard result.status == 0 else { return }
    let ours = try ImageFile.read(path: out).rgb()
    let image = try SafeTensorsFile(url: Fixtures.url(reference)).tensor("image")
    #expect(ours.width == image.dim(1) && ours.height == image.dim(0), "\(label): size")
    let psnr = Compare.psnr(ours.pixels, PipelineParityTests.quantize(image))
    #expect(psnr >= 40, "\(label): PSNR \(psnr) dB")
  }
}
