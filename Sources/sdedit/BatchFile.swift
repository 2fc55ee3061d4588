import Foundation
import SDImage

/// A batch file: JSON Lines, one job object per line. Blank lines are no jobs; jobs are numbered
/// 0, 1, … in file order (their index, which sharding and derived seeds use).
///
/// A line that is not a JSON object is a failed job (reported by the shard that owns it); the
/// file as a whole is refused (exit 2) when it is not UTF-8 text, starts with `[` (a JSON array),
/// holds no job, or has no line that is a JSON object (a pretty-printed document).
struct BatchFile {
  struct Job {
    let index: Int
    /// 1-based line number in the file.
    let line: Int
    let object: Result<[String: JSONValue], JobFailure>
  }

  let jobs: [Job]

  /// Reads `path` ("-": standard input).
  init(path: String) throws {
    let data: Data
    do {
      data = try FileIO.readFile(path: path)
    } catch {
      throw CLIFailure("\(error)")
    }
    let name = path == "-" ? "stdin" : path
    guard let text = String(data: data, encoding: .utf8), !text.contains("\0") else {
      throw CLIFailure("\(name): not a batch file (not UTF-8 text); expected JSON Lines, one job object per line", status: 2)
    }
    var jobs: [Job] = []
    for (number, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
      let line = rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine
      guard !line.allSatisfy(\.isWhitespace) else { continue }
      let object: Result<[String: JSONValue], JobFailure>
      do throws(JobFailure) {
        guard case .object(let fields) = try JSONValue.parse(line: String(line)) else {
          throw JobFailure("not a JSON object (each line is one job: {\"task\": …, \"output\": …})")
        }
        object = .success(fields)
      } catch {
        object = .failure(error)
      }
      jobs.append(Job(index: jobs.count, line: number + 1, object: object))
    }
    if let first = text.first(where: { !$0.isWhitespace }), first == "[" {
      throw CLIFailure("\(name): a JSON array, not JSON Lines; write one job object per line", status: 2)
    }
    guard !jobs.isEmpty else { throw CLIFailure("\(name): no jobs (expected JSON Lines, one job object per line)", status: 2) }
    guard jobs.contains(where: { if case .success = $0.object { return true } else { return false } }) else {
      throw CLIFailure("\(name): no line is a JSON object; expected JSON Lines, one job object per line", status: 2)
    }
    self.jobs = jobs
  }
}
