import Foundation
import SDImage
import SDModels
import SDTensor

/// `sdedit bench --upscale-x4`: one `DiffusionUpscaler` run of stabilityai/stable-diffusion-x4-upscaler
/// at full size (UNet 256-512-512-1024 with 7 input channels, OpenCLIP-H text encoder, ×4 VAE)
/// with made-up weights, on a synthetic `size × size` input: wall time per phase and the
/// process's peak resident memory (`getrusage` `ru_maxrss`). Speed does not depend on the values.
public enum UpscaleBenchmark {
  public struct Report: Sendable {
    public var size = 0, steps = 0, tileSize = 0, windows = 0
    public var loadSeconds = 0.0
    /// Text encoding, noising and the first step (the progress reports cannot split them).
    public var firstStepSeconds = 0.0
    /// Median of the later steps (0 with one step).
    public var stepSeconds = 0.0
    public var decodeSeconds = 0.0
    public var totalSeconds = 0.0
    public var peakRSSBytes = 0
  }

  /// stabilityai/stable-diffusion-x4-upscaler `unet/config.json` values.
  static let x4UNet: [String: Any] = [
    "in_channels": 7, "out_channels": 4, "block_out_channels": [256, 512, 512, 1024], "layers_per_block": 2,
    "attention_head_dim": 8, "cross_attention_dim": 1024, "norm_num_groups": 32, "norm_eps": 1e-5,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
    "only_cross_attention": [true, true, true, false], "use_linear_projection": true, "num_class_embeds": 1000,
  ]

  /// stabilityai/stable-diffusion-x4-upscaler `vae/config.json` values.
  static let x4VAE: [String: Any] = [
    "block_out_channels": [128, 256, 512], "layers_per_block": 2, "latent_channels": 4, "norm_num_groups": 32,
    "scaling_factor": 0.08333,
  ]

  /// stabilityai/stable-diffusion-x4-upscaler `scheduler/scheduler_config.json`.
  static let x4Scheduler = SchedulerConfig(
    values: [
      "_class_name": "DDIMScheduler", "beta_start": 0.0001, "beta_end": 0.02, "beta_schedule": "scaled_linear",
      "num_train_timesteps": 1000, "clip_sample": false, "set_alpha_to_one": false, "steps_offset": 1,
      "prediction_type": "v_prediction",
    ], source: "x4-upscaler scheduler_config.json")

  public static func run(size: Int, steps: Int, tileSize: Int = 256, log: (String) -> Void = { _ in }) throws -> Report {
    var report = Report()
    (report.size, report.steps, report.tileSize) = (size, steps, tileSize)
    let start = ModelBenchmark.now()
    let unetStore = ModelBenchmark.randomWeights(description: "random x4 UNet")
    let textStore = ModelBenchmark.randomWeights(description: "random OpenCLIP-H")
    let vaeStore = ModelBenchmark.randomWeights(description: "random x4 VAE")
    let components = DiffusionUpscaler.Components(
      tokenizer: try CLIPTokenizer.bundled(padToken: "!"),
      textEncoder: try CLIPTextModel(WeightScope(textStore), config: .sd2),
      unet: try UNet(WeightScope(unetStore), config: UNetConfig(JSONConfig(values: x4UNet, source: "x4 UNet"))),
      vae: try AutoencoderKL(WeightScope(vaeStore), config: VAEConfig(JSONConfig(values: x4VAE, source: "x4 VAE")), loadEncoder: false),
      schedulerConfig: x4Scheduler, lowResSchedule: NoiseSchedule(.scaledLinear, betaStart: 0.0001, betaEnd: 0.02))
    report.loadSeconds = ModelBenchmark.now() - start
    log(String(format: "model ready in %.1f s", report.loadSeconds))

    // A smooth synthetic photo-like input.
    var pixels = [UInt8](repeating: 0, count: size * size * 3)
    for y in 0..<size {
      for x in 0..<size {
        for c in 0..<3 { pixels[(y * size + x) * 3 + c] = UInt8((x * 255 / max(size - 1, 1) + y * 97 + c * 60) % 256) }
      }
    }
    let image = RGBImage(width: size, height: size, pixels: pixels)
    var options = UpscaleOptions(prompt: "a photo of a cat")
    options.generation.stepCount = steps
    options.generation.seed = 1
    options.tileSize = tileSize

    var marks: [Double] = []
    var decodeStart = 0.0
    let t0 = ModelBenchmark.now()
    let result = try DiffusionUpscaler(kind: .x4, components: components).upscale(image, options: options) { progress in
      let now = ModelBenchmark.now()
      switch progress.phase {
      case .sampling:
        marks.append(now)
        log(String(format: "step %d/%d: %.2f s", progress.step, progress.stepCount, now - (marks.count > 1 ? marks[marks.count - 2] : t0)))
      case .decoding: decodeStart = now
      case .encoding: break
      }
      return true
    }
    let end = ModelBenchmark.now()
    report.windows = result.windowCount
    report.totalSeconds = end - t0
    report.firstStepSeconds = (marks.first ?? end) - t0
    let later = zip(marks.dropFirst(), marks).map { $0 - $1 }.sorted()
    report.stepSeconds = later.isEmpty ? 0 : later[later.count / 2]
    report.decodeSeconds = end - decodeStart
    report.peakRSSBytes = ModelBenchmark.peakRSSBytes()
    log(String(format: "decode to %d×%d: %.2f s", result.image.width, result.image.height, report.decodeSeconds))
    return report
  }
}
