extension RGBImage {
  /// The image turned upright for an EXIF orientation (`ExifOrientation`), as Pillow's
  /// `ImageOps.exif_transpose` does: 2 mirror (FLIP_LEFT_RIGHT), 3 ROTATE_180, 4 FLIP_TOP_BOTTOM,
  /// 5 TRANSPOSE, 6 ROTATE_270 (90° clockwise), 7 TRANSVERSE, 8 ROTATE_90 (90° counter-clockwise).
  /// 1 and values outside 1…8 return the image unchanged. 5–8 swap width and height.
  public func oriented(exif orientation: Int) -> RGBImage {
    guard (2...8).contains(orientation) else { return self }
    let (w, h) = (width, height)
    let swaps = orientation >= 5
    let (outW, outH) = swaps ? (h, w) : (w, h)
    // The source pixel of output pixel (x, y).
    let source: (Int, Int) -> (Int, Int)
    switch orientation {
    case 2: source = { x, y in (w - 1 - x, y) }
    case 3: source = { x, y in (w - 1 - x, h - 1 - y) }
    case 4: source = { x, y in (x, h - 1 - y) }
    case 5: source = { x, y in (y, x) }
    case 6: source = { x, y in (y, h - 1 - x) }
    case 7: source = { x, y in (w - 1 - y, h - 1 - x) }
    default: source = { x, y in (w - 1 - y, x) }  // 8
    }
    var out = [UInt8](repeating: 0, count: pixels.count)
    for y in 0..<outH {
      for x in 0..<outW {
        let (sx, sy) = source(x, y)
        let from = (sy * w + sx) * channels, to = (y * outW + x) * channels
        for c in 0..<channels { out[to + c] = pixels[from + c] }
      }
    }
    return RGBImage(width: outW, height: outH, channels: channels, pixels: out)
  }
}
