import Foundation
import SDImage
import SDTensor
import SDTestSupport
import Testing

/// `--precision bf16` against fp32 on the committed tiny models, through the CLI (each run is
/// its own process, so the precision never leaks into concurrently running tests): the same
/// seed gives the same picture within PSNR ≥ 30 dB (issue #10). On a CPU without AVX-512 BF16
/// the option falls back to fp32 with a warning and the images are identical.
@Suite struct PrecisionTests {
  static let image = Fixtures.url("reference/inputs/img2img_48x64.png").path
  static let mask = Fixtures.url("reference/inputs/mask_48x64.png").path

  static let runs: [(name: String, arguments: [String])] = [
    ("txt2img sd1", ["txt2img", "--model", Fixtures.url("models/sd1-tiny").path, "--width", "64", "--height", "64", "--sampler", "euler"]),
    ("txt2img sd2 v-prediction", ["txt2img", "--model", Fixtures.url("models/sd2-tiny").path, "--width", "64", "--height", "48"]),
    ("inpaint 9-channel", ["inpaint", "--model", Fixtures.url("models/sd1-inpaint-tiny").path, "-i", image, "--mask", mask]),
    ("upscale x4", ["upscale", "--model", Fixtures.url("models/x4-upscaler-tiny").path, "-i", image]),
  ]

  @Test(arguments: runs.indices)
  func bf16StaysCloseToFP32(index: Int) throws {
    let (name, arguments) = Self.runs[index]
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var images: [RGBImage] = []
    var warnings: [String] = []
    for precision in ["fp32", "bf16"] {
      let out = dir.appendingPathComponent("\(precision).png").path
      let result = try CLIRunner.run(
        arguments + ["--prompt", "a red circle on a blue background", "--steps", "4", "--seed", "3",
                     "--precision", precision, "-o", out])
      #expect(result.status == 0, "\(name) \(precision): \(result.stderr)")
      warnings.append(result.stderr)
      images.append(try ImageFile.read(path: out).rgb())
    }
    let psnr = Compare.psnr(images[0].pixels, images[1].pixels)
    if BF16GEMM.isAvailable {
      #expect(psnr >= 30 && psnr < .infinity, "\(name): bf16 vs fp32 PSNR \(psnr) dB")
    } else {
      #expect(psnr == .infinity && warnings[1].contains("using fp32"), "\(name): \(warnings[1])")
    }
  }

  /// The fallbacks for CPUs without AVX-512 (OpenBLAS GEMMs and attention, im2col convolution,
  /// scalar softmax/GELU/norms), forced with SDEDIT_DISABLE_AVX512: the same fp32 image within the
  /// pipeline parity bound (40 dB; only summation orders differ), and bf16 falls back to fp32
  /// with a warning.
  @Test(arguments: [0, 2])
  func fallbackWithoutAVX512(index: Int) throws {
    let (name, arguments) = Self.runs[index]
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    var images: [RGBImage] = []
    for (tag, environment, precision) in [("avx512", [String: String](), "fp32"), ("fallback", ["SDEDIT_DISABLE_AVX512": "1"], "bf16")] {
      let out = dir.appendingPathComponent("\(tag).png").path
      let result = try CLIRunner.run(
        arguments + ["--prompt", "a red circle on a blue background", "--steps", "4", "--seed", "3",
                     "--precision", precision, "-o", out],
        environment: environment)
      #expect(result.status == 0, "\(name) \(tag): \(result.stderr)")
      if tag == "fallback" { #expect(result.stderr.contains("using fp32"), "\(result.stderr)") }
      images.append(try ImageFile.read(path: out).rgb())
    }
    let psnr = Compare.psnr(images[0].pixels, images[1].pixels)
    #expect(psnr >= 40, "\(name): fallback vs AVX-512 fp32 PSNR \(psnr) dB")
  }
}
