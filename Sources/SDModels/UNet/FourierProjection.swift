import Foundation
import SDTensor

/// diffusers `GaussianFourierProjection(set_W_to_weight=False, log=False)`, the latent upscaler's
/// time features: `[cos(2π·t·w), sin(2π·t·w)]` (sin first without `flip_sin_to_cos`) for a fixed
/// random frequency vector `w` (`time_proj.weight`). The product is taken in PyTorch's order,
/// `((t·w)·2)·π`, in Float.
struct FourierProjection: Sendable {
  let weight: Tensor
  let flipSinToCos: Bool

  init(_ w: WeightScope, size: Int, flipSinToCos: Bool) throws {
    weight = try w.tensor("weight", shape: [size])
    self.flipSinToCos = flipSinToCos
  }

  /// `timesteps` `[B]` → `[B, 2·size]`.
  func callAsFunction(_ timesteps: [Float]) -> Tensor {
    let size = weight.count, pi = Float.pi
    return Tensor(shape: [timesteps.count, 2 * size]) { out in
      weight.withUnsafeBufferPointer { w in
        for (b, t) in timesteps.enumerated() {
          let row = out.baseAddress! + b * 2 * size
          for i in 0..<size {
            let arg = t * w[i] * 2 * pi
            (row[i], row[size + i]) = flipSinToCos ? (cosf(arg), sinf(arg)) : (sinf(arg), cosf(arg))
          }
        }
      }
    }
  }
}
