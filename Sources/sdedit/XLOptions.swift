import ArgumentParser
import SDPipeline

/// SDXL's micro-conditioning (diffusers' `original_size`, `crops_coords_top_left`,
/// `target_size`); other models ignore it.
struct MicroConditioningOptions: ParsableArguments {
  @Option(help: "SDXL: the original_size the model is told, WxH (default: the image's size).")
  var originalSize: ImageSize?

  @Option(help: "SDXL: crops_coords_top_left, X,Y (default 0,0).")
  var cropTopLeft: ImagePoint?

  @Option(help: "SDXL: the target_size the model is told, WxH (default: the image's size).")
  var targetSize: ImageSize?

  func apply(to options: inout GenerationOptions) {
    options.originalSize = originalSize
    options.targetSize = targetSize
    if let cropTopLeft { options.cropTopLeft = cropTopLeft }
  }
}

/// `--refiner PATH --refiner-start F`: SDXL's ensemble of expert denoisers.
struct RefinerOptions: ParsableArguments {
  @Option(help: "SDXL: a refiner (stabilityai/stable-diffusion-xl-refiner-1.0 folder or single file) that finishes the denoising.")
  var refiner: String?

  @Option(help: "SDXL with --refiner: the fraction of the denoising the base model does (diffusers' denoising_end/denoising_start).")
  var refinerStart: Double = 0.8

  func validate() throws {
    guard refinerStart > 0, refinerStart < 1 else { throw ValidationError("--refiner-start must be between 0 and 1 (got \(refinerStart)).") }
  }
}

extension ImageSize: ExpressibleByArgument {
  /// `WxH`, e.g. `1024x768`.
  public init?(argument: String) {
    let parts = argument.lowercased().split(separator: "x", omittingEmptySubsequences: false)
    guard parts.count == 2, let w = Int(parts[0]), let h = Int(parts[1]), w > 0, h > 0, w <= 1 << 16, h <= 1 << 16 else { return nil }
    self.init(width: w, height: h)
  }
}

extension ImagePoint: ExpressibleByArgument {
  /// `X,Y`, e.g. `0,256`.
  public init?(argument: String) {
    let parts = argument.split(separator: ",", omittingEmptySubsequences: false)
    guard parts.count == 2, let x = Int(parts[0]), let y = Int(parts[1]), x >= 0, y >= 0, x <= 1 << 16, y <= 1 << 16 else { return nil }
    self.init(x: x, y: y)
  }
}
