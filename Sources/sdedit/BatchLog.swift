#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation

/// What happened to one job: one line of the results log.
///
/// `{"index": 3, "line": 4, "task": "txt2img", "status": "ok", "output": "out/3.png", "seed": 3, "seconds": 1.234}`
/// - `index`: the job's number (0-based, blank lines not counted), which sharding and seeds use;
///   `line`: its line in the file (1-based);
/// - `status`: `ok`, `skipped` (the output exists and `--overwrite` was not given), `error`
///   (with `error`, the one-line message) or `planned` (`--dry-run`, with `arguments`);
/// - `seed` when the job draws noise, `ranking` (`[{"path", "score"}]`, best first) for rank jobs.
struct BatchRecord {
  enum Status: String {
    case ok, skipped, error, planned
  }

  let index: Int
  let line: Int
  var task: String?
  var status = Status.error
  var output: String?
  var seed: UInt64?
  var seconds: Double = 0
  var error: String?
  var ranking: [(path: String, score: Float)]?
  var arguments: [String]?

  var jsonLine: String {
    var fields = ["\"index\": \(index)", "\"line\": \(line)"]
    if let task { fields.append("\"task\": \(JSONText.string(task))") }
    fields.append("\"status\": \"\(status.rawValue)\"")
    if let output { fields.append("\"output\": \(JSONText.string(output))") }
    if let seed { fields.append("\"seed\": \(seed)") }
    if let ranking { fields.append("\"ranking\": \(RankCommand.jsonArray(ranking))") }
    if let arguments { fields.append("\"arguments\": [\(arguments.map(JSONText.string).joined(separator: ", "))]") }
    fields.append("\"seconds\": \(String(format: "%.3f", seconds))")
    if let error { fields.append("\"error\": \(JSONText.string(error))") }
    return "{" + fields.joined(separator: ", ") + "}"
  }
}

/// The results log: JSON Lines appended to `--log FILE`, or written on the original standard
/// output. Each record is one `write(2)` of a whole line, so a killed batch leaves complete lines
/// and tasks appending to one file on a local file system do not interleave within a line.
///
/// While a batch runs, standard output is pointed at standard error, so that whatever a job might
/// print (nothing, today) can never corrupt the log on stdout.
final class BatchLog {
  private let fd: Int32
  private let name: String

  /// Opens `path` for appending (created, with its folder, if missing), or takes over stdout when nil.
  init(path: String?) throws {
    fflush(stdout)
    if let path {
      let folder = URL(fileURLWithPath: path).deletingLastPathComponent()
      try? FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
      fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o666)
      guard fd >= 0 else { throw CLIFailure("\(path): cannot write the log (\(String(cString: strerror(errno))))") }
      name = path
    } else {
      fd = dup(STDOUT_FILENO)
      guard fd >= 0 else { throw CLIFailure("stdout: cannot write the log (\(String(cString: strerror(errno))))") }
      name = "stdout"
    }
    _ = dup2(STDERR_FILENO, STDOUT_FILENO)
  }

  deinit { close(fd) }

  func write(_ record: BatchRecord) throws {
    let bytes = Array((record.jsonLine + "\n").utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes[offset...].withUnsafeBytes { systemWrite(fd, $0.baseAddress, $0.count) }
      if n < 0 && errno == EINTR { continue }
      guard n > 0 else { throw CLIFailure("\(name): cannot write the log (\(String(cString: strerror(errno))))") }
      offset += n
    }
  }
}

/// write(2), out of reach of `BatchLog.write`'s name.
private func systemWrite(_ fd: Int32, _ buffer: UnsafeRawPointer?, _ count: Int) -> Int {
  write(fd, buffer, count)
}
