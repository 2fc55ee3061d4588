import Foundation

extension RGBImage {
  /// The image extended on the right and bottom to `width × height` by repeating the last column
  /// and row (so the model sees no artificial border), or with `fill` when given.
  public func padded(toWidth newWidth: Int, height newHeight: Int, fill: UInt8? = nil) -> RGBImage {
    precondition(newWidth >= width && newHeight >= height, "padded: cannot shrink")
    if newWidth == width && newHeight == height { return self }
    var out = [UInt8](repeating: fill ?? 0, count: newWidth * newHeight * channels)
    for y in 0..<newHeight {
      let sy = min(y, height - 1)
      for x in 0..<newWidth {
        if fill != nil, x >= width || y >= height { continue }
        let sx = min(x, width - 1)
        for c in 0..<channels { out[(y * newWidth + x) * channels + c] = pixels[(sy * width + sx) * channels + c] }
      }
    }
    return RGBImage(width: newWidth, height: newHeight, channels: channels, pixels: out)
  }

  /// The top-left `width × height` region.
  public func cropped(toWidth newWidth: Int, height newHeight: Int) -> RGBImage {
    precondition(newWidth <= width && newHeight <= height, "cropped: cannot grow")
    if newWidth == width && newHeight == height { return self }
    var out = [UInt8](repeating: 0, count: newWidth * newHeight * channels)
    for y in 0..<newHeight {
      let src = y * width * channels, dst = y * newWidth * channels
      for i in 0..<(newWidth * channels) { out[dst + i] = pixels[src + i] }
    }
    return RGBImage(width: newWidth, height: newHeight, channels: channels, pixels: out)
  }

  /// `self·(1−m) + other·m` per pixel with `mask` (gray, 0…255) as m; where the mask is 0 the
  /// result is exactly `self`. Both images are RGB of the same size.
  public func composited(with other: RGBImage, mask: RGBImage) -> RGBImage {
    precondition(width == other.width && height == other.height && mask.width == width && mask.height == height)
    let a = rgb(), b = other.rgb(), m = mask.grayscale()
    var out = a.pixels
    for i in 0..<(width * height) {
      let w = Float(m.pixels[i]) / 255
      guard w > 0 else { continue }
      for c in 0..<3 {
        let v = Float(a.pixels[i * 3 + c]) * (1 - w) + Float(b.pixels[i * 3 + c]) * w
        out[i * 3 + c] = UInt8(min(255, max(0, v.rounded())))
      }
    }
    return RGBImage(width: width, height: height, channels: 3, pixels: out)
  }

  /// Gaussian blur of a gray mask with standard deviation `sigma` pixels, as AUTOMATIC1111's
  /// mask blur (OpenCV `GaussianBlur`, kernel `2·⌊2.5σ + 0.5⌋ + 1`, reflect-101 borders).
  public func gaussianBlurred(sigma: Float) -> RGBImage {
    let gray = grayscale()
    guard sigma > 0 else { return gray }
    let radius = Int(2.5 * sigma + 0.5)
    var kernel = (-radius...radius).map { expf(-Float($0 * $0) / (2 * sigma * sigma)) }
    let sum = kernel.reduce(0, +)
    kernel = kernel.map { $0 / sum }
    func reflect(_ i: Int, _ n: Int) -> Int {
      guard n > 1 else { return 0 }
      var i = i
      while i < 0 || i >= n { i = i < 0 ? -i : 2 * n - 2 - i }
      return i
    }
    var tmp = [Float](repeating: 0, count: width * height)
    for y in 0..<height {
      for x in 0..<width {
        var s: Float = 0
        for (k, w) in kernel.enumerated() { s += w * Float(gray.pixels[y * width + reflect(x + k - radius, width)]) }
        tmp[y * width + x] = s
      }
    }
    var out = [UInt8](repeating: 0, count: width * height)
    for y in 0..<height {
      for x in 0..<width {
        var s: Float = 0
        for (k, w) in kernel.enumerated() { s += w * tmp[reflect(y + k - radius, height) * width + x] }
        out[y * width + x] = UInt8(min(255, max(0, s.rounded())))
      }
    }
    return RGBImage(width: width, height: height, channels: 1, pixels: out)
  }
}
