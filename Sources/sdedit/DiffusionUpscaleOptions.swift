import ArgumentParser
import Foundation
import SDImage
import SDModels
import SDPipeline

/// `sdedit upscale` options that only the diffusion upscalers (a diffusers folder as `--model`)
/// read, and their run: stabilityai/stable-diffusion-x4-upscaler (×4) or
/// stabilityai/sd-x2-latent-upscaler (×2), chosen by the folder's `model_index.json`.
struct DiffusionUpscaleOptions: ParsableArguments {
  @Option(help: "Diffusion upscalers: what the image shows (default: empty).")
  var prompt = ""

  @Option(help: "Diffusion upscalers: what to steer away from.")
  var negativePrompt = ""

  @Option(help: "x4 upscaler: noise added to the input before upscaling, 0…350 (diffusers' noise_level).")
  var noiseLevel = 20

  @Option(help: "Diffusion upscalers: denoising steps (diffusers defaults to 75).")
  var steps = 20

  @Option(help: "Diffusion upscalers: classifier-free guidance scale (1 or less turns it off; the latent upscaler treats 0 as an empty prompt).")
  var guidance: Float = 9

  @Option(help: "Diffusion upscalers: sampler (default: the model's own; the latent upscaler takes euler only).")
  var sampler: SamplerKind?

  @Flag(help: "Diffusion upscalers: Karras sigma spacing (euler, lms, dpmpp-2m).")
  var karras = false

  @Option(help: "Diffusion upscalers: random seed, torch.Generator(\"cpu\").manual_seed(N) parity (default: random, reported).")
  var seed: UInt64?

  func validate() throws {
    guard (1...1000).contains(steps) else { throw ValidationError("--steps must be between 1 and 1000 (got \(steps)).") }
    guard guidance.isFinite, guidance >= 0, guidance <= 100 else { throw ValidationError("--guidance must be between 0 and 100.") }
    guard (0...1000).contains(noiseLevel) else { throw ValidationError("--noise-level must be between 0 and the model's max_noise_level, 350 (got \(noiseLevel)).") }
  }

  /// Upscales `imagePath` with the diffusers upscaler in `folder` and writes `output`.
  func run(folder: String, imagePath: String, output: String, tile: Int) throws {
    let kind = try DiffusionUpscaler.Kind.detect(folder: folder)
    let image = try ImageFile.read(path: imagePath)
    let model = try ModelCache.shared.bundle(folder, options: .init(needsEncoder: kind.needsEncoder))
    let upscaler = try DiffusionUpscaler(model: model)
    var options = UpscaleOptions(prompt: prompt)
    options.generation.negativePrompt = negativePrompt
    options.generation.stepCount = steps
    options.generation.guidanceScale = guidance
    options.generation.sampler = sampler
    options.generation.karras = karras
    options.generation.seed = seed ?? {
      let random = UInt64.random(in: 0..<(1 << 32))
      Console.note("seed: \(random)")
      return random
    }()
    options.noiseLevel = noiseLevel
    options.tileSize = tile
    let result = try upscaler.upscale(image, options: options, progress: Console.progressLine(label: "upscale ×\(kind.scale)"))
    result.warnings.forEach(Console.warn)

    var generation = options.generation
    (generation.width, generation.height) = (result.image.width, result.image.height)
    var extra = [("Postprocess upscale by", "\(kind.scale)"), ("Postprocess upscaler", model.name)]
    if kind == .x4 { extra.append(("Noise level", "\(noiseLevel)")) }
    let parameters = ImageParameters.text(
      generation, samplerName: ImageParameters.samplerName(sampler, karras: karras, defaultName: model.defaultSamplerName),
      model: model.name, extra: extra)
    try ImageFile.write(result.image, to: output, text: [("parameters", parameters)])
    if output != "-" { Console.note("wrote \(output)") }
  }
}
