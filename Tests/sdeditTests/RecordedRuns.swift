import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

/// Reference runs that record the sdedit command line reproducing them (`"cli"` in each run's
/// JSON, paths under `fixtures:` relative to Tests/Fixtures; scripts/fixtures/fewstep.py, sdxl.py):
/// run it through the CLI binary and compare with diffusers' image (`ImageParity`).
struct RecordedRun: Sendable, CustomTestStringConvertible {
  let name: String
  let arguments: [String]
  let reference: String
  var testDescription: String { name }

  /// The runs listed in `reference/<kind>/index.json`.
  static func load(_ kind: String) -> [RecordedRun] {
    guard let data = try? Fixtures.data("reference/\(kind)/index.json"),
      let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let entries = index["runs"] as? [[String: Any]]
    else { return [] }
    return entries.compactMap { entry in
      guard let json = entry["json"] as? String, let file = entry["file"] as? String,
        let data = try? Fixtures.data("reference/\(json)"),
        let meta = try? JSONSerialization.jsonObject(with: PipelineParityTests.strictJSON(data)) as? [String: Any],
        let cli = meta["cli"] as? [String]
      else { return nil }
      let arguments = cli.map { $0.hasPrefix("fixtures:") ? Fixtures.url(String($0.dropFirst("fixtures:".count))).path : $0 }
      return RecordedRun(
        name: String(json.dropFirst(kind.count + 1).dropLast(".json".count)), arguments: arguments, reference: file)
    }
  }

  /// How many runs `reference/<kind>/index.json` lists (every one must load).
  static func listedCount(_ kind: String) -> Int {
    guard let data = try? Fixtures.data("reference/\(kind)/index.json"),
      let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return -1 }
    return (index["runs"] as? [Any])?.count ?? -1
  }

  /// Runs the command and checks its image against the reference.
  func check() throws {
    try ImageParity.check(reference: "reference/\(reference)", label: name) { arguments + ["-o", $0] }
  }
}
