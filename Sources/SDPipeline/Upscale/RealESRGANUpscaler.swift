import SDImage
import SDModels
import SDTensor

/// Upscales an 8-bit image with a `RealESRGANModel`, tile by tile (`RealESRGANTiling`).
///
/// Reproduces realesrgan-ncnn-vulkan's processing (xinntao/Real-ESRGAN-ncnn-vulkan
/// src/realesrgan.cpp `RealESRGAN::process`): RGB / 255 into the network, tiles padded with real
/// neighbours or, at the image edge, the mirrored image; output `floor(v · 255 + 0.5)` clamped; an
/// alpha channel is not run through the network but resized with ncnn's bicubic Interp (here over
/// the whole alpha plane, in row bands, so there are no alpha seams). Gray images are upscaled
/// as RGB. Differences: where tiles meet, they get `pad` (56) pixels of context and cross-fade over
/// `feather` (16) pixels instead of the reference's 10-pixel crop, so that tiled output stays within
/// 1 grey level of untiled (see `RealESRGANTiling`); tile sizes are balanced (`ceil(n / tile)`
/// equal tiles per axis). An image no larger than one tile is processed the way the reference does.
///
/// Memory: one tile runs at a time. Its working set is the network's live activations for the
/// tile's computed region, at most `(tile + feather + 2·pad)²` input pixels; for x4plus the largest
/// are two 64-channel float maps at 4× resolution, `2 · 64 · 16 · 4 B = 8 KiB` per input pixel,
/// plus conv2d's 16 MiB im2col band and the weights (67 MB as float32). Peak RSS: 0.75 GiB
/// measured for one 276² region (a 256² image); about 1.3 GiB for the 384² regions inside a large
/// image at the default tile 256; about 0.6 GiB at tile 128. Besides the tile, the upscaler holds
/// the input image, the output image (`scale²` bytes per input byte) and one band of float output
/// rows (`3 · 4 B · outputWidth · (tile + feather) · scale`).
public struct RealESRGANUpscaler: Sendable {
  /// Larger outputs are refused before any work (16384 × 16384).
  public static let maxOutputPixels = 1 << 28

  public let model: RealESRGANModel
  public var tiling: RealESRGANTiling

  public init(model: RealESRGANModel, tiling: RealESRGANTiling = RealESRGANTiling()) {
    self.model = model
    self.tiling = tiling
  }

  /// The upscaled image (`scale` times wider and taller; RGBA when `image` has alpha, else RGB).
  /// `progress(done, total)` is called after each tile.
  public func upscale(_ image: RGBImage, progress: ((_ done: Int, _ total: Int) -> Void)? = nil) throws -> RGBImage {
    try tiling.validate()
    let s = model.scale
    let (outW, outH) = (image.width * s, image.height * s)
    guard outW * outH <= Self.maxOutputPixels else { throw RealESRGANError.outputTooLarge(width: outW, height: outH) }
    let rgb = image.channels == 3 ? image : image.rgb()
    let outChannels = image.hasAlpha ? 4 : 3
    let alpha = image.hasAlpha ? Self.alphaPlane(image) : nil
    var pixels = [UInt8](repeating: 0, count: outW * outH * outChannels)

    let columns = tiling.spans(length: image.width), rows = tiling.spans(length: image.height)
    var band = OutputBand(rows: 0..<0, width: outW)
    var done = 0
    for (r, ySpan) in rows.enumerated() {
      band = band.moved(to: (ySpan.kept.lowerBound * s)..<(ySpan.kept.upperBound * s))
      for xSpan in columns {
        let x = RealESRGANPixels.tile(rgb, rows: ySpan.computed, columns: xSpan.computed)  // [1, 3, h, w]
        let y = try model.forward(x)  // [1, 3, h·s, w·s]
        band.blend(y, origin: (ySpan.computed.lowerBound * s, xSpan.computed.lowerBound * s), ySpan: ySpan, xSpan: xSpan, scale: s)
        done += 1
        progress?(done, rows.count * columns.count)
      }
      // Rows above the next tile row's kept range are final.
      let finalEnd = r + 1 < rows.count ? rows[r + 1].kept.lowerBound * s : outH
      band.write(rows: band.rows.lowerBound..<finalEnd, into: &pixels, channels: outChannels)
      if let alpha {
        Self.writeAlpha(alpha, rows: band.rows.lowerBound..<finalEnd, size: (outH, outW), into: &pixels)
      }
      band = band.moved(to: finalEnd..<band.rows.upperBound)
    }
    return RGBImage(width: outW, height: outH, channels: outChannels, pixels: pixels)
  }

  /// The alpha channel as `[1, 1, H, W]` in 0…255.
  static func alphaPlane(_ image: RGBImage) -> Tensor {
    Tensor(shape: [1, 1, image.height, image.width]) { out in
      image.pixels.withUnsafeBufferPointer { px in
        for i in 0..<out.count { out[i] = Float(px[4 * i + 3]) }
      }
    }
  }

  /// Bicubic alpha for output rows `rows` (ncnn Interp resize_type 3), into channel 3.
  static func writeAlpha(_ alpha: Tensor, rows: Range<Int>, size: (height: Int, width: Int), into pixels: inout [UInt8]) {
    guard !rows.isEmpty else { return }
    let band = alpha.resizedBicubic(height: size.height, width: size.width, rows: rows)  // [1, 1, rows, W·s]
    band.withUnsafeBufferPointer { a in
      for (i, y) in rows.enumerated() {
        for x in 0..<size.width {
          pixels[(y * size.width + x) * 4 + 3] = RealESRGANPixels.alphaByte(a[i * size.width + x])
        }
      }
    }
  }
}

/// Float accumulator for a band of output rows: tiles add their weighted outputs, finished rows are
/// quantised into the image, and rows still shared with the next tile row carry over.
struct OutputBand {
  private(set) var rows: Range<Int>
  let width: Int
  /// `[3, rows, width]`.
  private var values: [Float]

  init(rows: Range<Int>, width: Int) {
    self.rows = rows
    self.width = width
    values = [Float](repeating: 0, count: 3 * rows.count * width)
  }

  /// A band over `newRows` keeping the values of the rows both bands share.
  func moved(to newRows: Range<Int>) -> OutputBand {
    var next = OutputBand(rows: newRows, width: width)
    let shared = rows.clamped(to: newRows)
    for c in 0..<3 {
      for y in shared {
        let from = (c * rows.count + y - rows.lowerBound) * width
        let to = (c * newRows.count + y - newRows.lowerBound) * width
        next.values[to..<(to + width)] = values[from..<(from + width)]
      }
    }
    return next
  }

  /// Adds the kept part of one tile's output `y` (`[1, 3, h, w]` whose pixel (0, 0) is output
  /// pixel `origin`), weighted by the tile's cross-fade weights.
  mutating func blend(
    _ y: Tensor, origin: (y: Int, x: Int), ySpan: RealESRGANTiling.Span, xSpan: RealESRGANTiling.Span, scale s: Int
  ) {
    let (h, w) = (y.shape[2], y.shape[3])
    let keptX = (xSpan.kept.lowerBound * s)..<(xSpan.kept.upperBound * s)
    let keptY = (ySpan.kept.lowerBound * s)..<(ySpan.kept.upperBound * s)
    let wx = keptX.map { xSpan.weight(output: $0, scale: s) }
    let (bandStart, bandCount, width) = (rows.lowerBound, rows.count, width)
    y.withUnsafeBufferPointer { src in
      values.withUnsafeMutableBufferPointer { dst in
        for c in 0..<3 {
          for v in keptY {
            let wy = ySpan.weight(output: v, scale: s)
            let from = src.baseAddress! + (c * h + v - origin.y) * w - origin.x
            let to = dst.baseAddress! + (c * bandCount + v - bandStart) * width
            for (i, u) in keptX.enumerated() { to[u] += wy * wx[i] * from[u] }
          }
        }
      }
    }
  }

  /// Quantises output rows `range` (inside the band) into the interleaved image `pixels`.
  func write(rows range: Range<Int>, into pixels: inout [UInt8], channels: Int) {
    let plane = rows.count * width
    for y in range {
      let base = (y - rows.lowerBound) * width
      for x in 0..<width {
        let p = (y * width + x) * channels
        pixels[p] = RealESRGANPixels.byte(values[base + x])
        pixels[p + 1] = RealESRGANPixels.byte(values[plane + base + x])
        pixels[p + 2] = RealESRGANPixels.byte(values[2 * plane + base + x])
      }
    }
  }
}
