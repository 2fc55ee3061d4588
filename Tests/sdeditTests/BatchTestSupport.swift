import Foundation
import SDTestSupport

/// Batch files, runs and results logs for the `sdedit batch` tests.
enum BatchRun {
  static let model = Fixtures.url("models/sd1-tiny").path
  /// Small, fast jobs: 32×32, 2 steps, one thread (so bytes compare across processes).
  static let small = ["--width", "32", "--height", "32", "--steps", "2", "--threads", "1"]

  /// One JSON object per line.
  static func jsonLines(_ objects: [[String: Any]]) throws -> String {
    try objects.map { String(decoding: try JSONSerialization.data(withJSONObject: $0, options: [.sortedKeys]), as: UTF8.self) }
      .joined(separator: "\n") + "\n"
  }

  /// Writes `text` as `name` in `dir`.
  @discardableResult
  static func write(_ text: String, _ name: String, in dir: URL) throws -> String {
    let url = dir.appendingPathComponent(name)
    try Data(text.utf8).write(to: url)
    return url.path
  }

  /// The results log's records.
  static func records(_ log: Data) throws -> [[String: Any]] {
    try String(decoding: log, as: UTF8.self).split(separator: "\n").map { line in
      guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
        throw CocoaError(.coderReadCorrupt)
      }
      return object
    }
  }

  /// Runs `sdedit batch` in `dir` (relative outputs land there).
  static func run(_ arguments: [String], in dir: URL, environment: [String: String] = [:]) throws -> CLIRunner.Result {
    try CLIRunner.run(["batch"] + arguments, environment: environment, workingDirectory: dir)
  }
}
