import Foundation
import SDTensor

/// diffusers `get_timestep_embedding` + `TimestepEmbedding` (linear → act → linear → optional
/// post-act, with an optional bias-free `cond_proj` of `timestep_cond` added to the input features
/// first). `act` is SiLU for SD; the latent upscaler uses GELU for both and Fourier features.
struct TimestepEmbedding: Sendable {
  let channels: Int
  let flipSinToCos: Bool
  let freqShift: Float
  let condProj: Linear?
  let linear1: Linear, linear2: Linear
  let activation: Activation
  let postActivation: Activation?

  init(
    _ w: WeightScope, channels: Int, embedDim: Int, flipSinToCos: Bool, freqShift: Float, condProjDim: Int?,
    activation: Activation = .silu, postActivation: Activation? = nil
  ) throws {
    self.channels = channels
    self.flipSinToCos = flipSinToCos
    self.freqShift = freqShift
    self.activation = activation
    self.postActivation = postActivation
    condProj = try condProjDim.map { try Linear(w("cond_proj"), in: $0, out: channels, bias: false) }
    linear1 = try Linear(w("linear_1"), in: channels, out: embedDim)
    linear2 = try Linear(w("linear_2"), in: embedDim, out: embedDim)
  }

  /// Sinusoidal features of `timesteps` (fractional values allowed), computed in Float as
  /// PyTorch does: `exp(-ln(10000)·i/(half−shift))·t`, then [sin, cos] (or [cos, sin]).
  static func sinusoid(_ timesteps: [Float], channels: Int, flipSinToCos: Bool, freqShift: Float) -> Tensor {
    let half = channels / 2
    let frequencies = (0..<half).map { i -> Float in
      let exponent = -Float(log(10000.0)) * Float(i) / (Float(half) - freqShift)
      return expf(exponent)
    }
    return Tensor(shape: [timesteps.count, channels]) { out in
      for (b, t) in timesteps.enumerated() {
        let row = out.baseAddress! + b * channels
        for i in 0..<half {
          let arg = t * frequencies[i]
          let (first, second) = flipSinToCos ? (cosf(arg), sinf(arg)) : (sinf(arg), cosf(arg))
          row[i] = first
          row[half + i] = second
        }
        if channels % 2 == 1 { row[channels - 1] = 0 }
      }
    }
  }

  /// `timesteps` `[B]` → `[B, embedDim]`.
  func callAsFunction(_ timesteps: [Float], condition: Tensor? = nil) -> Tensor {
    embed(Self.sinusoid(timesteps, channels: channels, flipSinToCos: flipSinToCos, freqShift: freqShift), condition: condition)
  }

  /// Time features `[B, channels]` (sinusoidal or Fourier) → `[B, embedDim]`.
  func embed(_ features: Tensor, condition: Tensor? = nil) -> Tensor {
    var x = features
    if let condProj, let condition { x += condProj(condition) }
    var h = linear1(x)  // [B, embedDim]
    h.apply(activation)
    h = linear2(h)
    if let postActivation { h.apply(postActivation) }
    return h
  }
}
