import Foundation
import SDImage
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// The pretrained Real-ESRGAN networks against an independent PyTorch reading of the same ncnn files
/// (scripts/fixtures/realesrgan.py → Tests/Fixtures/realesrgan), and the x4plus model's quality on a
/// real photo. Needs scripts/fetch_realesrgan.sh; skipped with a note otherwise.
@Suite(.enabled(if: RealESRGANTestSupport.haveWeights, RealESRGANTestSupport.skipNote))
struct RealESRGANParityTests {
  typealias S = RealESRGANTestSupport

  /// Raw network output on the 64×64 crop of astronaut.png at (192, 80), unclamped, within 1e-3 of torch.
  @Test(arguments: ["realesrgan-x4plus", "realesr-animevideov3-x4"])
  func matchesTorchOnACrop(model name: String) throws {
    let model = try RealESRGANModel.load(paramPath: S.modelPath(name))
    #expect(model.scale == 4)
    let crop = S.crop(try S.sample("astronaut.png"), x: 192, y: 80, width: 64, height: 64)
    let (y, seconds) = try S.timed { try model.forward(S.tensor(crop)) }  // [1, 3, 256, 256]
    let reference = try S.floats(Fixtures.url("realesrgan/\(name)-crop64.f32"))
    #expect(y.shape == [1, 3, 256, 256])
    let err = Compare.maxAbsDiff(y.data, reference)
    #expect(err <= 1e-3, "\(name): max |ours − torch| = \(err)")
    print("\(name) 64×64 forward: \(String(format: "%.2f", seconds)) s, max abs diff \(err)")
  }

  /// astronaut.png downscaled 4× (PIL bicubic, 128×128) and upscaled back with x4plus: PSNR ≥ 22 dB.
  @Test func x4plusRestoresTheAstronaut() throws {
    let model = try RealESRGANModel.load(paramPath: S.modelPath("realesrgan-x4plus"))
    let small = try ImageFile.read(path: Fixtures.url("realesrgan/astronaut-128.png").path)
    // One tile with realesrgan-ncnn-vulkan's 10-pixel mirrored pad (the tiling is tested elsewhere).
    let upscaler = RealESRGANUpscaler(model: model, tiling: RealESRGANTiling(tileSize: 0, pad: 10, feather: 0))
    let (out, seconds) = try S.timed { try upscaler.upscale(small) }
    let original = try S.sample("astronaut.png")
    #expect(out.width == 512 && out.height == 512 && out.channels == 3)
    let psnr = Compare.psnr(out.pixels, original.pixels)
    #expect(psnr >= 22, "PSNR \(psnr) dB")
    print("x4plus 128→512: \(String(format: "%.2f", seconds)) s, PSNR \(String(format: "%.2f", psnr)) dB")
  }

  /// The other packaged graphs load, find their scale, and run (x2/x3 end in a bicubic Interp).
  @Test(arguments: [("realesr-animevideov3-x2", 2), ("realesr-animevideov3-x3", 3), ("realesrgan-x4plus-anime", 4)])
  func otherModelsLoadWithTheirScale(name: String, scale: Int) throws {
    let model = try RealESRGANModel.load(paramPath: S.modelPath(name))
    #expect(model.scale == scale)
    if name.hasPrefix("realesr-animevideov3") {
      let y = try model.forward(S.tensor(S.crop(try S.sample("coffee.png"), x: 100, y: 100, width: 20, height: 16)))
      #expect(y.shape == [1, 3, 16 * scale, 20 * scale])
      #expect(y.data.allSatisfy { $0.isFinite && $0 > -0.5 && $0 < 1.5 })
    }
  }
}
