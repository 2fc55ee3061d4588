/// Element-wise arithmetic. Binary operators need equal shapes; per-channel and per-feature
/// broadcasts have their own named methods, so no implicit broadcasting hides a shape bug.
extension Tensor {
  @inlinable
  func zipped(_ other: Tensor, _ op: (Float, Float) -> Float) -> Tensor {
    precondition(shape == other.shape, "element-wise op: shapes \(shape) and \(other.shape) differ")
    return Profiler.measure("elementwise") { Tensor(shape: shape) { out in
      withUnsafeBufferPointer { a in
        other.withUnsafeBufferPointer { b in
          Threading.parallelFor(out.count, grain: 1 << 16) { range in
            for i in range { out[i] = op(a[i], b[i]) }
          }
        }
      }
    } }
  }

  /// Applies `op` to every element.
  @inlinable
  public func map(_ op: (Float) -> Float) -> Tensor {
    Profiler.measure("elementwise") { Tensor(shape: shape) { out in
      withUnsafeBufferPointer { a in
        Threading.parallelFor(out.count, grain: 1 << 16) { range in
          for i in range { out[i] = op(a[i]) }
        }
      }
    } }
  }

  public static func + (a: Tensor, b: Tensor) -> Tensor { a.zipped(b, +) }
  public static func - (a: Tensor, b: Tensor) -> Tensor { a.zipped(b, -) }
  public static func * (a: Tensor, b: Tensor) -> Tensor { a.zipped(b, *) }
  public static func * (a: Tensor, s: Float) -> Tensor { a.map { $0 * s } }
  public static func * (s: Float, a: Tensor) -> Tensor { a.map { $0 * s } }
  public static func + (a: Tensor, s: Float) -> Tensor { a.map { $0 + s } }
  public static func / (a: Tensor, s: Float) -> Tensor { a.map { $0 / s } }

  public static func += (a: inout Tensor, b: Tensor) {
    precondition(a.shape == b.shape, "+=: shapes \(a.shape) and \(b.shape) differ")
    Profiler.measure("elementwise") {
      a.withUnsafeMutableBufferPointer { x in
        b.withUnsafeBufferPointer { y in
          Threading.parallelFor(x.count, grain: 1 << 16) { range in
            for i in range { x[i] += y[i] }
          }
        }
      }
    }
  }

  public static func *= (a: inout Tensor, s: Float) {
    a.withUnsafeMutableBufferPointer { x in
      for i in 0..<x.count { x[i] *= s }
    }
  }

  /// `a·self + b·other`, the blend used by samplers and guidance.
  public func scaledSum(_ a: Float, _ other: Tensor, _ b: Float) -> Tensor {
    zipped(other) { a * $0 + b * $1 }
  }

  /// Adds `bias[c]` to every element of channel `c` of an NCHW (or [N, C, L]) tensor.
  public mutating func addChannelBias(_ bias: Tensor) {
    precondition(rank >= 2 && bias.count == shape[1], "addChannelBias: \(bias.shape) for \(shape)")
    let channels = shape[1]
    let plane = shape[2...].reduce(1, *)
    let planes = shape[0] * channels
    withUnsafeMutableBufferPointer { x in
      bias.withUnsafeBufferPointer { b in
        let base = x.baseAddress!
        Threading.parallelFor(planes, grain: 8) { range in
          for p in range {
            let v = b[p % channels]
            let row = base + p * plane
            for i in 0..<plane { row[i] += v }
          }
        }
      }
    }
  }

  /// Adds `bias[j]` along the last dimension (`[..., features] + [features]`).
  public mutating func addRowBias(_ bias: Tensor) {
    let features = dim(-1)
    precondition(bias.count == features, "addRowBias: \(bias.shape) for \(shape)")
    let rows = count / max(features, 1)
    withUnsafeMutableBufferPointer { x in
      bias.withUnsafeBufferPointer { b in
        let base = x.baseAddress!
        Threading.parallelFor(rows, grain: 64) { range in
          for r in range {
            let row = base + r * features
            for j in 0..<features { row[j] += b[j] }
          }
        }
      }
    }
  }

  /// Multiplies every element of channel `c` (dimension 1) by `scale[c]`.
  public func scaledPerChannel(_ scale: [Float]) -> Tensor {
    precondition(rank >= 2 && scale.count == shape[1], "scaledPerChannel: \(scale.count) for \(shape)")
    let channels = shape[1], plane = shape[2...].reduce(1, *)
    return Tensor(shape: shape) { out in
      withUnsafeBufferPointer { x in
        for p in 0..<(shape[0] * channels) {
          let s = scale[p % channels]
          for i in 0..<plane { out[p * plane + i] = x[p * plane + i] * s }
        }
      }
    }
  }
}
