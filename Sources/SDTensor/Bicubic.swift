import Foundation

/// Bicubic resampling of NCHW feature maps with half-pixel centres, the Keys kernel with
/// a = −0.75 and edge pixels replicated, no antialiasing.
///
/// Reproduces ncnn's Interp layer, resize_type 3 (Tencent/ncnn src/layer/interp.cpp:
/// `cubic_coeffs`, `interpolate_cubic`, a horizontal pass then a vertical pass, in float; its
/// border folding of the weights is the same as clamping the tap indices), which is also
/// OpenCV's INTER_CUBIC and `torch.nn.functional.interpolate(mode="bicubic", align_corners=False)`
/// up to float rounding of the source coordinate.
extension Tensor {
  public func resizedBicubic(height outH: Int, width outW: Int) -> Tensor {
    resizedBicubic(height: outH, width: outW, rows: 0..<outH)
  }

  /// Only the output rows `rows` of `resizedBicubic(height:width:)` (`[N, C, rows.count, outW]`),
  /// the same values, computed from the source rows they need; for resizing large planes in bands.
  public func resizedBicubic(height outH: Int, width outW: Int, rows: Range<Int>) -> Tensor {
    precondition(rank == 4 && outH > 0 && outW > 0, "resizedBicubic: \(shape) → \(outH)×\(outW)")
    precondition(rows.lowerBound >= 0 && rows.upperBound <= outH, "resizedBicubic: rows \(rows) of \(outH)")
    let (planes, h, w) = (shape[0] * shape[1], shape[2], shape[3])
    let xTaps = BicubicTaps(source: w, destination: outW)
    let yTaps = BicubicTaps(source: h, destination: outH)
    let taps = yTaps.index[(4 * rows.lowerBound)..<(4 * rows.upperBound)]
    let needed = (taps.min() ?? 0)..<((taps.max() ?? -1) + 1)  // source rows the output rows read
    return Tensor(shape: [shape[0], shape[1], rows.count, outW]) { out in
      withUnsafeBufferPointer { src in
        let s = src.baseAddress!, o = out.baseAddress!
        Threading.parallelFor(planes) { range in
          let buffer = UnsafeMutablePointer<Float>.allocate(capacity: Swift.max(1, needed.count * outW))
          defer { buffer.deallocate() }
          let tmp = buffer - needed.lowerBound * outW  // row y of the horizontal pass at tmp + y·outW
          for p in range {
            let plane = s + p * h * w
            for y in needed {  // horizontal pass  [needed, outW]
              let line = plane + y * w, dst = tmp + y * outW
              for x in 0..<outW {
                let t = 4 * x, i = xTaps.index, a = xTaps.weight
                dst[x] = line[i[t]] * a[t] + line[i[t + 1]] * a[t + 1] + line[i[t + 2]] * a[t + 2] + line[i[t + 3]] * a[t + 3]
              }
            }
            let dstPlane = o + p * rows.count * outW
            for y in rows {  // vertical pass  [rows, outW]
              let t = 4 * y, i = yTaps.index, b = yTaps.weight
              let r0 = tmp + i[t] * outW, r1 = tmp + i[t + 1] * outW
              let r2 = tmp + i[t + 2] * outW, r3 = tmp + i[t + 3] * outW
              let dst = dstPlane + (y - rows.lowerBound) * outW
              for x in 0..<outW {
                dst[x] = r0[x] * b[t] + r1[x] * b[t + 1] + r2[x] * b[t + 2] + r3[x] * b[t + 3]
              }
            }
          }
        }
      }
    }
  }
}

/// The four source indices (clamped to the edge) and weights of each destination pixel on one axis.
struct BicubicTaps {
  var index: [Int] = []
  var weight: [Float] = []

  init(source: Int, destination: Int) {
    let scale = Double(source) / Double(destination)
    index.reserveCapacity(4 * destination)
    weight.reserveCapacity(4 * destination)
    for d in 0..<destination {
      var f = Float((Double(d) + 0.5) * scale - 0.5)
      let s = Int(floorf(f))
      f -= Float(s)
      let a: Float = -0.75
      let f0 = f + 1, f1 = f, f2 = 1 - f
      let w0 = a * f0 * f0 * f0 - 5 * a * f0 * f0 + 8 * a * f0 - 4 * a
      let w1 = (a + 2) * f1 * f1 * f1 - (a + 3) * f1 * f1 + 1
      let w2 = (a + 2) * f2 * f2 * f2 - (a + 3) * f2 * f2 + 1
      let w3 = 1 - w0 - w1 - w2
      for (k, wk) in [w0, w1, w2, w3].enumerated() {
        index.append(Swift.min(Swift.max(s - 1 + k, 0), source - 1))
        weight.append(wk)
      }
    }
  }
}
