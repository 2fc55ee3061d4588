import CKernels
import Foundation

/// Point-wise activations, in place and multi-threaded.
public enum Activation: Sendable {
  /// x·sigmoid(x) (`torch.nn.SiLU`).
  case silu
  /// Exact GELU with erf (`torch.nn.GELU()`, diffusers GEGLU, SD2's text encoder "gelu").
  case gelu
  /// GELU, tanh approximation (`approximate="tanh"`, transformers "gelu_new"/"gelu_pytorch_tanh").
  case geluTanh
  /// x·sigmoid(1.702x) (CLIP "quick_gelu", SD1's text encoder).
  case quickGELU

  @inlinable
  public func callAsFunction(_ x: Float) -> Float {
    switch self {
    case .silu: return x / (1 + expf(-x))
    case .gelu: return 0.5 * x * (1 + erff(x * 0.70710678118654752))
    case .geluTanh:
      return 0.5 * x * (1 + tanhf(0.79788456080286536 * (x + 0.044715 * x * x * x)))
    case .quickGELU: return x / (1 + expf(-1.702 * x))
    }
  }
}

extension Tensor {
  /// Applies `activation` to every element in place.
  public mutating func apply(_ activation: Activation) {
    Profiler.measure("activation") {
      withUnsafeMutableBufferPointer { x in
        let base = x.baseAddress!
        Threading.parallelFor(x.count, grain: 16384) { range in
          if activation == .gelu {
            ck_gelu(base + range.lowerBound, base + range.lowerBound, range.count)  // vectorised
          } else {
            for i in range { base[i] = activation(base[i]) }
          }
        }
      }
    }
  }

  public func applying(_ activation: Activation) -> Tensor {
    var copy = self
    copy.apply(activation)
    return copy
  }

  /// GEGLU over the last dimension, `[..., 2·inner]` → `[..., inner]`: the first half times the
  /// exact GELU of the second (diffusers' `GEGLU`: `hidden, gate = proj(x).chunk(2, -1)`).
  public func geglu() -> Tensor {
    let inner = dim(-1) / 2
    precondition(dim(-1) == 2 * inner, "geglu: last dimension \(dim(-1)) is odd")
    let rows = count / Swift.max(2 * inner, 1)
    var outShape = shape
    outShape[rank - 1] = inner
    return Profiler.measure("geglu") {
      Tensor(shape: outShape) { out in
        withUnsafeBufferPointer { src in
          let s = src.baseAddress!, d = out.baseAddress!
          Threading.parallelFor(rows, grain: 16) { range in
            ck_geglu(s + range.lowerBound * 2 * inner, d + range.lowerBound * inner, range.count, inner)
          }
        }
      }
    }
  }
}
