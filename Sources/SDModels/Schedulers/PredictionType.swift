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
