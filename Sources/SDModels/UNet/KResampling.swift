import SDTensor

/// diffusers `KDownsample2D` and `KUpsample2D` (pad_mode "reflect"): fixed depthwise filters
/// built from `k = [1, 3, 3, 1]/8`, applied here separably (rows, then columns), which is the
/// same 4×4 kernel `kᵀk` the reference convolves with.
/// - down: reflect-pad 1, then the 4-tap filter with stride 2: `[N, C, H, W] → [N, C, ⌊H/2⌋, ⌊W/2⌋]`;
/// - up: the transposed convolution with `2k` (stride 2, padding 3, after a reflect pad of 1),
///   i.e. `out[2p] = ¼x[p−1] + ¾x[p]`, `out[2p+1] = ¾x[p] + ¼x[p+1]` with reflected ends:
///   `[N, C, H, W] → [N, C, 2H, 2W]`.
enum KResampling {
  static let taps: [Float] = [1.0 / 8, 3.0 / 8, 3.0 / 8, 1.0 / 8]

  /// Mirror index without repeating the edge (`F.pad(mode="reflect")`), for a pad of 1.
  @inline(__always) static func reflect(_ i: Int, _ n: Int) -> Int { i < 0 ? -i : (i >= n ? 2 * n - 2 - i : i) }

  static func downsample(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.dim(0), x.dim(1), x.dim(2), x.dim(3))
    precondition(h >= 2 && w >= 2, "KDownsample2D: input \(x.shape) is too small")
    let (oh, ow) = (h / 2, w / 2)
    return Tensor(shape: [n, c, oh, ow]) { out in
      x.withUnsafeBufferPointer { src in
        let s = src.baseAddress!, d = out.baseAddress!, k = taps
        Threading.parallelFor(n * c, grain: 1) { range in
          var rows = [Float](repeating: 0, count: h * ow)  // filtered along W: [H, ow]
          for plane in range {
            let xp = s + plane * h * w
            for y in 0..<h {
              for j in 0..<ow {
                var acc: Float = 0
                for m in 0..<4 { acc += k[m] * xp[y * w + reflect(2 * j + m - 1, w)] }
                rows[y * ow + j] = acc
              }
            }
            let op = d + plane * oh * ow
            for i in 0..<oh {
              for j in 0..<ow {
                var acc: Float = 0
                for m in 0..<4 { acc += k[m] * rows[reflect(2 * i + m - 1, h) * ow + j] }
                op[i * ow + j] = acc
              }
            }
          }
        }
      }
    }
  }

  static func upsample(_ x: Tensor) -> Tensor {
    let (n, c, h, w) = (x.dim(0), x.dim(1), x.dim(2), x.dim(3))
    precondition(h >= 2 && w >= 2, "KUpsample2D: input \(x.shape) is too small")
    let (oh, ow) = (2 * h, 2 * w)
    // Output position 2p+r reads x[p−1+r] and x[p+r] with weights (¼, ¾) for r = 0 and (¾, ¼) for r = 1.
    func taps2(_ o: Int, _ n: Int) -> (Int, Float, Int, Float) {
      let p = o / 2
      return o % 2 == 0 ? (reflect(p - 1, n), 0.25, p, 0.75) : (p, 0.75, reflect(p + 1, n), 0.25)
    }
    let colTaps = (0..<ow).map { taps2($0, w) }, rowTaps = (0..<oh).map { taps2($0, h) }
    return Tensor(shape: [n, c, oh, ow]) { out in
      x.withUnsafeBufferPointer { src in
        let s = src.baseAddress!, d = out.baseAddress!
        Threading.parallelFor(n * c, grain: 1) { range in
          var rows = [Float](repeating: 0, count: h * ow)  // upsampled along W: [H, ow]
          for plane in range {
            let xp = s + plane * h * w
            for y in 0..<h {
              for (j, t) in colTaps.enumerated() { rows[y * ow + j] = t.1 * xp[y * w + t.0] + t.3 * xp[y * w + t.2] }
            }
            let op = d + plane * oh * ow
            for (i, t) in rowTaps.enumerated() {
              for j in 0..<ow { op[i * ow + j] = t.1 * rows[t.0 * ow + j] + t.3 * rows[t.2 * ow + j] }
            }
          }
        }
      }
    }
  }
}
