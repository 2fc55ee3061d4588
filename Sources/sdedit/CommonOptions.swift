import ArgumentParser
import Foundation
import SDImage
import SDModels
import SDPipeline
import SDTensor

/// `--threads`: applies to OpenBLAS and to sdedit's own kernels.
/// How the arithmetic runs: threads and precision.
struct ComputeOptions: ParsableArguments {
  @Option(help: "Threads for matrix math and kernels (default: all cores).")
  var threads: Int?

  @Option(help: "fp32 (default: reproduces diffusers) or bf16 (AVX-512 BF16 matrix products, about twice as fast; falls back to fp32 on CPUs without it).")
  var precision: Precision = .fp32

  /// Applies the options; call before any model is loaded (weights are packed for the precision).
  func apply() {
    if let threads { Threading.threadCount = threads }
    if let reason = Precision.unavailableReason(precision) {
      Console.warn("--precision \(precision.rawValue): \(reason); using fp32")
      Precision.current = .fp32
    } else {
      Precision.current = precision
    }
  }

  func validate() throws {
    if let threads, threads < 1 || threads > 1024 {
      throw ValidationError("--threads must be between 1 and 1024 (got \(threads)).")
    }
  }
}

/// `--model` and what may override the model's own configuration.
struct ModelOptions: ParsableArguments {
  @Option(help: "A diffusers folder or a single-file .safetensors checkpoint (default: $SDEDIT_MODEL).")
  var model: String?

  @Option(help: "Override the model's prediction type: eps or v (SD 2.x 768-v single files need v).")
  var prediction: PredictionOption?

  func resolvedModel() throws -> String {
    if let model { return model }
    if let env = ProcessInfo.processInfo.environment["SDEDIT_MODEL"], !env.isEmpty { return env }
    throw ValidationError("--model is required (or set SDEDIT_MODEL): a diffusers folder or a .safetensors checkpoint.")
  }

  /// diffusers' `StableDiffusionSafetyChecker` when the model folder ships one (`safety_checker/`).
  func safetyChecker() throws -> SafetyChecker? {
    let path = try resolvedModel()
    return try ModelCache.shared.value(kind: "safety checker", path: path, options: Precision.current) {
      try SafetyChecker.load(ifPresentIn: path)
    }
  }

  /// The model, loaded once per process (`ModelCache`: `sdedit batch` reuses it across jobs).
  func load(
    needsEncoder: Bool = false, decoder: DecoderOptions? = nil, adapters: ModelAdapters = ModelAdapters()
  ) throws -> ModelBundle {
    var options = ModelBundle.Options(needsEncoder: needsEncoder, predictionType: prediction?.diffusersName)
    decoder?.apply(to: &options)
    options.adapters = adapters
    return try ModelCache.shared.bundle(resolvedModel(), options: options)
  }
}

/// The options every diffusion subcommand shares (DESIGN.md's command-line contract).
struct SamplingOptions: ParsableArguments {
  @Option(help: "What to draw.")
  var prompt: String

  @Option(help: "What to steer away from (the unconditional side of guidance). SDXL: without it, models that say so use zeros.")
  var negativePrompt: String?

  @Option(help: "Denoising steps.")
  var steps: Int = 20

  @Option(help: "Classifier-free guidance scale (1 turns guidance off).")
  var guidance: Float = 7.5

  @Option(help: "Sampler: \(SamplerKind.allCases.map(\.rawValue).joined(separator: ", ")) (default: the model's own scheduler).")
  var sampler: SamplerKind?

  @Flag(help: "Karras sigma spacing (euler, lms, dpmpp-2m).")
  var karras = false

  @Option(help: "Timestep spacing, overriding the scheduler config's timestep_spacing: leading, linspace or trailing (SD-Turbo and SDXL-Turbo use trailing; lcm and tcd take theirs from the distillation schedule).")
  var spacing: TimestepSpacing?

  @Option(help: "tcd: its stochasticity gamma (default 0.3); ddim: eta (default 0). Between 0 and 1.")
  var eta: Double?

  @Option(help: "Random seed; torch.Generator(\"cpu\").manual_seed(N) parity (default: random, reported).")
  var seed: UInt64?

  @Option(help: "Skip the last N text-encoder layers (diffusers clip_skip; A1111's \"Clip skip 2\" is 1).")
  var clipSkip: Int = 0

  @Flag(help: "Encode prompts over 75 tokens in chunks (AUTOMATIC1111) instead of truncating them.")
  var longPrompt = false

  func validate() throws {
    guard steps >= 1, steps <= 1000 else { throw ValidationError("--steps must be between 1 and 1000 (got \(steps)).") }
    guard guidance.isFinite, guidance >= 0, guidance <= 100 else { throw ValidationError("--guidance must be between 0 and 100.") }
    guard clipSkip >= 0, clipSkip <= 10 else { throw ValidationError("--clip-skip must be between 0 and 10.") }
    if let eta, !(eta >= 0 && eta <= 1) { throw ValidationError("--eta must be between 0 and 1 (got \(eta)).") }
  }

  func options(seed: UInt64) -> GenerationOptions {
    var o = GenerationOptions(prompt: prompt)
    o.negativePrompt = negativePrompt ?? ""
    o.negativePromptGiven = negativePrompt != nil
    o.stepCount = steps
    o.guidanceScale = guidance
    o.sampler = sampler
    o.karras = karras
    o.spacing = spacing
    o.eta = eta
    o.seed = seed
    o.clipSkip = clipSkip
    o.longPrompt = longPrompt
    return o
  }

  /// The given seed, or a random one reported on stderr.
  func resolvedSeed() -> UInt64 {
    if let seed { return seed }
    let random = UInt64.random(in: 0..<(1 << 32))
    Console.note("seed: \(random)")
    return random
  }
}

/// `-o/--output` and the encoding settings.
struct OutputOptions: ParsableArguments {
  @Option(name: [.short, .long], help: "Output image (.png or .jpg; - for PNG on stdout).")
  var output: String?

  @Option(help: "JPEG quality, 1–100.")
  var quality: Int = 92

  @Flag(help: "Print the time of each phase on stderr.")
  var timings = false

  func validate() throws {
    guard (1...100).contains(quality) else { throw ValidationError("--quality must be between 1 and 100.") }
  }
}

enum PredictionOption: String, ExpressibleByArgument, CaseIterable {
  case eps, v
  var diffusersName: String { self == .eps ? "epsilon" : "v_prediction" }
}

extension SamplerKind: ExpressibleByArgument {}

extension Precision: ExpressibleByArgument {}

/// Applies a model's safety checker as diffusers does: a flagged image becomes black.
enum SafetyFilter {
  static func apply(_ checker: SafetyChecker?, to image: RGBImage, label: String) throws -> RGBImage {
    guard let checker else { return image }
    let (images, flagged) = checker.filter([image])
    if flagged[0] {
      Console.warn("\(label): potential NSFW content was detected by the model's safety checker; the image was replaced by a black one")
    }
    return images[0]
  }
}
