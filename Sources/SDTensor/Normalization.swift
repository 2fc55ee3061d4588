import CKernels
import Foundation

/// GroupNorm and LayerNorm, as `torch.nn.GroupNorm` / `torch.nn.LayerNorm` compute them
/// (biased variance, eps inside the square root). Statistics: `ck_mean_variance`
/// (Sources/CKernels/Normalization.c), float vector sums per block totalled in double.
extension Tensor {
  /// GroupNorm over an NCHW (or [N, C, L]) tensor, with per-channel affine `weight`/`bias`,
  /// optionally followed by a fused activation (GroupNorm → SiLU is the ResBlock pattern).
  public func groupNorm(
    groups: Int, weight: Tensor?, bias: Tensor?, eps: Float, activation: Activation? = nil
  ) -> Tensor {
    Profiler.measure("groupNorm") {
      let (scale, shift) = groupNormCoefficients(groups: groups, weight: weight, bias: bias, eps: eps)
      return channelAffine(scale: scale, shift: shift, activation: activation)
    }
  }

  /// `activation(x[n, c]·scale[n·C + c] + shift[n·C + c])` for every (sample, channel) plane of an
  /// NCHW (or [N, C, L]) tensor: GroupNorm's second pass, vectorised for no activation and SiLU.
  func channelAffine(scale: [Float], shift: [Float], activation: Activation?) -> Tensor {
    let plane = shape[2...].reduce(1, *)
    precondition(scale.count == shape[0] * shape[1] && shift.count == scale.count, "channelAffine: \(scale.count) for \(shape)")
    return Tensor(shape: shape) { out in
      withUnsafeBufferPointer { src in
        let outBase = out.baseAddress!, srcBase = src.baseAddress!
        Threading.parallelFor(scale.count, grain: 8) { range in
          for nc in range {
            let xi = srcBase + nc * plane, yo = outBase + nc * plane
            switch activation {
            case nil: ck_scale_shift_activation(xi, yo, plane, scale[nc], shift[nc], 0)
            case .silu: ck_scale_shift_activation(xi, yo, plane, scale[nc], shift[nc], 1)
            case let activation?: for i in 0..<plane { yo[i] = activation(xi[i] * scale[nc] + shift[nc]) }
            }
          }
        }
      }
    }
  }

  /// GroupNorm as an affine map per (sample, channel): `groupNorm(x)[n, c] = x[n, c]·scale[n·C + c]
  /// + shift[n·C + c]`, computed exactly as `groupNorm` applies it (so a convolution can apply it
  /// while packing its input, `conv2d(…, normalized:)`).
  public func groupNormCoefficients(
    groups: Int, weight: Tensor?, bias: Tensor?, eps: Float
  ) -> (scale: [Float], shift: [Float]) {
    let n = shape[0], channels = shape[1]
    precondition(channels % groups == 0, "groupNorm: \(channels) channels in \(groups) groups")
    let plane = shape[2...].reduce(1, *)
    let perGroup = channels / groups
    let groupSize = perGroup * plane
    var scale = [Float](repeating: 0, count: n * channels), shift = scale
    let gamma = weight?.data, beta = bias?.data
    withUnsafeBufferPointer { src in
      scale.withUnsafeMutableBufferPointer { scales in
        shift.withUnsafeMutableBufferPointer { shifts in
          Threading.parallelFor(n * groups) { range in
            for ng in range {
              var mean = 0.0, variance = 0.0
              ck_mean_variance(src.baseAddress! + ng * groupSize, groupSize, &mean, &variance)
              let invStd = Float(1 / (variance + Double(eps)).squareRoot())
              let meanF = Float(mean)
              let (sample, g) = ng.quotientAndRemainder(dividingBy: groups)
              for c in 0..<perGroup {
                let channel = g * perGroup + c
                let s = invStd * (gamma?[channel] ?? 1)
                scales[sample * channels + channel] = s
                shifts[sample * channels + channel] = (beta?[channel] ?? 0) - meanF * s
              }
            }
          }
        }
      }
    }
    return (scale, shift)
  }

  /// LayerNorm over the last dimension.
  public func layerNorm(weight: Tensor?, bias: Tensor?, eps: Float) -> Tensor {
    let features = dim(-1)
    let rows = count / max(features, 1)
    return Profiler.measure("layerNorm") { Tensor(shape: shape) { out in
      withUnsafeBufferPointer { src in
        let gamma = weight?.data, beta = bias?.data
        let outBase = out.baseAddress!, srcBase = src.baseAddress!
        Threading.parallelFor(rows, grain: 16) { range in
          for r in range {
            let x = srcBase + r * features, y = outBase + r * features
            var mean = 0.0, variance = 0.0
            ck_mean_variance(x, features, &mean, &variance)
            let invStd = Float(1 / (variance + Double(eps)).squareRoot())
            let meanF = Float(mean)
            for i in 0..<features {
              y[i] = (x[i] - meanF) * invStd * (gamma?[i] ?? 1) + (beta?[i] ?? 0)
            }
          }
        }
      }
    } }
  }
}
