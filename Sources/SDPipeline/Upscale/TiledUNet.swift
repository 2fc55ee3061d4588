import SDModels
import SDTensor

/// One denoiser evaluation of an upscaler's UNet over the full-size latents, window by window
/// (`DiffusionTiling`): each window of the model input gets its conditioning channels
/// concatenated, is batched for classifier-free guidance (`[uncond, cond]`, as `context` is) and
/// runs through the UNet; the raw outputs are blended. Guidance and any x₀ conversion are left to
/// the caller, on the blended prediction, in diffusers' order.
struct TiledUNet {
  let unet: UNet
  /// `[B, S, D]` text states, B = 2 with guidance.
  let context: Tensor
  let tiling: DiffusionTiling
  /// Per batch row (the x4 upscaler's noise level).
  var classLabels: [Int]? = nil
  /// `[B, P]` (the latent upscaler's noise-level embedding ⊕ pooled text).
  var timestepCondition: Tensor? = nil

  /// `input` `[1, C, h, w]` (already `scale_model_input`-ed), `extra` `[1, E, h, w]` →
  /// `[B, outChannels, h, w]`.
  func callAsFunction(_ input: Tensor, extra: Tensor?, timestep: Float) -> Tensor {
    let batch = context.dim(0)
    return tiling.blend(height: input.dim(2), width: input.dim(3)) { rows, cols in
      var parts = [input.window(rows, cols)]
      if let extra { parts.append(extra.window(rows, cols)) }
      var x = parts.count == 1 ? parts[0] : Tensor.concat(parts, axis: 1)  // [1, C + E, th, tw]
      if batch > 1 { x = Tensor.concat([Tensor](repeating: x, count: batch), axis: 0) }  // [B, C + E, th, tw]
      return unet(x, timesteps: [timestep], context: context, classLabels: classLabels, timestepCondition: timestepCondition)
    }
  }
}
