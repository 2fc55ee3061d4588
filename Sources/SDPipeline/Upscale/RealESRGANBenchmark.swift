import Foundation
import SDImage
import SDModels
import SDTensor

/// Times one `RealESRGANUpscaler.upscale` of a square image and counts the convolution work.
public enum RealESRGANBenchmark {
  public struct Result: Sendable {
    public let scale: Int
    public let tiles: Int
    /// Convolution FLOPs (2 per multiply-add) over every tile the network ran on.
    public let gflop: Double
    public let seconds: Double
    public var gflops: Double { gflop / seconds }
  }

  /// Upscales `image` once with the default tiling (`tileSize` input pixels per tile).
  public static func run(model: RealESRGANModel, image: RGBImage, tileSize: Int = 256) throws -> Result {
    let upscaler = RealESRGANUpscaler(model: model, tiling: RealESRGANTiling(tileSize: tileSize))
    var flop = 0.0
    let columns = upscaler.tiling.spans(length: image.width), rows = upscaler.tiling.spans(length: image.height)
    for y in rows {
      for x in columns {
        flop += try convolutionFLOPs(model.net, height: y.computed.count, width: x.computed.count)
      }
    }
    let start = DispatchTime.now().uptimeNanoseconds
    _ = try upscaler.upscale(image)
    let seconds = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return Result(scale: model.scale, tiles: rows.count * columns.count, gflop: flop / 1e9, seconds: seconds)
  }

  /// `Σ 2 · out · in · kh · kw · outH · outW` over the graph's convolutions for one RGB input.
  public static func convolutionFLOPs(_ net: NCNNNet, height: Int, width: Int) throws -> Double {
    let shapes = try net.shapes(forInput: NCNNBlobShape(channels: 3, height: height, width: width))
    var flop = 0.0
    for layer in net.layers {
      if case .convolution(let conv) = layer.operation {
        let out = shapes[layer.tops[0]]
        flop += 2 * Double(conv.weight.count) * Double(out.height * out.width)
      }
    }
    return flop
  }
}
