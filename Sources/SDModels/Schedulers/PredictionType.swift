import SDTensor

/// How a prediction of the model is parameterised (`prediction_type`).
public enum PredictionType: String, Sendable, CaseIterable {
  /// The noise ε (SD 1.x, SD 2 base, SDXL).
  case epsilon
  /// v = √ᾱ·ε − √(1−ᾱ)·x₀ (SD 2.x 768, arXiv 2202.00512).
  case vPrediction = "v_prediction"
  /// The clean sample x₀ (`sample`; Euler also accepts `original_sample`, the x2 latent upscaler).
  case sample

  /// Reads `prediction_type`; `allowed` lists the spellings the sampler accepts.
  static func read(_ config: SchedulerConfig, allowed: [String]) throws -> PredictionType {
    let name = try config.string("prediction_type", default: "epsilon", allowed: allowed)
    return name == "original_sample" ? .sample : PredictionType(rawValue: name)!
  }
}

extension PredictionType {
  /// x₀ and ε from a model output at ᾱ = `a`, in the operation order of diffusers' DDIM / LCM /
  /// TCD `step` (ε: `x0 = (x − √(1−ᾱ)·ε)/√ᾱ`; x₀: `ε = (x − √ᾱ·x0)/√(1−ᾱ)`;
  /// v: `x0 = √ᾱ·x − √(1−ᾱ)·v`, `ε = √ᾱ·v + √(1−ᾱ)·x`). Unclipped.
  func originalAndNoise(_ output: Tensor, sample: Tensor, alphaCumprod a: Float) -> (x0: Tensor, eps: Tensor) {
    let sqrtA = a.squareRoot(), sqrtBeta = (1 - a).squareRoot()
    switch self {
    case .epsilon:
      return (Elementwise.zip(sample, output) { x, e in (x - sqrtBeta * e) / sqrtA }, output)
    case .sample:
      return (output, Elementwise.zip(sample, output) { x, x0 in (x - sqrtA * x0) / sqrtBeta })
    case .vPrediction:
      return (
        Elementwise.zip(sample, output) { x, v in sqrtA * x - sqrtBeta * v },
        Elementwise.zip(sample, output) { x, v in sqrtA * v + sqrtBeta * x }
      )
    }
  }
}
