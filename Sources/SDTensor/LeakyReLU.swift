/// Rectifiers with a negative slope, in place: leaky ReLU (one slope, optionally fused with a
/// per-channel bias add) and PReLU (one slope per channel).
///
/// Reproduces `torch.nn.functional.leaky_relu` / `prelu` and ncnn's ReLU-with-slope and PReLU
/// layers (Tencent/ncnn src/layer/relu.cpp, prelu.cpp): `x > 0 ? x : x · slope`.
extension Tensor {
  /// `x > 0 ? x : x · slope` for every element.
  public mutating func applyLeakyReLU(slope: Float) {
    withUnsafeMutableBufferPointer { x in
      let base = x.baseAddress!
      Threading.parallelFor(x.count, grain: 1 << 16) { range in
        for i in range {
          let v = base[i]
          base[i] = v > 0 ? v : v * slope
        }
      }
    }
  }

  /// Adds `bias[c]` to channel `c` of an NCHW tensor and, when `leakyReLUSlope` is given, applies
  /// the leaky ReLU in the same pass (a convolution's bias and fused activation, one sweep of memory).
  public mutating func addChannelBias(_ bias: Tensor?, leakyReLUSlope: Float?) {
    precondition(rank >= 2, "addChannelBias: expects [N, C, ...], got \(shape)")
    let channels = shape[1]
    precondition(bias == nil || bias!.count == channels, "addChannelBias: \(bias!.shape) for \(shape)")
    guard bias != nil || leakyReLUSlope != nil else { return }
    let plane = shape[2...].reduce(1, *)
    let planes = shape[0] * channels
    let zeros = [Float](repeating: 0, count: channels)
    let biasValues = bias?.data ?? zeros
    withUnsafeMutableBufferPointer { x in
      biasValues.withUnsafeBufferPointer { b in
        let base = x.baseAddress!
        Threading.parallelFor(planes, grain: 4) { range in
          for p in range {
            let v0 = b[p % channels]
            let row = base + p * plane
            if let slope = leakyReLUSlope {
              for i in 0..<plane {
                let v = row[i] + v0
                row[i] = v > 0 ? v : v * slope
              }
            } else {
              for i in 0..<plane { row[i] += v0 }
            }
          }
        }
      }
    }
  }

  /// PReLU on an NCHW tensor: channel `c` uses `slopes[c]`, or `slopes[0]` for every channel when
  /// there is one slope (`torch.nn.PReLU(num_parameters=1)`).
  public mutating func applyPReLU(slopes: [Float]) {
    precondition(rank >= 2, "applyPReLU: expects [N, C, ...], got \(shape)")
    let channels = shape[1]
    precondition(slopes.count == channels || slopes.count == 1, "applyPReLU: \(slopes.count) slopes for \(shape)")
    let plane = shape[2...].reduce(1, *)
    let planes = shape[0] * channels
    withUnsafeMutableBufferPointer { x in
      slopes.withUnsafeBufferPointer { s in
        let base = x.baseAddress!
        Threading.parallelFor(planes, grain: 4) { range in
          for p in range {
            let slope = s.count == 1 ? s[0] : s[p % channels]
            let row = base + p * plane
            for i in 0..<plane {
              let v = row[i]
              row[i] = v > 0 ? v : v * slope
            }
          }
        }
      }
    }
  }
}
