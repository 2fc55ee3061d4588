/// ncnn's `Interp` (Tencent/ncnn src/layer/interp.cpp): 0 resize_type (1 nearest, 3 bicubic;
/// 2 bilinear is refused), 1 height_scale, 2 width_scale, 3 output_height, 4 output_width (a
/// nonzero size wins over the scale); 5 dynamic_target_size and 6 align_corner must be 0.
/// Output size: `Int(h · height_scale)` (truncated, as ncnn), or the given size.
public struct NCNNInterp: Sendable, Equatable {
  public enum Mode: Int, Sendable { case nearest = 1, bicubic = 3 }
  public let mode: Mode
  public let heightScale: Float
  public let widthScale: Float
  public let outputHeight: Int
  public let outputWidth: Int

  static let maxScale: Float = 64

  init(_ spec: NCNNLayerSpec, file: String) throws(NCNNError) {
    func invalid(_ reason: String) -> NCNNError { .invalidLayer(file: file, layer: spec.name, reason: reason) }
    let (type, hs, ws, oh, ow, dynamic, align) = try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
      try spec.allowOnly([0, 1, 2, 3, 4, 5, 6])
      return (
        try p.int(0, default: 0), try p.float(1, default: 1), try p.float(2, default: 1), try p.int(3, default: 0),
        try p.int(4, default: 0), try p.int(5, default: 0), try p.int(6, default: 0)
      )
    }
    guard let mode = Mode(rawValue: type) else { throw invalid("resize_type \(type) is not supported (1 nearest, 3 bicubic)") }
    guard hs > 0, ws > 0, hs <= Self.maxScale, ws <= Self.maxScale else {
      throw invalid("scale \(hs)×\(ws) is out of range (0, \(Self.maxScale)]")
    }
    guard (0...(1 << 16)).contains(oh), (0...(1 << 16)).contains(ow) else { throw invalid("output size \(oh)×\(ow) is out of range") }
    guard dynamic == 0 else { throw invalid("dynamic_target_size is not supported") }
    guard align == 0 else { throw invalid("align_corner is not supported") }
    guard spec.bottoms.count == 1, spec.tops.count == 1 else { throw invalid("needs 1 input and 1 output") }
    self.mode = mode
    heightScale = hs
    widthScale = ws
    outputHeight = oh
    outputWidth = ow
  }

  /// Output `(height, width)` for an input of `h × w`, as ncnn computes it.
  public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
    if outputHeight != 0 && outputWidth != 0 { return (outputHeight, outputWidth) }
    return (Int(Float(h) * heightScale), Int(Float(w) * widthScale))
  }

  /// The source step per destination pixel for nearest sampling: `1 / scale`, or `in / out` for an
  /// explicit output size (ncnn's `hs` / `ws`).
  public func nearestSteps(height h: Int, width w: Int) -> (y: Float, x: Float) {
    if outputHeight != 0 && outputWidth != 0 { return (Float(h) / Float(outputHeight), Float(w) / Float(outputWidth)) }
    return (1 / heightScale, 1 / widthScale)
  }
}
