import SDModels
import SDTensor

/// The VAE over large images in blended windows (`DiffusionTiling`), like diffusers'
/// `enable_vae_tiling` but with linear ramps normalised to sum 1. A window's pixel side is at most
/// `min(tileSize·scale, 512)` output pixels (decode; input pixels for encode), the size the SD
/// VAEs are run at, so the VAE's activations stay those of a 512×512 image. Inside one window the
/// result is exactly the untiled VAE's; the mid-block attention sees only its window.
struct TiledVAE {
  let vae: AutoencoderKL
  /// The upscaler's tile size in input pixels; 0: no tiling.
  let tileSize: Int
  var ramps = true
  static let maxWindowPixels = 512

  /// Window side in latent units for a window of at most `pixels` image pixels.
  func tiling(pixels: Int) -> DiffusionTiling {
    guard tileSize > 0 else { return DiffusionTiling(tile: 0) }
    let f = vae.config.downFactor
    var tiling = DiffusionTiling(tile: Swift.max(Swift.min(pixels, Self.maxWindowPixels) / f, 4))
    tiling.ramps = ramps
    return tiling
  }

  /// Scaled latents `[1, 4, h, w]` → `[1, 3, h·f, w·f]`; windows of at most `tileSize·upscale` pixels.
  func decode(scaledLatents z: Tensor, upscale: Int = 4) -> Tensor {
    let f = vae.config.downFactor
    return tiling(pixels: tileSize * upscale).blend(height: z.dim(2), width: z.dim(3), scale: f) { rows, cols in
      vae.decode(scaledLatents: z.window(rows, cols))
    }
  }

  /// Image `[1, 3, H, W]` (multiples of f) → the latent mean and std `[1, 4, H/f, W/f]` (unscaled).
  func encode(_ image: Tensor) -> (mean: Tensor, std: Tensor) {
    let f = vae.config.downFactor
    let (h, w) = (image.dim(2) / f, image.dim(3) / f)
    let tiling = tiling(pixels: tileSize)
    // One blend of mean ‖ std keeps the two consistent window by window.
    let both = tiling.blend(height: h, width: w) { rows, cols in
      let pixelRows = (rows.lowerBound * f)..<(rows.upperBound * f), pixelCols = (cols.lowerBound * f)..<(cols.upperBound * f)
      let d = vae.encode(image.window(pixelRows, pixelCols))
      return Tensor.concat([d.mean, d.std], axis: 1)  // [1, 2·latent, th, tw]
    }
    let halves = both.chunked(2, axis: 1)
    return (halves[0], halves[1])
  }
}
