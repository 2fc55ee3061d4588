import SDTensor

/// diffusers `AdaGroupNorm` (act_fn None): GroupNorm without affine parameters, then
/// `x·(1 + scale) + shift` with `(scale, shift)` = `linear(emb)` split in halves per sample. The
/// K-diffusion blocks' only normalisation; `activation` fuses the non-linearity that follows it
/// in `ResnetBlockCondNorm2D`.
struct AdaGroupNorm: Sendable {
  let linear: Linear
  let channels: Int
  let groups: Int
  let eps: Float

  init(_ w: WeightScope, embedDim: Int, channels: Int, groups: Int, eps: Float) throws {
    linear = try Linear(w("linear"), in: embedDim, out: 2 * channels)
    self.channels = channels
    self.groups = groups
    self.eps = eps
  }

  /// `x` `[N, C, H, W]`, `emb` `[N, embedDim]` → `[N, C, H, W]`.
  func callAsFunction(_ x: Tensor, emb: Tensor, activation: Activation? = nil) -> Tensor {
    let (n, c) = (x.dim(0), x.dim(1))
    precondition(c == channels && emb.dim(0) == n, "AdaGroupNorm: x \(x.shape), emb \(emb.shape), \(channels) channels")
    let modulation = linear(emb)  // [N, 2C]: scale ‖ shift
    var y = x.groupNorm(groups: groups, weight: nil, bias: nil, eps: eps)
    let plane = x.count / (n * c)
    y.withUnsafeMutableBufferPointer { out in
      modulation.withUnsafeBufferPointer { m in
        let base = out.baseAddress!, mod = m.baseAddress!
        Threading.parallelFor(n * c, grain: 4) { range in
          for nc in range {
            let (b, ch) = (nc / c, nc % c)
            let scale = 1 + mod[b * 2 * c + ch], shift = mod[b * 2 * c + c + ch]
            let row = base + nc * plane
            if let activation {
              for i in 0..<plane { row[i] = activation(row[i] * scale + shift) }
            } else {
              for i in 0..<plane { row[i] = row[i] * scale + shift }
            }
          }
        }
      }
    }
    return y
  }
}
