import Foundation
import SDModels
import SDTensor

/// `sdedit bench`: a full-size SD 1.5 model (UNet 859.5M, CLIP ViT-L/14 text encoder 123.1M,
/// VAE 83.7M parameters) with made-up weights built in memory, timed phase by phase next to a
/// 2048³ `sgemm` in the same process. FLOPs are those of the matrix products actually executed
/// (`FLOPCounter`), so the GFLOP/s figures need no model of the network.
public enum ModelBenchmark {
  /// The made-up model's shapes.
  public enum Architecture: String, Sendable, CaseIterable {
    /// SD 1.5 (and its LCM distillations).
    case sd15
    /// SD 2.1 base (SD-Turbo): OpenCLIP-H text encoder, linear projections, 64-wide heads.
    case sd21
    /// SDXL base (and Turbo): CLIP-L + OpenCLIP-bigG, three levels, transformer depths 1/2/10.
    case sdxl
  }

  public struct Settings: Sendable {
    public var size = 512
    public var steps = 2
    public var modelPath: String?
    public var architecture = Architecture.sd15
    /// > 1: classifier-free guidance (UNet batch 2 per step); otherwise one pass per step.
    public var guidance: Float = 7.5
    /// Also time madebyollin's TAESD decoder (64 channels, made-up weights).
    public var taesd = false
    /// Log the time per kind of operation (conv, attention, …) after each phase.
    public var profile = false
    public init() {}
  }

  public struct Report: Sendable {
    public var sgemmGFLOPS = 0.0
    public var loadSeconds = 0.0
    public var textEncodeSeconds = 0.0, textEncodeGFLOP = 0.0
    public var unetStepSeconds = 0.0, unetStepGFLOP = 0.0
    public var vaeDecodeSeconds = 0.0, vaeDecodeGFLOP = 0.0
    public var taesdDecodeSeconds: Double?, taesdDecodeGFLOP: Double?
    /// Text encoding + `steps` UNet steps + the decode (TAESD's when timed): one image.
    public var imageSeconds = 0.0
    public var batch = 2
    public var peakRSSBytes = 0
    public var size = 0, steps = 0
    public var precision = "fp32"
    public var model = "sd1.5 random weights"
  }

  /// runwayml/stable-diffusion-v1-5 `unet/config.json`.
  static let sd15UNet: [String: Any] = [
    "in_channels": 4, "out_channels": 4, "block_out_channels": [320, 640, 1280, 1280], "layers_per_block": 2,
    "attention_head_dim": 8, "cross_attention_dim": 768, "norm_num_groups": 32, "norm_eps": 1e-5,
    "down_block_types": ["CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D", "DownBlock2D"],
    "up_block_types": ["UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D"],
  ]

  /// stabilityai/stable-diffusion-2-1-base (and sd-turbo) `unet/config.json`.
  static let sd21UNet: [String: Any] = sd15UNet.merging([
    "attention_head_dim": [5, 10, 20, 20], "cross_attention_dim": 1024, "use_linear_projection": true,
  ]) { _, new in new }

  /// stabilityai/stable-diffusion-xl-base-1.0 `unet/config.json`.
  static let sdxlUNet: [String: Any] = [
    "in_channels": 4, "out_channels": 4, "block_out_channels": [320, 640, 1280], "layers_per_block": 2,
    "attention_head_dim": [5, 10, 20], "cross_attention_dim": 2048, "norm_num_groups": 32, "norm_eps": 1e-5,
    "use_linear_projection": true, "transformer_layers_per_block": [1, 2, 10],
    "addition_embed_type": "text_time", "addition_time_embed_dim": 256, "projection_class_embeddings_input_dim": 2816,
    "down_block_types": ["DownBlock2D", "CrossAttnDownBlock2D", "CrossAttnDownBlock2D"],
    "up_block_types": ["CrossAttnUpBlock2D", "CrossAttnUpBlock2D", "UpBlock2D"],
  ]

  /// SDXL's text_encoder_2: OpenCLIP ViT-bigG/14 as `CLIPTextModelWithProjection`.
  static let bigG = CLIPTextConfig(encoder: CLIPEncoderConfig(
    width: 1280, layers: 32, heads: 20, intermediateSize: 5120, activation: .gelu, layerNormEps: 1e-5), projectionDim: 1280)

  /// runwayml/stable-diffusion-v1-5 `vae/config.json`.
  static let sd15VAE: [String: Any] = [
    "block_out_channels": [128, 256, 512, 512], "layers_per_block": 2, "latent_channels": 4, "norm_num_groups": 32,
    "scaling_factor": 0.18215,
  ]

  /// Deterministic made-up weights, scaled like PyTorch's default initialisation so activations
  /// stay finite: uniform in ±1/√fan_in; LayerNorm/GroupNorm scales near 1.
  static func randomWeights(description: String) -> WeightStore {
    let store = WeightStore(synthesizing: { key, shape in
      let count = shape.reduce(1, *)
      let fanIn = shape.count > 1 ? shape.dropFirst().reduce(1, *) : 1
      let isScale = shape.count == 1 && key.hasSuffix(".weight")
      let bound: Float = shape.count > 1 ? 1 / Float(fanIn).squareRoot() : 0.02
      var seed = UInt64(truncatingIfNeeded: key.hashValue) | 1
      return Tensor(shape: shape) { out in
        let base = out.baseAddress!
        let chunks = max(1, min(64, count / 65536))
        let seeds = (0..<chunks).map { _ -> UInt64 in seed = seed &* 6364136223846793005 &+ 1442695040888963407; return seed }
        Threading.parallelFor(chunks) { range in
          for c in range {
            var state = seeds[c]
            for i in (count * c / chunks)..<(count * (c + 1) / chunks) {
              state = state &* 6364136223846793005 &+ 1442695040888963407
              let u = Float(state >> 40) / Float(1 << 24) * 2 - 1  // uniform in [−1, 1)
              base[i] = isScale ? 1 + 0.02 * u : bound * u
            }
          }
        }
      }
    }, description: description)
    store.precision = Precision.current
    return store
  }

  static func now() -> Double { Double(DispatchTime.now().uptimeNanoseconds) / 1e9 }

  static func timed(_ body: () throws -> Void) rethrows -> (seconds: Double, gflop: Double) {
    let flops = FLOPCounter.count, start = now()
    try body()
    return (now() - start, Double(FLOPCounter.count - flops) / 1e9)
  }

  public static func peakRSSBytes() -> Int {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return usage.ru_maxrss * 1024
  }

  /// Logs the profiler's sections for one phase, divided by `runs`, next to the phase's time.
  static func logProfile(_ phase: String, seconds: Double, runs: Int, log: (String) -> Void) {
    var lines = ["  \(phase) by operation (per run, inclusive; softmax is inside attention):"]
    for section in Profiler.report() {
      let s = section.seconds / Double(runs)
      lines.append("    " + section.name.padding(toLength: 12, withPad: " ", startingAt: 0) + String(format: " %7.3f s  %5.1f %%  %6d calls", s, 100 * s / seconds, section.calls / runs))
    }
    log(lines.joined(separator: "\n"))
    Profiler.reset()
  }

  public static func run(_ settings: Settings, log: (String) -> Void = { _ in }) throws -> Report {
    var report = Report()
    report.precision = Precision.current.rawValue
    report.size = settings.size
    report.steps = settings.steps

    // Same-run sgemm rate: the yardstick for every ratio.
    let n = 2048
    let a = [Float](repeating: 0.5, count: n * n), b = [Float](repeating: 0.25, count: n * n)
    var c = [Float](repeating: 0, count: n * n)
    var best = Double.infinity
    for _ in 0..<3 {
      let t = timed { GEMM.sgemm(m: n, n: n, k: n, a: a, lda: n, b: b, ldb: n, c: &c, ldc: n) }
      best = min(best, t.seconds)
    }
    report.sgemmGFLOPS = 2 * Double(n * n * n) / 1e9 / best
    log(String(format: "sgemm 2048³: %.1f GFLOP/s", report.sgemmGFLOPS))

    // The model: a real checkpoint, or SD 1.5 shapes with made-up weights.
    let start = now()
    let textEncoders: [CLIPTextModel], unet: UNet, vae: any LatentAutoencoder
    if let path = settings.modelPath {
      let bundle = try ModelBundle.load(path)
      (textEncoders, unet, vae) = (bundle.textTowers.map(\.encoder), bundle.unet, bundle.autoencoder)
      report.model = bundle.name
    } else {
      let arch = settings.architecture
      report.model = "\(arch == .sd15 ? "sd1.5" : arch == .sd21 ? "sd2.1" : "sdxl") random weights"
      func text(_ config: CLIPTextConfig, projection: Bool = false) throws -> CLIPTextModel {
        try CLIPTextModel(WeightScope(randomWeights(description: "random CLIP")), config: config, withProjection: projection)
      }
      textEncoders = try arch == .sd15 ? [text(.sd1)] : arch == .sd21 ? [text(.sd2)] : [text(.sd1), text(Self.bigG, projection: true)]
      let unetValues = arch == .sd15 ? sd15UNet : arch == .sd21 ? sd21UNet : sdxlUNet
      unet = try UNet(
        WeightScope(randomWeights(description: "random UNet")),
        config: UNetConfig(JSONConfig(values: unetValues, source: "\(arch.rawValue) UNet")))
      vae = try AutoencoderKL(
        WeightScope(randomWeights(description: "random VAE")),
        config: VAEConfig(JSONConfig(values: sd15VAE, source: "SD 1.5 VAE")), loadEncoder: false)
    }
    report.loadSeconds = now() - start
    log(String(format: "model ready in %.1f s", report.loadSeconds))

    // Text: cond and uncond (cond only without guidance), 77 tokens each.
    let guides = settings.guidance > 1
    report.batch = guides ? 2 : 1
    let ids = [[49406] + [Int](repeating: 320, count: 20) + [Int](repeating: 49407, count: 56),
               [49406] + [Int](repeating: 49407, count: 76)].prefix(report.batch).map { $0 }
    var context = Tensor(zeros: [1]), added: AddedConditions?
    let text = timed {
      guard unet.config.textTime != nil else { return context = textEncoders[0](ids).lastHiddenState }
      // SDXL: both encoders' hidden_states[-2], the pooled projection, six time ids.
      var states: [Tensor] = [], pooled = Tensor(zeros: [1])
      for encoder in textEncoders {
        let out = encoder(ids)
        states.append(out.hiddenStates[out.hiddenStates.count - 2])
        if let embeds = encoder.textEmbeds(out) { pooled = embeds }
      }
      context = Tensor.concat(states, axis: 2)
      let size = Float(settings.size)
      added = AddedConditions(
        textEmbeds: pooled,
        timeIds: Tensor(shape: [ids.count, 6], data: Array(repeating: [size, size, 0, 0, size, size], count: ids.count).flatMap { $0 }))
    }
    (report.textEncodeSeconds, report.textEncodeGFLOP) = (text.seconds, text.gflop)
    log(String(format: "text encoder (%@): %.2f s", guides ? "cond + uncond" : "cond", text.seconds))

    // UNet steps with CFG (batch 2) or without (batch 1) at size/8.
    let f = vae.downFactor
    var rng = TorchRandom(seed: 0)
    var latents = rng.randn([1, unet.config.inChannels, settings.size / f, settings.size / f])
    var stepTimes: [Double] = [], stepFLOP = 0.0
    Profiler.reset()
    Profiler.isEnabled = settings.profile
    defer { Profiler.isEnabled = false }
    for step in 0..<settings.steps {
      let t = timed {
        let batch = guides ? Tensor.concat([latents, latents], axis: 0) : latents
        let out = unet(batch, timesteps: [Float(999 - step * 50)], context: context, added: added)
        let prediction = guides ? Guidance.combine(out, scale: settings.guidance) : out
        latents = prediction.slice(axis: 1, 0..<latents.dim(1)) * 0.1 + latents * 0.9
      }
      stepTimes.append(t.seconds)
      stepFLOP = t.gflop
      log(String(format: "UNet step %d: %.2f s, %.1f GFLOP", step + 1, t.seconds, t.gflop))
    }
    report.unetStepSeconds = stepTimes.sorted()[stepTimes.count / 2]
    report.unetStepGFLOP = stepFLOP
    if settings.profile {
      logProfile("UNet step", seconds: stepTimes.reduce(0, +) / Double(stepTimes.count), runs: stepTimes.count, log: log)
    }

    let decode = timed { _ = vae.decode(scaledLatents: latents) }
    (report.vaeDecodeSeconds, report.vaeDecodeGFLOP) = (decode.seconds, decode.gflop)
    log(String(format: "VAE decode: %.2f s, %.1f GFLOP", decode.seconds, decode.gflop))
    if settings.profile { logProfile("VAE decode", seconds: decode.seconds, runs: 1, log: log) }
    var decodeSeconds = decode.seconds
    if settings.taesd {
      let tiny = try AutoencoderTiny(
        WeightScope(randomWeights(description: "random TAESD")), config: TinyAutoencoderConfig(JSONConfig(values: [:], source: "TAESD")),
        loadEncoder: false)
      let t = timed { _ = tiny.decode(scaledLatents: latents) }
      (report.taesdDecodeSeconds, report.taesdDecodeGFLOP) = (t.seconds, t.gflop)
      decodeSeconds = t.seconds
      log(String(format: "TAESD decode: %.3f s, %.1f GFLOP", t.seconds, t.gflop))
      if settings.profile { logProfile("TAESD decode", seconds: t.seconds, runs: 1, log: log) }
    }
    report.imageSeconds = report.textEncodeSeconds + Double(settings.steps) * report.unetStepSeconds + decodeSeconds
    report.peakRSSBytes = peakRSSBytes()
    return report
  }
}
