/// An 8-bit image in memory: rows top to bottom, pixels left to right, channels interleaved
/// (`pixels[(y * width + x) * channels + c]`), no row padding.
///
/// `channels` is 3 (RGB), 4 (RGBA, straight alpha) or 1 (gray, used for masks). This is the layout
/// Pillow hands diffusers after `Image.convert("RGB")` / `convert("L")`.
public struct RGBImage: Sendable, Equatable {
  public let width: Int
  public let height: Int
  public let channels: Int
  public var pixels: [UInt8]

  /// Wraps existing pixels. Preconditions (programmer errors): positive size, 1, 3 or 4 channels,
  /// and `pixels.count == width * height * channels`.
  public init(width: Int, height: Int, channels: Int = 3, pixels: [UInt8]) {
    precondition(width > 0 && height > 0, "RGBImage: size must be positive (got \(width)×\(height))")
    precondition([1, 3, 4].contains(channels), "RGBImage: channels must be 1, 3 or 4 (got \(channels))")
    precondition(
      pixels.count == width * height * channels,
      "RGBImage: \(pixels.count) bytes do not fill \(width)×\(height)×\(channels)")
    self.width = width
    self.height = height
    self.channels = channels
    self.pixels = pixels
  }

  /// An image filled with one value in every channel.
  public init(width: Int, height: Int, channels: Int = 3, repeating value: UInt8) {
    self.init(
      width: width, height: height, channels: channels,
      pixels: [UInt8](repeating: value, count: max(0, width * height * channels)))
  }

  /// Whether the last channel is alpha.
  public var hasAlpha: Bool { channels == 4 }

  /// The channel values of the pixel at column `x`, row `y`.
  public subscript(x: Int, y: Int) -> ArraySlice<UInt8> {
    let start = (y * width + x) * channels
    return pixels[start..<start + channels]
  }
}

extension RGBImage: CustomStringConvertible {
  public var description: String {
    "RGBImage(\(width)×\(height), \(channels == 1 ? "gray" : channels == 3 ? "RGB" : "RGBA"))"
  }
}
