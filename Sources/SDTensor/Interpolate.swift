/// Resampling of NCHW feature maps.
extension Tensor {
  /// Nearest-neighbour 2× upsampling (`F.interpolate(scale_factor=2, mode="nearest")`).
  public func upsampledNearest2x() -> Tensor {
    resizedNearest(height: dim(2) * 2, width: dim(3) * 2)
  }

  /// Nearest-neighbour resize as `F.interpolate(size=(h, w), mode="nearest")`:
  /// source index = floor(dst · in / out).
  public func resizedNearest(height outH: Int, width outW: Int) -> Tensor {
    precondition(rank == 4, "resizedNearest: expects NCHW, got \(shape)")
    let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
    let scaleY = Double(h) / Double(outH), scaleX = Double(w) / Double(outW)
    let xs = (0..<outW).map { Swift.min(Int((Double($0) * scaleX).rounded(.down)), w - 1) }
    return Tensor(shape: [shape[0], shape[1], outH, outW]) { out in
      withUnsafeBufferPointer { src in
        let s = src.baseAddress!, o = out.baseAddress!
        Threading.parallelFor(planes) { range in
          for p in range {
            for oy in 0..<outH {
              let iy = Swift.min(Int((Double(oy) * scaleY).rounded(.down)), h - 1)
              let srcRow = s + p * h * w + iy * w
              let dstRow = o + p * outH * outW + oy * outW
              for ox in 0..<outW { dstRow[ox] = srcRow[xs[ox]] }
            }
          }
        }
      }
    }
  }
}
