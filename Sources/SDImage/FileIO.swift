#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif
import Foundation

/// Whole-file reads and writes on POSIX descriptors, with `strerror` messages and EINTR retried.
public enum FileIO {
  static var lastError: String { String(cString: strerror(errno)) }

  /// Reads everything from `fd` until end of file. Throws with errno's message.
  static func readAll(fd: Int32, path: String) throws(FileError) -> Data {
    var data = Data()
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
      let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
      if n > 0 {
        data.append(contentsOf: chunk[0..<n])
      } else if n == 0 {
        return data
      } else if errno != EINTR {
        throw .cannotRead(path: path, reason: lastError)
      }
    }
  }

  /// Reads the file at `path` ("-" = standard input, reported as "stdin").
  public static func readFile(path: String) throws(FileError) -> Data {
    if path == "-" { return try readAll(fd: STDIN_FILENO, path: "stdin") }
    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .cannotRead(path: path, reason: lastError) }
    defer { close(fd) }
    var info = stat()
    if fstat(fd, &info) == 0 && (info.st_mode & S_IFMT) == S_IFDIR {
      throw .cannotRead(path: path, reason: "is a directory")
    }
    return try readAll(fd: fd, path: path)
  }

  /// Writes all of `data` to `fd`.
  static func writeAll(fd: Int32, _ data: Data, path: String) throws(FileError) {
    let failure: String? = data.withUnsafeBytes { bytes -> String? in
      var offset = 0
      while offset < bytes.count {
        let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
        if n > 0 {
          offset += n
        } else if n < 0 && errno == EINTR {
          continue
        } else {
          return n == 0 ? "wrote nothing" : lastError
        }
      }
      return nil
    }
    if let failure { throw .cannotWrite(path: path, reason: failure) }
  }
}
