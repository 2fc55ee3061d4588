import ArgumentParser
import Foundation
import SDModels
import SDPipeline

struct TokenizeCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "tokenize", abstract: "Print the token ids the model's CLIP tokenizer makes (bos … eos, at most 77).")

  @Option(help: "A diffusers folder (its tokenizer/) or a single-file checkpoint; default: the bundled CLIP vocabulary.")
  var model: String?

  @Option(help: "The text to tokenize.")
  var prompt: String

  @Flag(help: "Print one JSON array on stdout.")
  var json = false

  func run() throws {
    let tokenizer = try ModelTokenizer.load(model)
    if let warning = tokenizer.truncationWarning(for: prompt) { FileHandle.standardError.write(Data("warning: \(warning)\n".utf8)) }
    let ids = tokenizer.encode(prompt)
    print(json ? "[" + ids.map(String.init).joined(separator: ", ") + "]" : ids.map(String.init).joined(separator: " "))
  }
}
