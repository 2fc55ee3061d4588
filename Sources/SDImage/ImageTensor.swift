import SDTensor

/// Conversions between 8-bit images and the NCHW float tensors the VAE reads and writes.
///
/// Matches diffusers 0.42.1 `VaeImageProcessor` (image_processor.py) without resizing:
/// - `preprocess`: `convert("RGB")`, `pil_to_numpy` (float32 `x / 255`), `normalize` (`2x - 1`);
/// - mask `preprocess` (`do_normalize=False, do_convert_grayscale=True`): `convert("L")`, `x / 255`;
/// - `postprocess(output_type="pil")`: `denormalize` (`(x * 0.5 + 0.5).clamp(0, 1)`), then
///   `numpy_to_pil` (`(x * 255).round().astype(uint8)`, numpy rounding half to even).
/// All arithmetic is float32 in the same order, so results are bit-identical.
public enum ImageTensor {
  /// `[1, 3, H, W]` in [-1, 1]. Alpha is dropped and gray replicated first, as `convert("RGB")`.
  public static func tensor(from image: RGBImage) -> Tensor {
    let rgb = image.rgb()
    let (h, w) = (rgb.height, rgb.width)
    let plane = h * w
    return Tensor(shape: [1, 3, h, w]) { out in  // [1, 3, H, W]
      rgb.pixels.withUnsafeBufferPointer { px in
        for i in 0..<plane {
          for c in 0..<3 {
            out[c * plane + i] = 2 * (Float(px[3 * i + c]) / 255) - 1
          }
        }
      }
    }
  }

  /// `[1, 1, H, W]` in [0, 1]: luma as `convert("L")`, divided by 255. Binarizing (diffusers'
  /// `do_binarize`, `x < 0.5 → 0, else 1`) is left to the caller.
  public static func maskTensor(from image: RGBImage) -> Tensor {
    let gray = image.grayscale()
    return Tensor(shape: [1, 1, gray.height, gray.width]) { out in  // [1, 1, H, W]
      gray.pixels.withUnsafeBufferPointer { px in
        for i in 0..<px.count { out[i] = Float(px[i]) / 255 }
      }
    }
  }

  /// The image at batch `index` of a `[N, C, H, W]` tensor in [-1, 1] (values outside are clamped).
  /// C = 3 gives RGB, C = 1 gray (as `numpy_to_pil`'s single-channel case). NaN becomes 0.
  public static func image(from tensor: Tensor, index: Int = 0) -> RGBImage {
    precondition(tensor.rank == 4, "ImageTensor.image: expected [N, C, H, W], got \(tensor.shape)")
    let (n, c, h, w) = (tensor.shape[0], tensor.shape[1], tensor.shape[2], tensor.shape[3])
    precondition(c == 1 || c == 3, "ImageTensor.image: expected 1 or 3 channels, got \(tensor.shape)")
    precondition(index >= 0 && index < n, "ImageTensor.image: index \(index) out of \(tensor.shape)")
    let plane = h * w
    var pixels = [UInt8](repeating: 0, count: plane * c)
    tensor.withUnsafeBufferPointer { x in
      let base = index * c * plane
      for i in 0..<plane {
        for ch in 0..<c {
          pixels[i * c + ch] = toByte(x[base + ch * plane + i])  // NCHW → interleaved HWC
        }
      }
    }
    return RGBImage(width: w, height: h, channels: c, pixels: pixels)
  }

  /// diffusers' denormalize + numpy_to_pil for one value.
  @inline(__always)
  static func toByte(_ x: Float) -> UInt8 {
    let v = x * 0.5 + 0.5  // x * 0.5 is exact, so fused or not this rounds once, like torch
    guard v > 0 else { return 0 }  // also NaN
    guard v < 1 else { return 255 }
    return UInt8((v * 255).rounded(.toNearestOrEven))
  }
}
