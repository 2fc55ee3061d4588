import SDTensor

/// Classifier-free guidance: `ε = ε_uncond + scale·(ε_cond − ε_uncond)` over a `[2, …]`
/// prediction batched as `[uncond, cond]` (diffusers `StableDiffusionPipeline.__call__`).
public enum Guidance {
  public static func combine(_ batched: Tensor, scale: Float) -> Tensor {
    let halves = batched.chunked(2, axis: 0)
    let (uncond, cond) = (halves[0], halves[1])
    return uncond.scaledSum(1, cond - uncond, scale)
  }
}
