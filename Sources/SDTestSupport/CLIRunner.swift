import Foundation

/// Runs the built `sdedit` binary (next to the test bundle in the build folder) as a user would.
public enum CLIRunner {
  public struct Result: Sendable {
    public let status: Int32
    public let stdout: Data
    public let stderr: String
    /// True when the child was killed by a signal it did not handle (then `status` is the signal).
    public var killedBySignal = false
  }

  /// A signal to send to the child while it runs (interrupted-run tests).
  public struct Interrupt: Sendable {
    public let signal: Int32
    /// Send once stderr contains this text (nil: count the delay from the start).
    public let afterStderr: String?
    /// Seconds to wait after the trigger.
    public let delay: Double

    public init(signal: Int32, afterStderr: String? = nil, delay: Double = 0) {
      (self.signal, self.afterStderr, self.delay) = (signal, afterStderr, delay)
    }
  }

  /// The `sdedit` executable of the current build.
  public static var binary: URL {
    let here = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
    var dir = here.deletingLastPathComponent()
    for _ in 0..<4 {
      let candidate = dir.appendingPathComponent("sdedit")
      if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
      dir = dir.deletingLastPathComponent()
    }
    return here.deletingLastPathComponent().appendingPathComponent("sdedit")
  }

  public static func run(
    _ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:], interrupt: Interrupt? = nil,
    workingDirectory: URL? = nil
  ) throws -> Result {
    let process = Process()
    process.executableURL = binary
    process.arguments = arguments
    if let workingDirectory { process.currentDirectoryURL = workingDirectory }
    var env = ProcessInfo.processInfo.environment
    env.removeValue(forKey: "SDEDIT_MODEL")
    // `sdedit batch` takes its shard from these; a test run inside a Slurm or Kubernetes job must not.
    for key in env.keys where key.hasPrefix("SLURM_ARRAY_") || key == "JOB_COMPLETION_INDEX" { env.removeValue(forKey: key) }
    for (k, v) in environment { env[k] = v }
    process.environment = env
    let out = Pipe(), err = Pipe(), input = Pipe()
    process.standardOutput = out
    process.standardError = err
    process.standardInput = input
    try process.run()
    // Drain both pipes concurrently so a full pipe never blocks the child.
    final class Box: @unchecked Sendable {
      let lock = NSLock()
      var data = Data()
      var signalled = false
      var exited = false
    }
    let outData = Box(), errData = Box()
    let group = DispatchGroup()
    let pid = process.processIdentifier
    @Sendable func send(_ interrupt: Interrupt) {
      DispatchQueue.global().asyncAfter(deadline: .now() + interrupt.delay) {
        errData.lock.withLock {
          if !errData.exited { _ = kill(pid, interrupt.signal) }
        }
      }
    }
    if let interrupt, interrupt.afterStderr == nil { send(interrupt) }
    DispatchQueue.global().async(group: group) { outData.data = out.fileHandleForReading.readDataToEndOfFile() }
    DispatchQueue.global().async(group: group) {
      let handle = err.fileHandleForReading
      while true {
        let chunk = handle.availableData
        if chunk.isEmpty { break }
        errData.lock.withLock {
          errData.data.append(chunk)
          if let interrupt, let marker = interrupt.afterStderr, !errData.signalled,
            String(decoding: errData.data, as: UTF8.self).contains(marker)
          {
            errData.signalled = true
            send(interrupt)
          }
        }
      }
    }
    if let stdin { input.fileHandleForWriting.write(stdin) }
    try? input.fileHandleForWriting.close()
    process.waitUntilExit()
    errData.lock.withLock { errData.exited = true }
    group.wait()
    return Result(
      status: process.terminationStatus, stdout: outData.data, stderr: String(decoding: errData.data, as: UTF8.self),
      killedBySignal: process.terminationReason == .uncaughtSignal)
  }
}
