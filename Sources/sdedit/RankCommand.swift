import ArgumentParser
import Foundation
import SDImage
import SDModels
import SDPipeline

/// `sdedit rank`: scores images against a prompt with a CLIP model (transformers `logits_per_image`,
/// ≈ 100 × cosine similarity for OpenAI checkpoints) and lists them best first.
struct RankCommand: ParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "rank", abstract: "Score images against a prompt with CLIP and list them best first.",
    discussion: """
      Prints one line per image, best first: the score, a tab, the path. With --json, one JSON array
      [{"path": …, "score": …}, …] in the same order. The score is CLIP's logits_per_image.
      Example: sdedit rank --clip models/clip-vit-base-patch32 --prompt "a red fox" a.png b.jpg
      """)

  @Option(help: "A Hugging Face CLIP folder (config.json, model.safetensors, vocab.json, merges.txt), e.g. openai/clip-vit-base-patch32.")
  var clip: String

  @Option(help: "The text to match.")
  var prompt: String

  @Argument(help: "PNG or JPEG images (- reads one from stdin).")
  var images: [String] = []

  @Flag(help: "Print one JSON array on stdout.")
  var json = false

  @OptionGroup var computeOptions: ComputeOptions

  func validate() throws {
    guard !images.isEmpty else { throw ValidationError("Give at least one image to rank.") }
    guard images.filter({ $0 == "-" }).count <= 1 else { throw ValidationError("Only one image can be read from stdin (-).") }
  }

  func run() throws {
    computeOptions.apply()
    let decoded = try images.map { try ImageFile.read(path: $0) }
    let ranker = try CLIPRanker(folder: clip)
    if let warning = ranker.tokenizer.truncationWarning(for: prompt) { Console.warn(warning) }
    let scores = ranker.scores(prompt: prompt, images: decoded)
    let order = CLIPScorer.ranking(scores)
    if json {
      let items = order.map { "{\"path\": \(Self.jsonString(images[$0])), \"score\": \(Self.jsonNumber(scores[$0]))}" }
      print("[" + items.joined(separator: ", ") + "]")
    } else {
      for i in order { print("\(String(format: "%.4f", Double(scores[i])))\t\(images[i])") }
    }
  }

  static func jsonString(_ s: String) -> String {
    let encoder = JSONEncoder()
    encoder.outputFormatting = .withoutEscapingSlashes
    return (try? encoder.encode(s)).map { String(decoding: $0, as: UTF8.self) } ?? "\"\""
  }

  /// The shortest decimal that reads back as the same Float; null for NaN/infinity (not JSON numbers).
  static func jsonNumber(_ x: Float) -> String { x.isFinite ? "\(x)" : "null" }
}
