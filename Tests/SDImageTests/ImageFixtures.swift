import Foundation
import SDImage
import SDTestSupport

/// Tests/Fixtures/images/manifest.json, written by scripts/fixtures/make_test_images.py: the fixture
/// files and what Pillow 13 decodes from them (or the error sdedit must give).
struct ImageManifest: Decodable {
  struct Case: Decodable {
    var file: String?
    var kind: String
    var width: Int?
    var height: Int?
    var pil_mode: String?
    var has_alpha: Bool?
    var rgb: String?
    var gray: String?
    var text: [[String]]?
    var error: String?
    // kind == "tensor"
    var preprocess_source: String?
    var preprocess: String?
    var mask_source: String?
    var mask: String?
    var postprocess_in: String?
    var postprocess_out: String?
  }
  var cases: [Case]

  static let shared: ImageManifest? = try? JSONDecoder().decode(
    ImageManifest.self, from: Fixtures.data("images/manifest.json"))

  static var decodeFiles: [String] { shared?.cases.filter { $0.kind == "decode" }.compactMap(\.file) ?? [] }
  static var errorFiles: [String] { shared?.cases.filter { $0.kind == "error" }.compactMap(\.file) ?? [] }

  static func entry(_ file: String) -> Case? { shared?.cases.first { $0.file == file } }
  static var tensor: Case? { shared?.cases.first { $0.kind == "tensor" } }
}

enum ImageFixtures {
  static func data(_ name: String) throws -> Data { try Fixtures.data("images/" + name) }
  static func path(_ name: String) -> String { Fixtures.url("images/" + name).path }

  /// A little-endian float32 file.
  static func floats(_ name: String) throws -> [Float] {
    let bytes = [UInt8](try data(name))
    var out = [Float](repeating: 0, count: bytes.count / 4)
    for i in out.indices {
      var bits: UInt32 = 0
      for k in 0..<4 { bits |= UInt32(bytes[4 * i + k]) << (8 * UInt32(k)) }
      out[i] = Float(bitPattern: bits)
    }
    return out
  }

  /// A deterministic test picture: smooth gradients with a faint checkerboard (JPEG-friendly).
  static func pattern(width: Int, height: Int, channels: Int) -> RGBImage {
    var pixels = [UInt8](repeating: 0, count: width * height * channels)
    for y in 0..<height {
      for x in 0..<width {
        for c in 0..<channels {
          let edge: Int = (x / 7 + y / 5) % 2 == 0 ? 15 : 0
          let ramp: Int = x * 150 / max(1, width - 1) + y * 50 / max(1, height - 1)
          let value: Int = min(255, ramp + c * 20 + edge)
          pixels[(y * width + x) * channels + c] = UInt8(value)
        }
      }
    }
    return RGBImage(width: width, height: height, channels: channels, pixels: pixels)
  }
}
