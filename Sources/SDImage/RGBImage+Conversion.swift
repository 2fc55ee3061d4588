/// Channel conversions that reproduce Pillow's `Image.convert`, which diffusers' `VaeImageProcessor`
/// applies before anything else (`convert("RGB")` for images, `convert("L")` for masks).
extension RGBImage {
  /// Three channels: alpha dropped (not composited) and gray replicated, as Pillow's `convert("RGB")`.
  public func rgb() -> RGBImage {
    switch channels {
    case 3:
      return self
    case 4:
      var out = [UInt8](repeating: 0, count: width * height * 3)
      pixels.withUnsafeBufferPointer { src in
        for i in 0..<(width * height) {
          out[3 * i] = src[4 * i]
          out[3 * i + 1] = src[4 * i + 1]
          out[3 * i + 2] = src[4 * i + 2]
        }
      }
      return RGBImage(width: width, height: height, channels: 3, pixels: out)
    default:
      var out = [UInt8](repeating: 0, count: width * height * 3)
      for i in 0..<(width * height) {
        let v = pixels[i]
        out[3 * i] = v
        out[3 * i + 1] = v
        out[3 * i + 2] = v
      }
      return RGBImage(width: width, height: height, channels: 3, pixels: out)
    }
  }

  /// One channel of luma, as Pillow's `convert("L")`: L = (19595 R + 38470 G + 7471 B + 0x8000) >> 16
  /// (ITU-R 601-2 weights 0.299/0.587/0.114 in 16-bit fixed point, Pillow `Convert.c` `L24`).
  /// Alpha is ignored, not composited.
  public func grayscale() -> RGBImage {
    if channels == 1 { return self }
    var out = [UInt8](repeating: 0, count: width * height)
    let stride = channels
    pixels.withUnsafeBufferPointer { src in
      for i in 0..<(width * height) {
        let r = UInt32(src[stride * i]), g = UInt32(src[stride * i + 1]), b = UInt32(src[stride * i + 2])
        out[i] = UInt8((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16)
      }
    }
    return RGBImage(width: width, height: height, channels: 1, pixels: out)
  }
}
