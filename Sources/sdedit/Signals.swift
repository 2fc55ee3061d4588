#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation
import SDImage

/// SIGINT, SIGTERM and SIGHUP end a run cleanly: the temporary files of unfinished outputs
/// (`TemporaryFiles`) are deleted, finished outputs stay, and sdedit exits with 128 + the
/// signal number (130 for Ctrl-C, 143 for `kill`, 129 for a closed terminal), as a shell reports
/// a command killed by that signal.
///
/// Signals the parent process set to be ignored stay ignored, and the three are unblocked in
/// the main thread (threads started later inherit that).
///
/// The handler itself only writes the signal number to a pipe (write(2) is async-signal-safe,
/// and the signal may land on any thread, OpenBLAS's included); a waiting thread reads it and
/// does the clean-up, where taking a lock and freeing memory are allowed.
enum Signals {
  static let handled: [Int32] = [SIGINT, SIGTERM, SIGHUP]

  /// The pipe's write end, read by the handler: set once, before any handler is installed.
  nonisolated(unsafe) private static var notify: Int32 = -1

  /// Installs the handlers; call once, first thing in `main`.
  static func install() {
    var fds: [Int32] = [-1, -1]
    guard pipe(&fds) == 0 else { return }  // no pipe: keep the default actions
    _ = fcntl(fds[0], F_SETFD, FD_CLOEXEC)
    _ = fcntl(fds[1], F_SETFD, FD_CLOEXEC)
    notify = fds[1]
    let reader = fds[0]
    Thread.detachNewThread { waitAndExit(reader: reader) }
    var unblock = sigset_t()
    sigemptyset(&unblock)
    for signal in handled {
      // A signal the parent set to be ignored stays ignored (`nohup`, `cmd &` in a script).
      var current = sigaction()
      sigaction(signal, nil, &current)
      #if canImport(Glibc)
        let ignored = unsafeBitCast(current.__sigaction_handler.sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
      #else
        let ignored = unsafeBitCast(current.__sigaction_u.__sa_handler, to: Int.self) == unsafeBitCast(SIG_IGN, to: Int.self)
      #endif
      if ignored { continue }
      sigaddset(&unblock, signal)
      var action = sigaction()
      #if canImport(Glibc)
        action.__sigaction_handler.sa_handler = onSignal
      #else
        action.__sigaction_u.__sa_handler = onSignal
      #endif
      action.sa_flags = SA_RESTART
      sigemptyset(&action.sa_mask)
      sigaction(signal, &action, nil)
    }
    // A parent that spawned sdedit from a thread with these signals blocked (a Swift concurrency
    // or dispatch thread, for instance) passes the mask on; then no thread would ever take them.
    pthread_sigmask(SIG_UNBLOCK, &unblock, nil)
  }

  /// The signal handler: async-signal-safe, it only forwards the number.
  private static let onSignal: @convention(c) (Int32) -> Void = { signal in
    var byte = UInt8(truncatingIfNeeded: signal)
    _ = write(Signals.notify, &byte, 1)
  }

  /// Waits for a signal number on the pipe, removes the temporary files, reports and exits.
  private static func waitAndExit(reader: Int32) -> Never {
    var byte: UInt8 = 0
    while true {
      let n = read(reader, &byte, 1)
      if n == 1 { break }
      if n < 0 && errno == EINTR { continue }
      // The write end cannot close while the process runs; give up waiting if it does.
      while true { pause() }
    }
    let signal = Int32(byte)
    TemporaryFiles.removeAllAndHold()
    let name = [SIGINT: "SIGINT", SIGTERM: "SIGTERM", SIGHUP: "SIGHUP"][signal] ?? "signal \(signal)"
    let newline = isatty(STDERR_FILENO) == 1 ? "\n" : ""  // end a progress line first
    let message = Array("\(newline)sdedit: interrupted by \(name)\n".utf8)
    _ = message.withUnsafeBytes { write(STDERR_FILENO, $0.baseAddress, $0.count) }
    _exit(128 + signal)
  }
}
