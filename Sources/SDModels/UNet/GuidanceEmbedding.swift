import Foundation
import SDTensor

/// The guidance-scale embedding of guidance-distilled UNets (LCM: `time_cond_proj_dim`), fed to
/// `time_embedding.cond_proj`. Matches diffusers' `get_guidance_scale_embedding` (VDM's
/// sinusoid, in float32): `w·1000` times `exp(−i·ln(10000)/(d/2 − 1))` for i < d/2, then
/// `[sin, cos]` (sine first) and a zero pad for odd d. The pipelines pass `w = guidance − 1`.
public enum GuidanceEmbedding {
  /// `[1, dim]` for one guidance weight `w`.
  public static func embedding(w: Float, dim: Int) -> Tensor {
    let half = dim / 2
    precondition(half >= 2, "GuidanceEmbedding: dimension \(dim) is too small")
    let scaled = w * 1000
    let step = logf(10000) / Float(half - 1)
    return Tensor(shape: [1, dim]) { out in
      for i in 0..<half {
        let arg = scaled * expf(Float(i) * -step)
        out[i] = sinf(arg)
        out[half + i] = cosf(arg)
      }
      if dim % 2 == 1 { out[dim - 1] = 0 }
    }
  }
}
