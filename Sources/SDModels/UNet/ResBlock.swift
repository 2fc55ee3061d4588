import SDTensor

/// diffusers `ResnetBlock2D` (time_embedding_norm "default", output_scale_factor 1):
/// GroupNorm → SiLU → conv → (+ projected time embedding) → GroupNorm → SiLU → conv, plus a
/// 1×1 `conv_shortcut` when the channel count changes. The VAE uses it without a time embedding.
public struct ResBlock: Sendable {
  let norm1: GroupNormLayer, conv1: Conv2DLayer
  let timeEmbProj: Linear?
  let norm2: GroupNormLayer, conv2: Conv2DLayer
  let shortcut: Conv2DLayer?

  init(_ w: WeightScope, in inChannels: Int, out outChannels: Int, timeEmbedDim: Int?, groups: Int, eps: Float) throws {
    norm1 = try GroupNormLayer(w("norm1"), channels: inChannels, groups: groups, eps: eps)
    conv1 = try Conv2DLayer(w("conv1"), in: inChannels, out: outChannels, kernel: 3)
    timeEmbProj = try timeEmbedDim.map { try Linear(w("time_emb_proj"), in: $0, out: outChannels) }
    norm2 = try GroupNormLayer(w("norm2"), channels: outChannels, groups: groups, eps: eps)
    conv2 = try Conv2DLayer(w("conv2"), in: outChannels, out: outChannels, kernel: 3)
    shortcut = inChannels == outChannels ? nil : try Conv2DLayer(w("conv_shortcut"), in: inChannels, out: outChannels, kernel: 1)
  }

  /// `x` `[N, in, H, W]`, `emb` `[N, timeEmbedDim]` (already the UNet's time embedding; SiLU is applied here).
  func callAsFunction(_ x: Tensor, emb: Tensor? = nil) -> Tensor {
    var h = conv1(x, normalizedBy: norm1, silu: true)  // conv1(SiLU(norm1(x))): [N, out, H, W]
    if let timeEmbProj, let emb {
      h.addPerSampleChannelBias(timeEmbProj(emb.applying(.silu)))  // + [N, out, 1, 1]
    }
    h = conv2(h, normalizedBy: norm2, silu: true)
    h += shortcut.map { $0(x) } ?? x
    return h
  }
}

extension Tensor {
  /// `self[n, c, ...] += bias[n, c]` for an NCHW tensor and a `[N, C]` bias.
  mutating func addPerSampleChannelBias(_ bias: Tensor) {
    precondition(bias.shape == [shape[0], shape[1]], "addPerSampleChannelBias: \(bias.shape) for \(shape)")
    let plane = shape[2...].reduce(1, *)
    withUnsafeMutableBufferPointer { x in
      bias.withUnsafeBufferPointer { b in
        for p in 0..<b.count {
          let row = x.baseAddress! + p * plane
          let v = b[p]
          for i in 0..<plane { row[i] += v }
        }
      }
    }
  }
}
