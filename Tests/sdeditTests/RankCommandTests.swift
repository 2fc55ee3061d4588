import Foundation
import SDModels
import SDTestSupport
import Testing

/// `sdedit rank` through the built binary on clip-tiny and inputs/clip_*.png; the expected order and
/// scores are transformers' (reference/clip/ranking.json and ranking.safetensors).
@Suite struct RankCommandTests {
  static let names = ["clip_224x224.png", "clip_200x300.png", "clip_160x100.png", "clip_50x50.png"]
  static var paths: [String] { names.map { Fixtures.url("reference/inputs/\($0)").path } }
  static var clip: String { Fixtures.url("models/clip-tiny").path }

  static func meta() throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Fixtures.data("reference/clip/ranking.json")) as! [String: Any]
  }

  @Test func printsScoresBestFirst() throws {
    let meta = try Self.meta()
    let prompt = (meta["prompts"] as! [String])[0], expected = (meta["ranking_per_prompt"] as! [[Int]])[0]
    let result = try CLIRunner.run(["rank", "--clip", Self.clip, "--prompt", prompt] + Self.paths)
    #expect(result.status == 0, "\(result.stderr)")
    let lines = String(decoding: result.stdout, as: UTF8.self).split(separator: "\n").map(String.init)
    #expect(lines.count == 4)
    let fields = lines.map { $0.split(separator: "\t", maxSplits: 1).map(String.init) }
    #expect(fields.map { $0.last ?? "" } == expected.map { Self.paths[$0] })
    let scores = fields.compactMap { Double($0.first ?? "") }
    #expect(scores.count == 4 && scores == scores.sorted(by: >))
  }

  @Test func jsonParsesAndMatchesTransformers() throws {
    let meta = try Self.meta()
    let prompt = (meta["prompts"] as! [String])[1], expected = (meta["ranking_per_prompt"] as! [[Int]])[1]
    let reference = try SafeTensorsFile(url: Fixtures.url("reference/clip/ranking.safetensors")).tensor("logits_per_image").data
    let result = try CLIRunner.run(["rank", "--clip", Self.clip, "--prompt", prompt, "--json"] + Self.paths)
    #expect(result.status == 0, "\(result.stderr)")
    let items = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
    #expect(items.map { $0["path"] as? String } == expected.map { Self.paths[$0] })
    for item in items {
      let index = Self.paths.firstIndex(of: item["path"] as! String)!
      let score = (item["score"] as! NSNumber).floatValue
      #expect(abs(score - reference[index * 2 + 1]) <= 1e-4 * max(1, abs(reference[index * 2 + 1])))
    }
  }

  @Test func readsOneImageFromStdin() throws {
    let data = try Data(contentsOf: URL(fileURLWithPath: Self.paths[3]))
    let result = try CLIRunner.run(["rank", "--clip", Self.clip, "--prompt", "a fox", "--json", "-", Self.paths[0]], stdin: data)
    #expect(result.status == 0, "\(result.stderr)")
    let items = try #require(try JSONSerialization.jsonObject(with: result.stdout) as? [[String: Any]])
    #expect(Set(items.compactMap { $0["path"] as? String }) == ["-", Self.paths[0]])
  }

  @Test func usageErrorsExitTwo() throws {
    for args in [["rank", "--clip", Self.clip, "--prompt", "x"], ["rank", "--prompt", "x", Self.paths[0]],
                 ["rank", "--clip", Self.clip, "--prompt", "x", "-", "-"]] {
      let result = try CLIRunner.run(args)
      #expect(result.status == 2, "\(args): \(result.status) \(result.stderr)")
    }
  }

  @Test func badInputsExitOneWithOneLine() throws {
    let dir = try Fixtures.temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let notImage = dir.appendingPathComponent("notes.png")
    try Data("hello".utf8).write(to: notImage)
    let cases: [([String], String)] = [
      (["rank", "--clip", "/nonexistent/clip", "--prompt", "x", Self.paths[0]], "/nonexistent/clip"),
      (["rank", "--clip", Self.clip, "--prompt", "x", notImage.path], notImage.path),
      (["rank", "--clip", Self.clip, "--prompt", "x", dir.appendingPathComponent("missing.png").path], "missing.png"),
      (["rank", "--clip", Fixtures.url("models/sd1-tiny/text_encoder").path, "--prompt", "x", Self.paths[0]], "vision_config"),
    ]
    for (args, mention) in cases {
      let result = try CLIRunner.run(args)
      #expect(result.status == 1, "\(args): \(result.status)")
      let lines = result.stderr.split(separator: "\n")
      #expect(lines.count == 1 && result.stderr.contains(mention), "\(args): \(result.stderr)")
      #expect(result.stdout.isEmpty)
    }
  }
}
