#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation

/// The temporary files this process has created and not yet renamed or removed, so that an
/// interrupted run (SIGINT, SIGTERM) can delete them before it exits.
///
/// `AtomicFile` creates, renames and removes its temporary files through `create`, `commit` and
/// `discard`, each under one lock. The interrupt handler calls
/// `removeAllAndHold()`, which takes the lock and never gives it back: either a rename already
/// happened (the output is complete) or it never will (the temporary file is gone).
public enum TemporaryFiles {
  private static let lock = NSLock()
  nonisolated(unsafe) private static var paths = Set<String>()

  /// Creates the temporary file `path` with `open` (which returns a descriptor or -1) and records
  /// it, both under the lock, so an interrupt sees the file either not yet created or registered.
  static func create(_ path: String, _ open: () -> Int32) -> Int32 {
    lock.withLock {
      let fd = open()
      if fd >= 0 { paths.insert(path) }
      return fd
    }
  }

  /// Renames `path` into place with `rename` (nil on success, else the reason, after removing
  /// `path`), then forgets it, under the lock.
  static func commit(_ path: String, _ rename: () -> String?) -> String? {
    lock.withLock {
      let failure = rename()
      paths.remove(path)
      return failure
    }
  }

  /// Removes the temporary file `path` and forgets it.
  static func discard(_ path: String) {
    lock.withLock {
      unlink(path)
      _ = paths.remove(path)
    }
  }

  /// The temporary paths currently registered (for tests).
  public static var live: [String] { lock.withLock { paths.sorted() } }

  /// Deletes every registered temporary file and keeps the lock, so no rename can follow.
  /// Only for a process about to exit (the interrupt handler): any later `create`, `commit` or
  /// `discard` blocks forever.
  public static func removeAllAndHold() {
    lock.lock()
    for path in paths { unlink(path) }
    paths.removeAll()
  }
}
