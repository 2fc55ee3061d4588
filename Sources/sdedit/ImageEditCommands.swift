import ArgumentParser
import Foundation
import SDImage
import SDPipeline

/// `-i/--image`: the picture to edit (`-` reads stdin).
struct InputImageOptions: ParsableArguments {
  @Option(name: [.short, .long], help: "Input image, PNG or JPEG (- for stdin).")
  var image: String

  /// Refuses an output path that names the input: sdedit never overwrites its inputs.
  func checkOutput(_ output: String?, extra: [String] = []) throws {
    guard let output, output != "-" else { return }
    for input in [image] + extra where input != "-" && SameFile.check(input, output) {
      throw ValidationError("-o \(output) names an input file; sdedit never overwrites its inputs.")
    }
  }
}

enum SameFile {
  /// Whether two paths name the same existing file (or the same path when the output does not exist yet).
  static func check(_ a: String, _ b: String) -> Bool {
    let ua = URL(fileURLWithPath: a).standardizedFileURL.resolvingSymlinksInPath()
    let ub = URL(fileURLWithPath: b).standardizedFileURL.resolvingSymlinksInPath()
    if ua.path == ub.path { return true }
    guard let x = try? FileManager.default.attributesOfItem(atPath: ua.path),
      let y = try? FileManager.default.attributesOfItem(atPath: ub.path)
    else { return false }
    return (x[.systemFileNumber] as? Int) == (y[.systemFileNumber] as? Int)
      && (x[.systemNumber] as? Int) == (y[.systemNumber] as? Int)
  }
}

struct Img2ImgCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "img2img", abstract: "Redraw an image guided by a prompt (diffusers' StableDiffusionImg2ImgPipeline).")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var input: InputImageOptions
  @OptionGroup var sampling: SamplingOptions
  @OptionGroup var decoder: DecoderOptions
  @OptionGroup var adapters: AdapterOptions
  @OptionGroup var microConditioning: MicroConditioningOptions

  @Option(help: "How much to change: 0 keeps the image, 1 redraws it from noise.")
  var strength: Float = 0.75

  @OptionGroup var output: OutputOptions
  @OptionGroup var computeOptions: ComputeOptions

  func validate() throws {
    guard strength > 0, strength <= 1 else { throw ValidationError("--strength must be in (0, 1] (got \(strength)).") }
    try input.checkOutput(output.output)
    try decoder.checkPreview(output: output.output, inputs: [input.image])
  }

  func run() throws {
    computeOptions.apply()
    var timer = PhaseTimer()
    let image = try ImageFile.read(path: input.image)
    let model = try modelOptions.load(needsEncoder: true, decoder: decoder,
      adapters: adapters.resolve(prompt: sampling.prompt, negativePrompt: sampling.negativePrompt ?? ""))
    timer.lap("load")
    if adapters.report(model) { return }
    var options = sampling.options(seed: sampling.resolvedSeed())
    microConditioning.apply(to: &options)
    options.promptWeighting = adapters.promptWeighting
    (options.width, options.height, options.strength) = (image.width, image.height, strength)
    let result = try ImageEditing(model: model).img2img(
      image, options: options, progress: decoder.progress(Console.progressLine(label: "img2img"), model: model))
    result.warnings.forEach(Console.warn)
    let checked = try SafetyFilter.apply(modelOptions.safetyChecker(), to: result.image, label: "img2img")
    timer.lap("generate")
    try EditOutput.write(checked, options: options, model: model, output: output, extra: decoder.parameters)
    timer.lap("write")
    if output.timings { timer.report() }
  }
}

struct InpaintCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "inpaint",
    abstract: "Repaint the white part of a mask (diffusers' StableDiffusionInpaintPipeline; 4- and 9-channel models).")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var input: InputImageOptions

  @Option(help: "Mask image, the same size as the image: white = repaint, black = keep, gray = partly.")
  var mask: String

  @OptionGroup var sampling: SamplingOptions
  @OptionGroup var decoder: DecoderOptions
  @OptionGroup var adapters: AdapterOptions
  @OptionGroup var microConditioning: MicroConditioningOptions

  @Option(help: "How much to change inside the mask: 1 redraws it from noise.")
  var strength: Float = 1

  @Option(help: "Feather the mask with a Gaussian of this many pixels (AUTOMATIC1111 uses 4; diffusers 0).")
  var maskBlur: Float = 0

  @Flag(help: "Return the raw decoded image instead of pasting it into the original outside the mask.")
  var noComposite = false

  @OptionGroup var output: OutputOptions
  @OptionGroup var computeOptions: ComputeOptions

  func validate() throws {
    guard strength > 0, strength <= 1 else { throw ValidationError("--strength must be in (0, 1] (got \(strength)).") }
    guard maskBlur >= 0, maskBlur <= 256 else { throw ValidationError("--mask-blur must be between 0 and 256.") }
    guard mask != "-" || input.image != "-" else { throw ValidationError("the image and the mask cannot both come from stdin.") }
    try input.checkOutput(output.output, extra: [mask])
    try decoder.checkPreview(output: output.output, inputs: [input.image, mask])
  }

  func run() throws {
    computeOptions.apply()
    var timer = PhaseTimer()
    let image = try ImageFile.read(path: input.image)
    let maskImage = try ImageFile.read(path: mask)
    guard maskImage.width == image.width, maskImage.height == image.height else {
      throw CLIFailure("\(mask): the mask is \(maskImage.width)×\(maskImage.height) but the image \(input.image) is \(image.width)×\(image.height); they must be the same size")
    }
    let model = try modelOptions.load(needsEncoder: true, decoder: decoder,
      adapters: adapters.resolve(prompt: sampling.prompt, negativePrompt: sampling.negativePrompt ?? ""))
    timer.lap("load")
    if adapters.report(model) { return }
    var options = sampling.options(seed: sampling.resolvedSeed())
    microConditioning.apply(to: &options)
    options.promptWeighting = adapters.promptWeighting
    (options.width, options.height, options.strength) = (image.width, image.height, strength)
    let result = try ImageEditing(model: model).inpaint(
      image, mask: maskImage, options: options, maskBlur: maskBlur, composite: !noComposite,
      progress: decoder.progress(Console.progressLine(label: "inpaint"), model: model))
    result.warnings.forEach(Console.warn)
    let checked = try SafetyFilter.apply(modelOptions.safetyChecker(), to: result.image, label: "inpaint")
    timer.lap("generate")
    try EditOutput.write(
      checked, options: options, model: model, output: output, extra: decoder.parameters + [("Mask blur", "\(maskBlur)")])
    timer.lap("write")
    if output.timings { timer.report() }
  }
}

/// Writes a generated image with its AUTOMATIC1111 `parameters` text (atomically; `-` = stdout).
enum EditOutput {
  static func write(
    _ image: RGBImage, options: GenerationOptions, model: ModelBundle, output: OutputOptions, extra: [(String, String)] = [],
    path explicitPath: String? = nil
  ) throws {
    let path = explicitPath ?? output.output ?? "sdedit-\(options.seed).png"
    var shown = options
    shown.prompt = AdapterParameters.prompt(options.prompt, adapters: model.adapters)
    let adapterFields = try AdapterParameters.fields(
      model.adapters, prompt: options.prompt, negativePrompt: options.negativePrompt, tokenizer: model.tokenizer)
    let parameters = ImageParameters.text(
      shown, samplerName: ImageParameters.samplerName(options.sampler, karras: options.karras, defaultName: model.defaultSamplerName),
      model: model.name, extra: extra + adapterFields)
    try ImageFile.write(image, to: path, text: [("parameters", parameters)], quality: output.quality)
    if path != "-" { Console.note("wrote \(path)") }
  }
}
