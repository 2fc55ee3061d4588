import Foundation
import SDModels
import SDTensor

/// A Real-ESRGAN network read from ncnn files: RRDBNet (x4plus, x4plus-anime) or SRVGGNetCompact
/// (animevideov3), or any graph of the supported layers that maps RGB to RGB at an integer scale.
///
/// Convention (xinntao/Real-ESRGAN-ncnn-vulkan src/realesrgan_preproc.comp, _postproc.comp): the
/// network reads RGB in [0, 1] (pixel / 255, in the order the image has, not BGR) and writes RGB in
/// about [0, 1]; the caller scales by 255, adds 0.5, floors and clamps to [0, 255].
public struct RealESRGANModel: Sendable {
  public let net: NCNNNet
  /// Output pixels per input pixel along each axis.
  public let scale: Int

  /// Loads `paramPath` and the `.bin` beside it, then checks the graph is an RGB upscaler.
  public static func load(paramPath: String) throws -> RealESRGANModel {
    try RealESRGANModel(net: NCNNNet.load(paramPath: paramPath))
  }

  /// Finds the scale by shape inference on two probe sizes; it must be the same integer for both,
  /// with 3 channels in and out.
  public init(net: NCNNNet) throws {
    var found: Int?
    for (h, w) in [(64, 64), (48, 40)] {
      let out = try net.shapes(forInput: NCNNBlobShape(channels: 3, height: h, width: w))[net.outputBlob]
      guard out.channels == 3 else {
        throw RealESRGANError.notAnUpscaler(file: net.file, reason: "it outputs \(out.channels) channels, not 3")
      }
      let s = out.height / h
      guard s >= 1, s <= 16, out.height == s * h, out.width == s * w, found == nil || found == s else {
        throw RealESRGANError.notAnUpscaler(
          file: net.file, reason: "a \(h)×\(w) input gives \(out.height)×\(out.width), not an integer multiple")
      }
      found = s
    }
    self.net = net
    scale = found!
  }

  /// The raw network: `[1, 3, h, w]` in [0, 1] → `[1, 3, h·scale, w·scale]`, unclamped.
  public func forward(_ x: Tensor) throws -> Tensor {
    try net.forward(x)
  }
}
