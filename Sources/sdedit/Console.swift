import Foundation
import SDPipeline

/// stderr output: notes, warnings, progress (only on a terminal) and phase timings.
enum Console {
  static let isTerminal = isatty(2) == 1

  static func note(_ line: String) {
    FileHandle.standardError.write(Data("\(line)\n".utf8))
  }

  static func warn(_ line: String) { note("warning: \(line)") }

  /// A progress handler that redraws one status line on a terminal and stays silent otherwise.
  static func progressLine(label: String) -> ProgressHandler {
    { progress in
      guard isTerminal else { return true }
      let text: String
      switch progress.phase {
      case .sampling: text = "\(label): step \(progress.step)/\(progress.stepCount)"
      default: text = "\(label): \(progress.phase.rawValue)"
      }
      FileHandle.standardError.write(Data("\r\u{1B}[K\(text)".utf8))
      if progress.phase == .decoding { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
      return true
    }
  }
}

/// Wall-clock phase timer for `--timings`.
struct PhaseTimer {
  private var start = DispatchTime.now().uptimeNanoseconds
  private(set) var phases: [(String, Double)] = []

  mutating func lap(_ name: String) {
    let now = DispatchTime.now().uptimeNanoseconds
    phases.append((name, Double(now - start) / 1e9))
    start = now
  }

  func report() {
    for (name, seconds) in phases { Console.note(String(format: "%-14@ %8.3f s", name as NSString, seconds)) }
  }
}
