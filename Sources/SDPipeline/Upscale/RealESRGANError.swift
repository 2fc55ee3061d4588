/// Why a Real-ESRGAN upscale was refused (model problems in the ncnn files themselves are
/// `NCNNError`s, which name the file and layer).
public enum RealESRGANError: Error, Equatable, CustomStringConvertible {
  /// The graph loads but is not an RGB → RGB integer-factor upscaler.
  case notAnUpscaler(file: String, reason: String)
  /// The output image would be unreasonably large.
  case outputTooLarge(width: Int, height: Int)
  /// Tile settings that cannot work.
  case invalidTiling(String)

  public var description: String {
    switch self {
    case .notAnUpscaler(let file, let reason):
      return "\(file): not a Real-ESRGAN-style upscaler (\(reason))"
    case .outputTooLarge(let width, let height):
      return "the upscaled image would be \(width)×\(height) pixels, more than sdedit writes (\(RealESRGANUpscaler.maxOutputPixels) pixels)"
    case .invalidTiling(let reason):
      return "invalid tiling: \(reason)"
    }
  }
}
