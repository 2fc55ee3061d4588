import SDModels

/// What one generation asks for: the settings shared by txt2img, img2img, inpaint and the
/// diffusion upscalers. Defaults follow diffusers' pipelines except `stepCount` (20, as
/// stable-diffusion.cpp and AUTOMATIC1111 default to, instead of diffusers' 50).
public struct GenerationOptions: Sendable {
  public var prompt: String
  public var negativePrompt: String = ""
  /// Whether a negative prompt was given at all (diffusers' `negative_prompt` not None): SDXL
  /// models with `force_zeros_for_empty_prompt` use zeros when it was not. SD 1.x/2.x encode "".
  public var negativePromptGiven = false
  public var width: Int = 512
  public var height: Int = 512
  public var stepCount: Int = 20
  /// Classifier-free guidance scale; guidance is applied when > 1 (diffusers' rule).
  public var guidanceScale: Float = 7.5
  /// nil: the model's own scheduler class (as diffusers does).
  public var sampler: SamplerKind?
  public var karras: Bool = false
  /// Overrides the scheduler config's `timestep_spacing` (SD-Turbo needs trailing).
  public var spacing: TimestepSpacing?
  /// The pipelines' `eta`: DDIM's η and TCD's γ; nil: the sampler's default (0, 0.3).
  public var eta: Double?
  public var seed: UInt64 = 0
  /// diffusers' `clip_skip` (0 = the text encoder's last layer; A1111's "Clip skip 2" is 1).
  public var clipSkip: Int = 0
  /// Encode prompts over 75 tokens in 75-token chunks (AUTOMATIC1111) instead of truncating.
  public var longPrompt: Bool = false
  /// `.a1111`: read AUTOMATIC1111's `(emphasis:1.2)` syntax (`PromptWeighting`); `.none`: literal text.
  public var promptWeighting: PromptWeighting = .none
  /// img2img / inpaint: how much of the schedule to run (1 = from pure noise).
  public var strength: Float = 1

  public init(prompt: String) {
    self.prompt = prompt
  }

  public var usesGuidance: Bool { guidanceScale > 1 }

  /// The largest width or height accepted (a 4096² image needs ~12 GB of activations in the VAE).
  public static let maxSide = 4096

  // MARK: - SDXL micro-conditioning (diffusers' original_size, crops_coords_top_left, target_size)

  /// nil: the image's size.
  public var originalSize: ImageSize?
  public var cropTopLeft = ImagePoint(x: 0, y: 0)
  /// nil: the image's size.
  public var targetSize: ImageSize?
  /// The refiner's `aesthetic_score` and `negative_aesthetic_score` (diffusers' defaults).
  public var aestheticScore: Float = 6
  public var negativeAestheticScore: Float = 2.5
}

/// A width and height in pixels.
public struct ImageSize: Sendable, Hashable {
  public var width: Int
  public var height: Int
  public init(width: Int, height: Int) { (self.width, self.height) = (width, height) }
}

/// A pixel position: x from the left, y from the top.
public struct ImagePoint: Sendable, Hashable {
  public var x: Int
  public var y: Int
  public init(x: Int, y: Int) { (self.x, self.y) = (x, y) }
}
