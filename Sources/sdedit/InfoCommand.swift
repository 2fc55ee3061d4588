import ArgumentParser
import Foundation
import SDPipeline

struct InfoCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "info", abstract: "Describe a model: architecture, variant, parameter counts.")

  @Option(help: "A diffusers folder or a single-file .safetensors checkpoint.")
  var model: String

  func run() throws {
    let bundle = try ModelBundle.load(model, options: .init(needsEncoder: true))
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
