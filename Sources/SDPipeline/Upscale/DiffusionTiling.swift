import SDTensor

/// Overlapping square windows over a 2-D grid (latent or pixel units) and the seamless blend
/// of what is computed on each, for the diffusion upscalers.
///
/// Windows are `tile × tile` (the last one along an axis is moved back to end at the edge),
/// neighbours overlap by at least `overlap`, and window sides and interior offsets are multiples
/// of `multiple` (the UNet's down factor). Each window's output is weighted by a separable ramp
/// on each side that borders another window (sides on the image edge keep weight 1): 0 over the
/// outermost `margin` units, then rising linearly to 1 at `overlap` units in. The weighted sum is
/// divided by the sum of the weights, so the blend is continuous across every window edge (each
/// window normalises with its own statistics, which hard cuts would show), and a single window
/// (`tile == 0` or a grid no larger than `tile`) is exactly the untiled computation.
///
/// Memory: only one window is computed at a time, so a model's activations are those of a
/// `tile × tile` input whatever the grid size; the blend itself holds the output tensor and one
/// weight plane of the output size.
public struct DiffusionTiling: Sendable, Equatable {
  /// Window side in grid units; 0 is one window over the whole grid.
  public var tile: Int
  /// Minimum overlap of neighbouring windows, and the width of the blend ramps.
  public var overlap: Int
  /// Samples at each inner window edge that get no weight at all: a network's zero padding
  /// disturbs the outermost outputs of a window, so the ramp starts `margin` samples in
  /// (at most a quarter of the overlap, so that the neighbour always covers them).
  public var margin: Int
  public var multiple: Int
  /// Ramped blending (true) or hard cuts at the middle of each overlap (false; only for tests
  /// that show what a seam looks like).
  var ramps = true

  /// `tile` is rounded down to a multiple of `multiple` and raised to at least 4·`multiple`;
  /// `overlap` defaults to a quarter of the tile, rounded up to `multiple`.
  public init(tile: Int, overlap: Int? = nil, multiple: Int = 1) {
    precondition(tile >= 0 && multiple >= 1, "DiffusionTiling: tile \(tile), multiple \(multiple)")
    self.multiple = multiple
    self.tile = tile == 0 ? 0 : Swift.max(tile / multiple * multiple, 4 * multiple)
    let quarter = (self.tile / 4 + multiple - 1) / multiple * multiple
    self.overlap = Swift.min(Swift.max(overlap ?? quarter, multiple), Swift.max(self.tile / 2, multiple))
    margin = self.overlap / 4
  }

  /// The windows along an axis of `length` grid units, in order.
  public func windows(length: Int) -> [Range<Int>] {
    guard tile > 0, length > tile else { return [0..<length] }
    let stride = Swift.max(tile - overlap - multiple, 1)  // snapping may widen a gap by < multiple
    let count = (length - tile + stride - 1) / stride + 1
    var starts: [Int] = []
    for i in 0..<count {
      let ideal = Double(i) * Double(length - tile) / Double(count - 1)
      let start = i == count - 1 ? length - tile : Int((ideal / Double(multiple)).rounded()) * multiple
      if start != starts.last { starts.append(start) }
    }
    return starts.map { $0..<($0 + tile) }
  }

  /// Blend weights of a window's `window.count · scale` output samples along one axis.
  func weights(_ index: Int, among all: [Range<Int>], scale: Int) -> [Float] {
    let window = all[index], n = window.count * scale
    guard all.count > 1 else { return [Float](repeating: 1, count: n) }
    let rampIn = index > 0, rampOut = index < all.count - 1
    if !ramps {
      // Hard cuts: each output sample belongs to the window whose centre is nearest.
      let lo = rampIn ? (all[index - 1].upperBound + window.lowerBound) * scale / 2 - window.lowerBound * scale : 0
      let hi = rampOut ? (window.upperBound + all[index + 1].lowerBound) * scale / 2 - window.lowerBound * scale : n
      return (0..<n).map { $0 >= lo && $0 < hi ? 1 : 0 }
    }
    let skip = Float(Swift.min(margin, overlap / 4) * scale), width = Float(overlap * scale) - skip
    return (0..<n).map { u in
      var w: Float = 1
      if rampIn { w = Swift.min(w, Swift.max(0, (Float(u) + 0.5 - skip) / width)) }
      if rampOut { w = Swift.min(w, Swift.max(0, (Float(n - 1 - u) + 0.5 - skip) / width)) }
      return w
    }
  }

  /// The number of windows over a `height × width` grid.
  public func count(height: Int, width: Int) -> Int { windows(length: height).count * windows(length: width).count }

  /// Runs `body(rows, cols)` on every window of a `height × width` grid (row-major order) and
  /// blends the results, each `[N, C, rows.count·scale, cols.count·scale]`, into
  /// `[N, C, height·scale, width·scale]`.
  public func blend(
    height: Int, width: Int, scale: Int = 1, _ body: (_ rows: Range<Int>, _ cols: Range<Int>) throws -> Tensor
  ) rethrows -> Tensor {
    let rowWindows = windows(length: height), colWindows = windows(length: width)
    if rowWindows.count == 1 && colWindows.count == 1 { return try body(0..<height, 0..<width) }
    let (outH, outW) = (height * scale, width * scale)
    var output: Tensor?
    var weightSum = [Float](repeating: 0, count: outH * outW)
    for (i, rows) in rowWindows.enumerated() {
      let wy = weights(i, among: rowWindows, scale: scale)
      for (j, cols) in colWindows.enumerated() {
        let wx = weights(j, among: colWindows, scale: scale)
        let part = try body(rows, cols)  // [N, C, rows·scale, cols·scale]
        let (n, c, ph, pw) = (part.dim(0), part.dim(1), part.dim(2), part.dim(3))
        precondition(ph == wy.count && pw == wx.count, "DiffusionTiling: window output \(part.shape) for \(rows) × \(cols)")
        if output == nil { output = Tensor(zeros: [n, c, outH, outW]) }
        let (y0, x0) = (rows.lowerBound * scale, cols.lowerBound * scale)
        output!.withUnsafeMutableBufferPointer { out in
          part.withUnsafeBufferPointer { src in
            for plane in 0..<(n * c) {
              for y in 0..<ph {
                let dst = out.baseAddress! + plane * outH * outW + (y0 + y) * outW + x0
                let s = src.baseAddress! + (plane * ph + y) * pw
                for x in 0..<pw { dst[x] += s[x] * (wy[y] * wx[x]) }
              }
            }
          }
        }
        for y in 0..<ph {
          for x in 0..<pw { weightSum[(y0 + y) * outW + x0 + x] += wy[y] * wx[x] }
        }
      }
    }
    var result = output!
    result.withUnsafeMutableBufferPointer { out in
      let planes = out.count / (outH * outW)
      for plane in 0..<planes {
        for i in 0..<(outH * outW) { out[plane * outH * outW + i] /= weightSum[i] }
      }
    }
    return result
  }
}

extension Tensor {
  /// The `rows × cols` window of an NCHW tensor.
  func window(_ rows: Range<Int>, _ cols: Range<Int>) -> Tensor {
    let r = rows.count == dim(2) ? self : slice(axis: 2, rows)
    return cols.count == dim(3) ? r : r.slice(axis: 3, cols)
  }
}
