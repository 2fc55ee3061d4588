/// How `RealESRGANUpscaler` cuts an image into overlapping tiles, per axis (input pixels).
///
/// The image is split into `ceil(n / tileSize)` cores of nearly equal length. Each tile keeps the
/// outputs of its core widened by `feather / 2` on each inner side; where two kept ranges overlap
/// (`feather` pixels around each seam) the outputs cross-fade linearly, with weights that sum to 1.
/// The network sees each kept range widened by `pad` pixels of real context on every inner side,
/// and by `borderPad` pixels of mirrored image (reflect-101) at the image edge, as
/// realesrgan-ncnn-vulkan pads every tile (its `prepadding`, 10). A single tile (`tileSize = 0`, or
/// an image no larger than a tile) is the untiled result, the same as realesrgan-ncnn-vulkan's.
///
/// Why the inner pad is wide: x4plus chains 345 3×3 convolutions at input resolution, so a tile
/// edge still moves outputs far inside the tile. Measured on the 4×-downscaled astronaut.png (tiles of
/// 64, largest difference from the untiled result, with C = pad + feather/2 pixels of context at the
/// seam): the reference's crop (pad 10) 67 grey levels; C = 48: 5; C = 56: 2; C = 64 (pad 56,
/// feather 16, the defaults; or pad 64, feather 0): 1. Each seam costs `feather + 2·pad` pixels of
/// extra work per axis (128 with the defaults); `--tile-pad 16 --tile-feather 16` is about 1.4×
/// cheaper on a 1024² image, with seams up to ~30 grey levels (PSNR 49 dB against untiled). SRVGG
/// models (animevideov3, receptive radius 18) are exact with any pad ≥ 18.
public struct RealESRGANTiling: Sendable, Equatable {
  /// Largest core, in input pixels; 0 runs the whole image as one tile.
  public var tileSize: Int
  /// Real context added on each inner side of a tile's kept range, in input pixels.
  public var pad: Int
  /// Mirrored context added at the image edge, in input pixels.
  public var borderPad: Int
  /// Width of the cross-fade at each seam, in input pixels (even, at most `tileSize / 2`).
  public var feather: Int

  public init(
    tileSize: Int = 256, pad: Int = RealESRGANTiling.defaultPad, feather: Int = RealESRGANTiling.defaultFeather,
    borderPad: Int = RealESRGANTiling.defaultBorderPad
  ) {
    self.tileSize = tileSize
    self.pad = pad
    self.feather = feather
    self.borderPad = borderPad
  }

  public static let defaultBorderPad = 10

  public static let defaultPad = 56
  public static let defaultFeather = 16

  public func validate() throws(RealESRGANError) {
    guard tileSize == 0 || (16...8192).contains(tileSize) else {
      throw .invalidTiling("the tile size must be 0 (one tile) or 16…8192 pixels (got \(tileSize))")
    }
    guard (0...1024).contains(pad), (0...1024).contains(borderPad) else {
      throw .invalidTiling("the tile pads must be 0…1024 pixels (got \(pad) and \(borderPad) at the border)")
    }
    guard feather >= 0, feather % 2 == 0, tileSize == 0 || feather <= tileSize / 2 else {
      throw .invalidTiling("the feather must be even and at most half the tile size (got \(feather) for tile \(tileSize))")
    }
  }

  /// The tiles along an axis of `length` input pixels.
  public func spans(length: Int) -> [Span] {
    let count = tileSize == 0 ? 1 : Swift.max(1, (length + tileSize - 1) / tileSize)
    let half = feather / 2
    return (0..<count).map { i in
      let core = (i * length / count)..<((i + 1) * length / count)
      let first = i == 0, last = i == count - 1
      let kept = (first ? 0 : core.lowerBound - half)..<(last ? length : core.upperBound + half)
      return Span(
        core: core, kept: kept,
        computed: (kept.lowerBound - (first ? borderPad : pad))..<(kept.upperBound + (last ? borderPad : pad)),
        fadeIn: first ? nil : core.lowerBound - half, fadeOut: last ? nil : core.upperBound - half, feather: feather)
    }
  }

  /// One tile's ranges along one axis, in input pixels.
  public struct Span: Sendable, Equatable {
    /// The tile's share of the image.
    public let core: Range<Int>
    /// The input pixels whose outputs the tile contributes (core plus half the feather inside the image).
    public let kept: Range<Int>
    /// What the network is run on: `kept` plus the pads (beyond the image: mirrored).
    public let computed: Range<Int>
    /// Where the cross-fade with the previous / next tile starts (nil at the image edge).
    let fadeIn: Int?
    let fadeOut: Int?
    let feather: Int

    /// The blend weight of output pixel `u` (output coordinates, `scale` per input pixel), which
    /// must lie in `kept · scale`. Neighbouring tiles' weights sum to 1 at every pixel.
    public func weight(output u: Int, scale: Int) -> Float {
      let width = Float(feather * scale)
      if let start = fadeIn, u < (start + feather) * scale {
        return (Float(u - start * scale) + 0.5) / width
      }
      if let start = fadeOut, u >= start * scale {
        return 1 - (Float(u - start * scale) + 0.5) / width
      }
      return 1
    }
  }
}

/// The mirror image index of `i` for an axis of `n` pixels (reflect-101: … 2 1 | 0 1 2 … n−1 | n−2 …).
func reflectIndex(_ i: Int, _ n: Int) -> Int {
  guard n > 1 else { return 0 }
  let period = 2 * (n - 1)
  let m = ((i % period) + period) % period
  return m < n ? m : period - m
}
