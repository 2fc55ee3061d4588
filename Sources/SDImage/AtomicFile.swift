#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation

/// Writes files so that readers see either the old content or the complete new content.
///
/// The data goes to a hidden temporary file in the target's folder (`.<name>.sdedit-tmp-<random>`),
/// is flushed to disk, and is renamed over the target. On any failure the temporary file is removed
/// and an existing target is left untouched. An existing target keeps its permission bits; a
/// symbolic link to a file is written through (the link stays). Targets that are not regular files
/// (`/dev/null`, a FIFO, a terminal) are written directly, never replaced. Temporary files are
/// listed in `TemporaryFiles`, which sdedit's SIGINT/SIGTERM handler empties; only a process killed
/// outright (SIGKILL) can leave one behind, and its name marks it as such.
public enum AtomicFile {
  /// Replaces `path` with `data`; "-" writes to standard output instead.
  public static func write(_ data: Data, to path: String) throws(FileError) {
    if path == "-" {
      try FileIO.writeAll(fd: STDOUT_FILENO, data, path: "stdout")
      return
    }
    var target = stat()
    guard stat(path, &target) == 0 else {
      return try replace(path, with: data, mode: nil)  // a new file (or a dangling link: replaced)
    }
    switch target.st_mode & S_IFMT {
    case S_IFDIR:
      throw .cannotWrite(path: path, reason: "is a directory")
    case S_IFREG:
      try replace(resolvedLink(path) ?? path, with: data, mode: target.st_mode & 0o7777)
    default:
      try writeInPlace(path, data)
    }
  }

  /// Temporary file + fsync + rename. `mode` nil: a new file (0666 narrowed by the umask).
  private static func replace(_ path: String, with data: Data, mode: mode_t?) throws(FileError) {
    let url = URL(fileURLWithPath: path)
    let temporary = url.deletingLastPathComponent().path + "/." + url.lastPathComponent
      + ".sdedit-tmp-" + randomSuffix()
    let fd = TemporaryFiles.create(temporary) { open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode ?? 0o666) }
    guard fd >= 0 else { throw .cannotWrite(path: path, reason: FileIO.lastError) }
    do throws(FileError) {
      defer { close(fd) }
      try FileIO.writeAll(fd: fd, data, path: path)
      if let mode { fchmod(fd, mode) }  // the old file's mode, whatever the umask
      guard fsync(fd) == 0 else { throw .cannotWrite(path: path, reason: FileIO.lastError) }
    } catch {
      TemporaryFiles.discard(temporary)
      throw error
    }
    let failure = TemporaryFiles.commit(temporary) { () -> String? in
      guard rename(temporary, path) != 0 else { return nil }
      let reason = FileIO.lastError
      unlink(temporary)
      return reason
    }
    if let failure { throw .cannotWrite(path: path, reason: failure) }
  }

  private static func writeInPlace(_ path: String, _ data: Data) throws(FileError) {
    let fd = open(path, O_WRONLY | O_TRUNC | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotWrite(path: path, reason: FileIO.lastError) }
    defer { close(fd) }
    try FileIO.writeAll(fd: fd, data, path: path)
  }

  /// The file a symbolic link finally points to; nil when `path` is not a link.
  private static func resolvedLink(_ path: String) -> String? {
    var info = stat()
    guard lstat(path, &info) == 0, (info.st_mode & S_IFMT) == S_IFLNK,
      let resolved = realpath(path, nil)
    else { return nil }
    defer { free(resolved) }
    return String(cString: resolved)
  }

  private static func randomSuffix() -> String {
    let alphabet = Array("abcdefghijklmnopqrstuvwxyz0123456789")
    return String((0..<10).map { _ in alphabet.randomElement()! })
  }
}
