import ArgumentParser
import Foundation
import SDPipeline

struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info",
    abstract: "Describe a model (architecture, variant, parameter counts) or an image (the generation parameters it carries).",
    discussion: """
      sdedit info --model PATH      a diffusers folder or a single-file .safetensors checkpoint
      sdedit info IMAGE [--json]    the PNG's generation parameters (AUTOMATIC1111's format); - reads stdin
      A path given without --model is an image when its bytes say so, else a model.
      """)

  @Option(help: "A diffusers folder or a single-file .safetensors checkpoint.")
  var model: String?

  @Argument(help: "An image (PNG or JPEG; - for stdin), or a model.")
  var path: String?

  @Flag(help: "Images: print one JSON object.")
  var json = false

  func validate() throws {
    guard (model == nil) != (path == nil) else { throw ValidationError("give an image, or a model with --model PATH (one of them).") }
  }

  func run() throws {
    if let path, ImageInfo.isImage(path) {
      try ImageInfo.report(path: path, json: json)
      return
    }
    guard !json else { throw CLIFailure("--json describes images; \(path ?? model ?? "") is not a PNG or JPEG image", status: 2) }
    let bundle = try ModelBundle.load(model ?? path ?? "", options: .init(needsEncoder: true))
    print("model: \(bundle.name)")
    print("architecture: \(bundle.summary)")
    print("sampler: \(bundle.samplerSummary)")
    if let dim = bundle.unet.config.timeCondProjDim {
      print("guidance: embedded (time_cond_proj_dim \(dim), guidance-distilled): one UNet pass per step, --guidance sets w = guidance − 1")
    }
    for (name, count) in bundle.parameterCounts {
      print(String(format: "%@: %.1fM parameters", name as NSString, Double(count) / 1e6))
    }
    if !bundle.unusedKeys.isEmpty {
      print("unused tensors: \(bundle.unusedKeys.count) (first: \(bundle.unusedKeys.prefix(3).joined(separator: ", ")))")
    }
  }
}
