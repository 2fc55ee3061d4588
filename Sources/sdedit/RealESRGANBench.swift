import Foundation
import SDImage
import SDPipeline

/// `sdedit bench --realesrgan PATH [--size N]`: one upscale of an N×N photo (the centre of
/// samples/astronaut.png when it is there, else a synthetic gradient: speed does not depend on
/// the content), with seconds, convolution GFLOP/s and the process's peak RSS.
enum RealESRGANBench {
  static func run(paramPath: String, size: Int) throws {
    guard (16...4096).contains(size) else { throw CLIFailure("--size must be 16…4096 for --realesrgan (got \(size))") }
    let model = try RealESRGANModel.load(paramPath: paramPath)
    let (image, source) = photo(size: size)
    let result = try RealESRGANBenchmark.run(model: model, image: image)
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let name = URL(fileURLWithPath: paramPath).deletingPathExtension().lastPathComponent
    print("model            \(name) (×\(result.scale), \(model.net.parameterCount) parameters)")
    print("input            \(size)×\(size) \(source), \(result.tiles) tile(s)")
    print(String(format: "seconds          %.2f", result.seconds))
    print(String(format: "conv GFLOP       %.1f (%.1f GFLOP/s)", result.gflop, result.gflops))
    print(String(format: "peak RSS         %.0f MiB", Double(usage.ru_maxrss) / 1024))  // ru_maxrss is in KiB on Linux
  }

  static func photo(size: Int) -> (RGBImage, String) {
    if let astronaut = try? ImageFile.read(path: "samples/astronaut.png").rgb(), astronaut.width >= size, astronaut.height >= size {
      let (x0, y0) = ((astronaut.width - size) / 2, (astronaut.height - size) / 2)
      var pixels = [UInt8]()
      pixels.reserveCapacity(size * size * 3)
      for y in y0..<(y0 + size) {
        let start = (y * astronaut.width + x0) * 3
        pixels += astronaut.pixels[start..<(start + size * 3)]
      }
      return (RGBImage(width: size, height: size, pixels: pixels), "photo (samples/astronaut.png, centre crop)")
    }
    let pixels = (0..<(size * size * 3)).map { UInt8(truncatingIfNeeded: ($0 / 3 % size + $0 / (3 * size)) * 255 / (2 * size)) }
    return (RGBImage(width: size, height: size, pixels: pixels), "synthetic gradient")
  }
}
