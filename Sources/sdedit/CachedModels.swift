import SDPipeline
import SDTensor

/// The models the commands load besides `ModelOptions.load` (the Stable Diffusion bundle), each
/// through the process-wide `ModelCache`, keyed by path and the precision its layers are packed
/// for: loaded once per process, so `sdedit batch` reuses them across jobs.
enum CachedModels {
  /// A Hugging Face CLIP folder (`rank`, `txt2img --rank`).
  static func ranker(folder: String) throws -> CLIPRanker {
    try ModelCache.shared.value(kind: "CLIP", path: folder, options: Precision.current) { try CLIPRanker(folder: folder) }
  }

  /// A Real-ESRGAN ncnn `.param` file (its `.bin` beside it).
  static func realESRGAN(paramPath: String) throws -> RealESRGANModel {
    try ModelCache.shared.value(kind: "Real-ESRGAN", path: paramPath, options: Precision.current) {
      try RealESRGANModel.load(paramPath: paramPath)
    }
  }
}
