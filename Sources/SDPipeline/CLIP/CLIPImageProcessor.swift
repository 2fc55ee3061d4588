import Foundation
import SDImage
import SDModels
import SDTensor

/// transformers 5.24 `CLIPImageProcessor` as `from_pretrained` gives it in the pinned environment
/// (without torchvision that is `CLIPImageProcessorPil`, the PIL backend; diffusers' safety-checker
/// `feature_extractor` is the same class), bit-exact up to the float32 normalisation:
///
/// 1. convert to RGB: alpha composited onto white (transformers `convert_to_rgb`, Pillow
///    `alpha_composite` integer arithmetic), gray replicated;
/// 2. resize so the shortest edge is `size` (the long edge `int(size · long / short)`), Pillow
///    resampling (`resample`, BICUBIC = 3 for CLIP) on the 8-bit image;
/// 3. center crop `crop_size` (offsets `(in − out) // 2`; zero padding when the image is smaller);
/// 4. rescale: `float32(uint8 · rescale_factor)` computed in double (numpy float64 then astype);
/// 5. normalise per channel in float32: `(x − mean) / std`, channels first.
///
/// Limitations: `resample` NEAREST (0) and `size` with `longest_edge` are refused; 4-channel inputs
/// are always converted (transformers keeps them with `do_convert_rgb=False`, which no CLIP model accepts).
/// With torchvision installed, transformers 5 picks its torchvision backend instead (antialiased
/// bicubic on tensors), which is not reproduced here.
public struct CLIPImageProcessor: Sendable, Equatable {
  public struct PixelSize: Sendable, Equatable {
    public var width: Int
    public var height: Int
    public init(width: Int, height: Int) {
      self.width = width
      self.height = height
    }
  }

  public enum Size: Sendable, Equatable {
    /// Scale so the shorter side has this length, keeping the aspect ratio.
    case shortestEdge(Int)
    /// Resize to exactly this size.
    case exact(PixelSize)
  }

  /// nil: `do_resize` false.
  public var size: Size?
  /// nil: `do_center_crop` false.
  public var cropSize: PixelSize?
  public var filter: ResampleFilter
  /// nil: `do_rescale` false.
  public var rescaleFactor: Double?
  /// Per-channel mean and standard deviation (3 values each); nil: `do_normalize` false.
  public var mean: [Float]?
  public var std: [Float]?

  public init(
    size: Size? = .shortestEdge(224), cropSize: PixelSize? = PixelSize(width: 224, height: 224),
    filter: ResampleFilter = .bicubic, rescaleFactor: Double? = 1.0 / 255.0,
    mean: [Float]? = Self.openAIMean, std: [Float]? = Self.openAIStd
  ) {
    precondition((mean == nil) == (std == nil) && (mean?.count ?? 3) == 3 && (std?.count ?? 3) == 3,
      "CLIPImageProcessor: mean and std need 3 values each")
    self.size = size
    self.cropSize = cropSize
    self.filter = filter
    self.rescaleFactor = rescaleFactor
    self.mean = mean
    self.std = std
  }

  /// transformers `OPENAI_CLIP_MEAN` / `OPENAI_CLIP_STD` (the values of OpenAI's `clip.py`).
  public static let openAIMean: [Float] = [0.48145466, 0.4578275, 0.40821073]
  public static let openAIStd: [Float] = [0.26862954, 0.26130258, 0.27577711]

  /// OpenAI's CLIP preprocessing: shortest edge 224, bicubic, crop 224, 1/255, normalise
  /// (`CLIPImageProcessor()` defaults; also SD1.5's `feature_extractor`).
  public static let openAI = CLIPImageProcessor()

  /// The size of the images it produces, or nil when that depends on the input.
  public var outputSize: PixelSize? {
    if let cropSize { return cropSize }
    if case .exact(let s)? = size { return s }
    return nil
  }

  /// Steps 1–3: the 8-bit RGB image that gets normalised (what transformers hands `rescale`).
  /// When the crop lies inside the resized image only the cropped pixels are resampled
  /// (bit-identical; keeps extreme aspect ratios cheap).
  public func processedImage(_ image: RGBImage) -> RGBImage {
    var rgb = Self.convertToRGB(image)
    let (w, h) = size.map { Self.resizedSize(width: rgb.width, height: rgb.height, size: $0) } ?? (rgb.width, rgb.height)
    if let crop = cropSize, crop.width <= w, crop.height <= h {
      let left = (w - crop.width) / 2, top = (h - crop.height) / 2
      return rgb.resized(
        width: w, height: h, filter: filter, columns: left..<left + crop.width, rows: top..<top + crop.height)
    }
    if w != rgb.width || h != rgb.height { rgb = rgb.resized(width: w, height: h, filter: filter) }
    if let crop = cropSize { rgb = Self.centerCropped(rgb, width: crop.width, height: crop.height) }
    return rgb
  }

  /// Steps 4–5 on an already processed image: `[3, H, W]`.
  public func normalized(_ rgb: RGBImage) -> Tensor {
    precondition(rgb.channels == 3, "normalized: expected an RGB image")
    precondition((mean?.count ?? 3) == 3 && (std?.count ?? 3) == 3, "normalized: mean and std need 3 values each")
    let plane = rgb.width * rgb.height
    let normalize = mean != nil
    let mean = self.mean ?? [0, 0, 0], std = self.std ?? [1, 1, 1]
    return Tensor(shape: [3, rgb.height, rgb.width]) { out in  // [3, H, W]
      rgb.pixels.withUnsafeBufferPointer { px in
        for c in 0..<3 {
          for i in 0..<plane {
            let v = rescaleFactor.map { Float(Double(px[3 * i + c]) * $0) } ?? Float(px[3 * i + c])
            out[c * plane + i] = normalize ? (v - mean[c]) / std[c] : v
          }
        }
      }
    }
  }

  /// `processor(images).pixel_values`: `[N, 3, H, W]`. All images must come out the same size
  /// (true whenever `outputSize` is not nil).
  public func pixelValues(_ images: [RGBImage]) -> Tensor {
    let planes = images.map { normalized(processedImage($0)) }
    precondition(!planes.isEmpty && planes.allSatisfy { $0.shape == planes[0].shape }, "pixelValues: sizes differ")
    return Tensor.concat(planes.map { $0.reshaped([1] + $0.shape) }, axis: 0)  // [N, 3, H, W]
  }

  /// transformers `get_resize_output_image_size(default_to_square=False)`: the short side becomes
  /// `size`, the long side `int(size · long / short)` (floor of a double division).
  static func resizedSize(width: Int, height: Int, size: Size) -> (width: Int, height: Int) {
    switch size {
    case .exact(let s):
      return (s.width, s.height)
    case .shortestEdge(let edge):
      let (short, long) = width <= height ? (width, height) : (height, width)
      let newLong = Int(Double(edge * long) / Double(short))
      return width <= height ? (edge, newLong) : (newLong, edge)
    }
  }

  /// transformers `center_crop`: offsets `(in − out) // 2`; a smaller image is first zero-padded
  /// with `ceil((out − in) / 2)` before it.
  static func centerCropped(_ image: RGBImage, width: Int, height: Int) -> RGBImage {
    if image.width == width && image.height == height { return image }
    let (c, w, h) = (image.channels, image.width, image.height)
    let newH = max(height, h), newW = max(width, w)
    let padTop = (newH - h + 1) / 2, padLeft = (newW - w + 1) / 2
    // Crop window in padded coordinates (Python floor division on a possibly negative difference).
    let top = Int((Double(h - height) / 2).rounded(.down)) + padTop
    let left = Int((Double(w - width) / 2).rounded(.down)) + padLeft
    var out = [UInt8](repeating: 0, count: width * height * c)
    for y in 0..<height {
      let sy = top + y - padTop
      guard sy >= 0 && sy < h else { continue }
      for x in 0..<width {
        let sx = left + x - padLeft
        guard sx >= 0 && sx < w else { continue }
        for ch in 0..<c { out[(y * width + x) * c + ch] = image.pixels[(sy * w + sx) * c + ch] }
      }
    }
    return RGBImage(width: width, height: height, channels: c, pixels: out)
  }

  /// transformers `convert_to_rgb`: RGBA composited over opaque white with Pillow's
  /// `alpha_composite` arithmetic (`libImaging/AlphaComposite.c`, 7 extra bits, rounded ÷255),
  /// gray replicated to three channels.
  static func convertToRGB(_ image: RGBImage) -> RGBImage {
    guard image.channels == 4 else { return image.rgb() }
    var out = [UInt8](repeating: 0, count: image.width * image.height * 3)
    image.pixels.withUnsafeBufferPointer { px in
      for i in 0..<(image.width * image.height) {
        let a = UInt32(px[4 * i + 3])
        for c in 0..<3 {
          if a == 0 {
            out[3 * i + c] = 255
            continue
          }
          // Over white: coef1 = a·128, coef2 = (255 − a)·128 (the general formula with dst alpha 255).
          let t = UInt32(px[4 * i + c]) * a * 128 + 255 * (255 - a) * 128 + (0x80 << 7)
          out[3 * i + c] = UInt8((((t >> 8) + t) >> 8) >> 7)
        }
      }
    }
    return RGBImage(width: image.width, height: image.height, channels: 3, pixels: out)
  }
}
