import Foundation
import SDImage
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// Shared pieces of the Real-ESRGAN tests: where the downloaded weights are, and small images.
enum RealESRGANTestSupport {
  static let modelsFolder = Fixtures.root.appendingPathComponent("models/realesrgan")

  static func modelPath(_ name: String) -> String { modelsFolder.appendingPathComponent("\(name).param").path }

  /// Whether scripts/fetch_realesrgan.sh has run (the weight-based tests skip otherwise).
  static let haveWeights = ["realesrgan-x4plus", "realesr-animevideov3-x4"].allSatisfy {
    FileManager.default.fileExists(atPath: modelsFolder.appendingPathComponent("\($0).bin").path)
  }

  static let skipNote: Comment = "needs the Real-ESRGAN weights: run scripts/fetch_realesrgan.sh"

  static func sample(_ name: String) throws -> RGBImage {
    try ImageFile.read(path: Fixtures.root.appendingPathComponent("samples/\(name)").path).rgb()
  }

  /// The `width × height` region of `image` at (`x`, `y`).
  static func crop(_ image: RGBImage, x: Int, y: Int, width: Int, height: Int) -> RGBImage {
    var pixels = [UInt8]()
    pixels.reserveCapacity(width * height * image.channels)
    for row in y..<(y + height) {
      let start = (row * image.width + x) * image.channels
      pixels += image.pixels[start..<(start + width * image.channels)]
    }
    return RGBImage(width: width, height: height, channels: image.channels, pixels: pixels)
  }

  /// `[1, 3, H, W]`, pixel / 255 (the network's input convention).
  static func tensor(_ image: RGBImage) -> Tensor {
    let plane = image.width * image.height
    return Tensor(shape: [1, 3, image.height, image.width]) { out in
      for i in 0..<plane { for c in 0..<3 { out[c * plane + i] = Float(image.pixels[3 * i + c]) / 255 } }
    }
  }

  /// Largest per-channel difference between two images of one size, ignoring `margin` pixels at each edge.
  static func maxDifference(_ a: RGBImage, _ b: RGBImage, margin: Int = 0) -> Int {
    precondition(a.width == b.width && a.height == b.height && a.channels == b.channels)
    var worst = 0
    for y in margin..<(a.height - margin) {
      for x in margin..<(a.width - margin) {
        for c in 0..<a.channels {
          let i = (y * a.width + x) * a.channels + c
          worst = max(worst, abs(Int(a.pixels[i]) - Int(b.pixels[i])))
        }
      }
    }
    return worst
  }

  /// Reads a little-endian float32 file.
  static func floats(_ url: URL) throws -> [Float] {
    let data = try Data(contentsOf: url)
    return data.withUnsafeBytes { raw in
      (0..<(data.count / 4)).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
    }
  }

  /// Seconds taken by `body`.
  static func timed<T>(_ body: () throws -> T) rethrows -> (T, Double) {
    let start = DispatchTime.now().uptimeNanoseconds
    let value = try body()
    return (value, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
  }
}
