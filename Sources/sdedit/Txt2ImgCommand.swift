import ArgumentParser
import Foundation
import SDImage
import SDModels
import SDPipeline

struct Txt2ImgCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "txt2img", abstract: "Generate images from a prompt.")

  @OptionGroup var modelOptions: ModelOptions
  @OptionGroup var sampling: SamplingOptions
  @OptionGroup var decoder: DecoderOptions
  @OptionGroup var adapters: AdapterOptions
  @OptionGroup var microConditioning: MicroConditioningOptions

  @Option(help: "Image width in pixels, a multiple of 8 (default: the model's, e.g. 512 for SD 1.5, 1024 for SDXL).")
  var width: Int?

  @Option(help: "Image height in pixels, a multiple of 8 (default: the model's).")
  var height: Int?

  @OptionGroup var refiner: RefinerOptions

  @Option(help: "How many images: seeds N, N+1, … (outputs named <name>-<seed>.<ext>).")
  var count = 1

  @Flag(help: "Score the images against the prompt with CLIP (--clip) and name them by rank: <name>-<rank>-<seed>.<ext>, 1 = best.")
  var rank = false

  @Option(help: "A Hugging Face CLIP folder (config.json, model.safetensors, tokenizer files) for --rank.")
  var clip: String?

  @OptionGroup var output: OutputOptions
  @OptionGroup var computeOptions: ComputeOptions

  func validate() throws {
    for case let (name, value?) in [("width", width), ("height", height)] where value < 8 || value % 8 != 0 || value > GenerationOptions.maxSide {
      throw ValidationError("--\(name) must be a multiple of 8 between 8 and \(GenerationOptions.maxSide) (got \(value)).")
    }
    guard (1...10_000).contains(count) else { throw ValidationError("--count must be between 1 and 10000.") }
    if count > 1, output.output == "-" { throw ValidationError("--count > 1 cannot write to stdout (-o -).") }
    if rank, clip == nil { throw ValidationError("--rank needs --clip PATH (a CLIP model folder).") }
    if rank, output.output == "-" { throw ValidationError("--rank cannot write to stdout (-o -).") }
    try decoder.checkPreview(output: output.output)
  }

  func run() throws {
    computeOptions.apply()
    var timer = PhaseTimer()
    let model = try modelOptions.load(
      decoder: decoder, adapters: adapters.resolve(prompt: sampling.prompt, negativePrompt: sampling.negativePrompt ?? ""))
    timer.lap("load")
    if adapters.report(model) { return }
    let firstSeed = sampling.resolvedSeed()
    let pipeline = Text2Image(model: model)
    let refinerModel = try refiner.refiner.map {
      try ModelCache.shared.bundle($0, options: .init(predictionType: modelOptions.prediction?.diffusersName))
    }
    if refinerModel != nil { timer.lap("load refiner") }
    let checker = try modelOptions.safetyChecker()
    let ranker = try rank ? clip.map { try CachedModels.ranker(folder: $0) } : nil
    let target = output.output ?? "sdedit-\(firstSeed).png"
    var kept: [(image: RGBImage, options: GenerationOptions)] = []
    for i in 0..<count {
      let (seed, overflow) = firstSeed.addingReportingOverflow(UInt64(i))
      guard !overflow else { throw CLIFailure("--seed \(firstSeed) + \(i) overflows") }
      var options = sampling.options(seed: seed)
      microConditioning.apply(to: &options)
      options.promptWeighting = adapters.promptWeighting
      options.width = width ?? model.defaultImageSize.width
      options.height = height ?? model.defaultImageSize.height
      let progress = decoder.progress(Console.progressLine(label: "txt2img seed \(seed)"), model: model)
      let result = try pipeline.generate(
        options, refiner: refinerModel.map { Text2Image.Refiner(model: $0, start: refiner.refinerStart) }, progress: progress)
      result.warnings.forEach(Console.warn)
      let image = try SafetyFilter.apply(checker, to: result.image, label: "seed \(seed)")
      timer.lap("generate")
      if ranker != nil {
        kept.append((image, options))
        continue
      }
      let path = count > 1 ? OutputNaming.path(target, suffix: "-\(seed)") : target
      try EditOutput.write(image, options: options, model: model, output: output, extra: decoder.parameters, path: path)
      timer.lap("write")
    }
    if let ranker {
      let scores = ranker.scores(prompt: sampling.prompt, images: kept.map(\.image))
      timer.lap("rank")
      for (position, index) in CLIPScorer.ranking(scores).enumerated() {
        let (image, options) = kept[index]
        let path = OutputNaming.path(target, suffix: "-\(position + 1)-\(options.seed)")
        try EditOutput.write(
          image, options: options, model: model, output: output,
          extra: decoder.parameters + [("CLIP score", String(format: "%.4f", scores[index]))],
          path: path)
        print(String(format: "%d\t%.4f\t%@\t%@", position + 1, scores[index], "\(options.seed)" as NSString, path as NSString))
      }
      timer.lap("write")
    }
    if output.timings { timer.report() }
  }
}

enum OutputNaming {
  /// `out.png` + `-42` → `out-42.png`.
  static func path(_ path: String, suffix: String) -> String {
    let url = URL(fileURLWithPath: path)
    let ext = url.pathExtension
    let stem = ext.isEmpty ? path : String(path.dropLast(ext.count + 1))
    return ext.isEmpty ? stem + suffix : "\(stem)\(suffix).\(ext)"
  }
}
