import Foundation

/// Wall-clock time per kind of operation, for `sdedit bench --profile`. Off by default: a
/// disabled `measure` is one load and a branch. Sections may nest (softmax runs inside
/// attention); each reports its own inclusive time.
public enum Profiler {
  nonisolated(unsafe) public static var isEnabled = false
  nonisolated(unsafe) static var totals: [String: (seconds: Double, calls: Int)] = [:]
  static let lock = NSLock()

  @inlinable
  public static func measure<R>(_ name: StaticString, _ body: () throws -> R) rethrows -> R {
    guard isEnabled else { return try body() }
    let start = DispatchTime.now().uptimeNanoseconds
    defer { record(name, seconds: Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9) }
    return try body()
  }

  @usableFromInline
  static func record(_ name: StaticString, seconds: Double) {
    lock.lock()
    defer { lock.unlock() }
    let key = "\(name)"
    let old = totals[key] ?? (0, 0)
    totals[key] = (old.seconds + seconds, old.calls + 1)
  }

  /// The sections measured since the last `reset`, slowest first.
  public static func report() -> [(name: String, seconds: Double, calls: Int)] {
    lock.lock()
    defer { lock.unlock() }
    return totals.map { ($0.key, $0.value.seconds, $0.value.calls) }.sorted { $0.seconds > $1.seconds }
  }

  public static func reset() {
    lock.lock()
    totals = [:]
    lock.unlock()
  }
}
