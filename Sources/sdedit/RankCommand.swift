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
    let ranked = try ranking()
    if json {
      print(Self.jsonArray(ranked))
    } else {
      for (path, score) in ranked { print("\(String(format: "%.4f", Double(score)))\t\(path)") }
    }
  }

  /// The images and their scores, best first (`sdedit batch` logs them instead of printing).
  func ranking() throws -> [(path: String, score: Float)] {
    computeOptions.apply()
    let decoded = try images.map { try ImageFile.read(path: $0) }
    let ranker = try CachedModels.ranker(folder: clip)
    if let warning = ranker.tokenizer.truncationWarning(for: prompt) { Console.warn(warning) }
    let scores = ranker.scores(prompt: prompt, images: decoded)
    return CLIPScorer.ranking(scores).map { (images[$0], scores[$0]) }
  }

  /// `[{"path": …, "score": …}, …]` on one line.
  static func jsonArray(_ ranked: [(path: String, score: Float)]) -> String {
    "[" + ranked.map { "{\"path\": \(JSONText.string($0.path)), \"score\": \(JSONText.number($0.score))}" }.joined(separator: ", ") + "]"
  }
}
