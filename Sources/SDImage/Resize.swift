import Foundation
import SDTensor

/// The convolution filters of Pillow's `Image.resize` (`PIL.Image.Resampling`), as Pillow 13 defines
/// them in `libImaging/Resample.c`: the kernel and its support radius in source pixels (scaled up by
/// the reduction factor when shrinking, so downscaling antialiases).
public enum ResampleFilter: String, Sendable, CaseIterable {
  /// Support 0.5: the average of the covered pixels (`Resampling.BOX`).
  case box
  /// Triangle, support 1 (`Resampling.BILINEAR`).
  case bilinear
  /// Hamming-windowed sinc, support 1 (`Resampling.HAMMING`).
  case hamming
  /// Keys cubic convolution with a = −0.5, support 2 (`Resampling.BICUBIC`).
  case bicubic
  /// Lanczos-3 windowed sinc, support 3 (`Resampling.LANCZOS`).
  case lanczos

  /// The filter for a `PIL.Image.Resampling` value as stored in configs (`"resample": 3` is BICUBIC);
  /// nil for NEAREST (0), which is a different algorithm, and unknown codes.
  public init?(pillowCode: Int) {
    switch pillowCode {
    case 1: self = .lanczos
    case 2: self = .bilinear
    case 3: self = .bicubic
    case 4: self = .box
    case 5: self = .hamming
    default: return nil
    }
  }

  /// Radius of the kernel at scale 1.
  var support: Double {
    switch self {
    case .box: 0.5
    case .bilinear, .hamming: 1
    case .bicubic: 2
    case .lanczos: 3
    }
  }

  /// The kernel, in double precision like Pillow (including its float constants in `hamming`).
  func weight(_ x: Double) -> Double {
    switch self {
    case .box:
      return x > -0.5 && x <= 0.5 ? 1 : 0
    case .bilinear:
      let x = abs(x)
      return x < 1 ? 1 - x : 0
    case .hamming:
      let x = abs(x)
      if x == 0 { return 1 }
      if x >= 1 { return 0 }
      let px = x * Double.pi
      return sin(px) / px * (Double(Float(0.54)) + Double(Float(0.46)) * cos(px))
    case .bicubic:
      let a = -0.5, x = abs(x)
      if x < 1 { return ((a + 2) * x - (a + 3)) * x * x + 1 }
      if x < 2 { return (((x - 5) * x + 8) * x - 4) * a }
      return 0
    case .lanczos:
      guard x >= -3, x < 3 else { return 0 }
      return Self.sinc(x) * Self.sinc(x / 3)
    }
  }

  private static func sinc(_ x: Double) -> Double {
    if x == 0 { return 1 }
    let px = x * Double.pi
    return sin(px) / px
  }
}

/// Pillow's two-pass separable resampling of 8-bit images, bit-exact with `Image.resize(size, filter)`
/// for "RGB" and "L" images (Pillow 13 `libImaging/Resample.c`: `precompute_coeffs`,
/// `normalize_coeffs_8bpc`, `ImagingResampleHorizontal_8bpc` / `Vertical_8bpc`):
///
/// - per output pixel, the source window `[center − support·s, center + support·s]` (s = max(1, in/out)),
///   rounded to whole pixels, with the kernel sampled at pixel centres and normalised to sum 1;
/// - coefficients in 22-bit fixed point (rounded half away from zero), accumulated in integers
///   starting from one half, then shifted and clamped to 0…255;
/// - two passes, each rounded to 8 bits: horizontal then vertical, except that Pillow 13 runs the
///   vertical pass first when the height loses more than twice as many pixels as the width; a pass
///   whose size does not change is skipped.
///
/// Limitations: 4-channel images are filtered per channel as stored, whereas Pillow premultiplies
/// alpha for "RGBA" (convert to RGB first when that matters); no `box` sub-region, no `reducing_gap`.
extension RGBImage {
  public func resized(width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bicubic) -> RGBImage {
    resized(width: newWidth, height: newHeight, filter: filter, columns: 0..<newWidth, rows: 0..<newHeight)
  }

  /// Only the pixels `columns × rows` of the `newWidth × newHeight` resize, bit-identical to cropping
  /// `resized(width:height:filter:)` but without computing (or allocating) the rest: a center crop of
  /// a very elongated image stays cheap.
  public func resized(
    width newWidth: Int, height newHeight: Int, filter: ResampleFilter = .bicubic, columns: Range<Int>, rows: Range<Int>
  ) -> RGBImage {
    precondition(newWidth > 0 && newHeight > 0, "resized: size must be positive (got \(newWidth)×\(newHeight))")
    precondition(
      !columns.isEmpty && !rows.isEmpty && columns.lowerBound >= 0 && columns.upperBound <= newWidth
        && rows.lowerBound >= 0 && rows.upperBound <= newHeight,
      "resized: region \(columns) × \(rows) is not inside \(newWidth)×\(newHeight)")
    let horizontal = newWidth == width ? nil : ResampleTaps(inSize: width, outSize: newWidth, filter: filter, outputs: columns)
    let vertical = newHeight == height ? nil : ResampleTaps(inSize: height, outSize: newHeight, filter: filter, outputs: rows)
    let sourceColumns = horizontal?.sourceRange ?? columns, sourceRows = vertical?.sourceRange ?? rows
    // Pillow 13 (python-pillow/Pillow#9549) runs the vertical pass first when the height shrinks
    // by more than twice as many pixels as the width does; each pass rounds to 8 bits, so the
    // order changes results.
    if let vertical, newHeight < height, (height - newHeight) > (width - newWidth) * 2 {
      let v = resampledVertically(vertical, columns: sourceColumns)  // rows × source columns
      return horizontal.map { v.resampledHorizontally($0, rows: 0..<v.height, columnOffset: sourceColumns.lowerBound) } ?? v
    }
    let h = horizontal.map { resampledHorizontally($0, rows: sourceRows, columnOffset: 0) }
      ?? cropped(columns: sourceColumns, rows: sourceRows)  // source rows × columns
    return vertical.map { h.resampledVertically($0, columns: 0..<h.width, rowOffset: sourceRows.lowerBound) } ?? h
  }

  /// The rectangle `columns × rows`.
  func cropped(columns: Range<Int>, rows: Range<Int>) -> RGBImage {
    if columns == 0..<width && rows == 0..<height { return self }
    var out = [UInt8]()
    out.reserveCapacity(columns.count * rows.count * channels)
    for y in rows { out += pixels[(y * width + columns.lowerBound) * channels..<(y * width + columns.upperBound) * channels] }
    return RGBImage(width: columns.count, height: rows.count, channels: channels, pixels: out)
  }

  /// Pillow `ImagingResampleHorizontal_8bpc` over source `rows`: one output column per tap set;
  /// this image's column 0 is source column `columnOffset`.
  func resampledHorizontally(_ taps: ResampleTaps, rows: Range<Int>, columnOffset: Int) -> RGBImage {
    let c = channels, inRow = width * c, outWidth = taps.first.count, outRow = outWidth * c
    var out = [UInt8](repeating: 0, count: rows.count * outRow)
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        let dst = dst  // a constant copy of the pointer for the concurrent closure
        Threading.parallelFor(rows.count, grain: 16) { range in
          for y in range {
            let line = (rows.lowerBound + y) * inRow
            for xx in 0..<outWidth {
              let first = (taps.first[xx] - columnOffset) * c, k = taps.offset(xx)
              for ch in 0..<c {
                var acc = ResampleTaps.half
                for i in 0..<taps.count[xx] { acc += Int(src[line + first + i * c + ch]) * taps.weights[k + i] }
                dst[y * outRow + xx * c + ch] = ResampleTaps.clip8(acc)
              }
            }
          }
        }
      }
    }
    return RGBImage(width: outWidth, height: rows.count, channels: c, pixels: out)
  }

  /// Pillow `ImagingResampleVertical_8bpc` over source `columns`: one output row per tap set;
  /// this image's row 0 is source row `rowOffset`.
  func resampledVertically(_ taps: ResampleTaps, columns: Range<Int>, rowOffset: Int = 0) -> RGBImage {
    let c = channels, inRow = width * c, outHeight = taps.first.count, outRow = columns.count * c
    var out = [UInt8](repeating: 0, count: outHeight * outRow)
    pixels.withUnsafeBufferPointer { src in
      out.withUnsafeMutableBufferPointer { dst in
        let dst = dst
        Threading.parallelFor(outHeight, grain: 16) { range in
          for yy in range {
            let first = taps.first[yy] - rowOffset, k = taps.offset(yy)
            for j in 0..<outRow {
              let column = columns.lowerBound * c + j
              var acc = ResampleTaps.half
              for i in 0..<taps.count[yy] { acc += Int(src[(first + i) * inRow + column]) * taps.weights[k + i] }
              dst[yy * outRow + j] = ResampleTaps.clip8(acc)
            }
          }
        }
      }
    }
    return RGBImage(width: columns.count, height: outHeight, channels: c, pixels: out)
  }
}

/// The fixed-point filter taps of one resampling pass (Pillow `precompute_coeffs` +
/// `normalize_coeffs_8bpc`) for the output pixels `outputs`: the `i`-th of them reads `count[i]` source
/// pixels from `first[i]` with weights `weights[offset(i) ..< offset(i) + count[i]]`, in units of 2⁻²².
struct ResampleTaps {
  static let precisionBits = 32 - 8 - 2
  static let half = 1 << (precisionBits - 1)

  let first: [Int]
  let count: [Int]
  let weights: [Int]
  let stride: Int

  init(inSize: Int, outSize: Int, filter: ResampleFilter, outputs: Range<Int>) {
    // Pillow computes the box extent in float, then the scale in double.
    let scale = Double(Float(inSize)) / Double(outSize)
    let filterScale = max(scale, 1)
    let support = filter.support * filterScale
    let inverseScale = 1 / filterScale
    stride = Int(support.rounded(.up)) * 2 + 1
    var first = [Int](repeating: 0, count: outputs.count), count = [Int](repeating: 0, count: outputs.count)
    var weights = [Int](repeating: 0, count: outputs.count * stride)
    var k = [Double](repeating: 0, count: stride)
    for (o, xx) in outputs.enumerated() {
      let center = (Double(xx) + 0.5) * scale
      let lo = max(0, Int(center - support + 0.5))  // C casts truncate toward zero
      let hi = min(inSize, Int(center + support + 0.5))
      let n = max(0, min(stride, hi - lo))
      var total = 0.0
      for x in 0..<n {
        let w = filter.weight((Double(x + lo) - center + 0.5) * inverseScale)
        k[x] = w
        total += w
      }
      for x in 0..<n {
        let w = total != 0 ? k[x] / total : k[x]
        let fixed = w * Double(1 << Self.precisionBits)
        weights[o * stride + x] = Int(w < 0 ? fixed - 0.5 : fixed + 0.5)
      }
      first[o] = lo
      count[o] = n
    }
    self.first = first
    self.count = count
    self.weights = weights
  }

  @inline(__always) func offset(_ i: Int) -> Int { i * stride }

  /// The source pixels any of the outputs reads (Pillow's `ybox_first ..< ybox_last`).
  var sourceRange: Range<Int> {
    let lo = first.min() ?? 0
    let hi = zip(first, count).map { $0 + $1 }.max() ?? lo
    return lo..<max(lo, hi)
  }

  /// Pillow `clip8`: the accumulator shifted down (arithmetic) and clamped to 0…255.
  @inline(__always) static func clip8(_ acc: Int) -> UInt8 {
    let v = acc >> precisionBits
    return v < 0 ? 0 : v > 255 ? 255 : UInt8(v)
  }
}
