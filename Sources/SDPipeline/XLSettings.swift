import SDModels

/// What an SDXL pipeline adds to the SD one (diffusers 0.42.1 `StableDiffusionXLPipeline` /
/// `StableDiffusionXLImg2ImgPipeline`), read from `model_index.json` (or a single file's metadata):
/// whether an absent negative prompt becomes zeros, and whether the micro-conditioning ends with
/// an aesthetic score (the refiner) instead of the target size.
public struct XLSettings: Sendable, Equatable {
  /// `force_zeros_for_empty_prompt` (diffusers' default: true; the refiner ships false).
  public var forceZerosForEmptyPrompt: Bool
  /// `requires_aesthetics_score` (the refiner: true).
  public var requiresAestheticsScore: Bool
  /// `addition_time_embed_dim` and `projection_class_embeddings_input_dim` of the UNet.
  public var textTime: UNetConfig.TextTimeEmbedding

  /// nil when the UNet has no text-time embedding (SD 1.x/2.x).
  init?(unet: UNetConfig, pipeline: JSONConfig, source: String) throws {
    guard let textTime = unet.textTime else { return nil }
    self.textTime = textTime
    forceZerosForEmptyPrompt = try pipeline.bool("force_zeros_for_empty_prompt", default: true)
    requiresAestheticsScore = try pipeline.bool("requires_aesthetics_score", default: false)
  }

  /// `sdxl`, or `sdxl refiner` when the time ids end with an aesthetic score.
  public var variant: String { requiresAestheticsScore ? "sdxl refiner" : "sdxl" }

  /// How many micro-conditioning values the UNet takes: 6, or 5 with an aesthetic score.
  public var timeIdCount: Int { requiresAestheticsScore ? 5 : 6 }

  /// The pipeline settings of Stability's released SDXL files, for single files without metadata.
  static func defaultPipeline(refiner: Bool) -> JSONConfig {
    JSONConfig(
      values: ["force_zeros_for_empty_prompt": !refiner, "requires_aesthetics_score": refiner],
      source: refiner ? "stable-diffusion-xl-refiner-1.0 model_index.json" : "stable-diffusion-xl-base-1.0 model_index.json")
  }

  /// stabilityai/stable-diffusion-xl-base-1.0 `scheduler/scheduler_config.json` (what diffusers'
  /// `from_single_file` takes for an SDXL file).
  static func baseScheduler(source: String) -> JSONConfig {
    JSONConfig(values: [
      "_class_name": "EulerDiscreteScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
      "num_train_timesteps": 1000, "interpolation_type": "linear", "prediction_type": "epsilon", "sample_max_value": 1.0,
      "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1, "timestep_spacing": "leading",
      "use_karras_sigmas": false, "clip_sample": false,
    ], source: "\(source) (SDXL base scheduler)")
  }
}
