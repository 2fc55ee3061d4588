/// Nearest-neighbour resampling with an explicit source step per axis.
///
/// Reproduces ncnn's Interp layer, resize_type 1 (Tencent/ncnn src/layer/interp.cpp): destination
/// pixel `y` reads source row `min(Int(Float(y) · stepY), H − 1)`, where the step is `1 / scale`
/// for a scale factor, or `H / outH` for an explicit output size. For integer factors this is
/// `F.interpolate(mode="nearest")`.
extension Tensor {
  public func resizedNearest(height outH: Int, width outW: Int, stepY: Float, stepX: Float) -> Tensor {
    precondition(rank == 4 && outH > 0 && outW > 0, "resizedNearest: \(shape) → \(outH)×\(outW)")
    let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
    let xs = (0..<outW).map { Swift.min(Int(Float($0) * stepX), w - 1) }
    let ys = (0..<outH).map { Swift.min(Int(Float($0) * stepY), h - 1) }
    return Tensor(shape: [shape[0], shape[1], outH, outW]) { out in
      withUnsafeBufferPointer { src in
        let s = src.baseAddress!, o = out.baseAddress!
        Threading.parallelFor(planes) { range in
          for p in range {
            for oy in 0..<outH {
              let srcRow = s + p * h * w + ys[oy] * w
              let dstRow = o + p * outH * outW + oy * outW
              for ox in 0..<outW { dstRow[ox] = srcRow[xs[ox]] }
            }
          }
        }
      }
    }
  }
}
