import SDImage
import SDTensor

/// Pixel conventions of Real-ESRGAN (xinntao/Real-ESRGAN `RealESRGANer`, and
/// realesrgan-ncnn-vulkan's src/realesrgan_preproc.comp / realesrgan_postproc.comp).
enum RealESRGANPixels {
  /// The RGB pixels of `image` in rows `rows` and columns `columns` as `[1, 3, rows, columns]`,
  /// each value `pixel / 255`. Coordinates outside the image are mirrored (reflect-101).
  static func tile(_ image: RGBImage, rows: Range<Int>, columns: Range<Int>) -> Tensor {
    precondition(image.channels == 3, "RealESRGANPixels.tile: expects RGB")
    let (h, w) = (rows.count, columns.count)
    let xs = columns.map { reflectIndex($0, image.width) }
    return Tensor(shape: [1, 3, h, w]) { out in  // [1, 3, h, w]
      image.pixels.withUnsafeBufferPointer { px in
        let plane = h * w
        for (y, row) in rows.enumerated() {
          let line = reflectIndex(row, image.height) * image.width
          for x in 0..<w {
            let p = 3 * (line + xs[x])
            out[y * w + x] = Float(px[p]) / 255
            out[plane + y * w + x] = Float(px[p + 1]) / 255
            out[2 * plane + y * w + x] = Float(px[p + 2]) / 255
          }
        }
      }
    }
  }

  /// An output value (about [0, 1]) as a byte: `floor(v · 255 + 0.5)` clamped to [0, 255]; NaN → 0.
  @inline(__always)
  static func byte(_ v: Float) -> UInt8 {
    let scaled = v * 255 + 0.5
    guard scaled >= 1 else { return 0 }  // also NaN
    guard scaled < 255 else { return 255 }
    return UInt8(scaled)  // truncation = floor for positive values
  }

  /// An alpha value already in [0, 255] units (bicubic of the 8-bit alpha): `floor(v + 0.5)` clamped.
  @inline(__always)
  static func alphaByte(_ v: Float) -> UInt8 {
    let scaled = v + 0.5
    guard scaled >= 1 else { return 0 }
    guard scaled < 255 else { return 255 }
    return UInt8(scaled)
  }
}
