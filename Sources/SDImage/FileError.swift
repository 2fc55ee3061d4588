/// Why a file could not be read or written. `reason` is the system's explanation (strerror).
public enum FileError: Error, Equatable, CustomStringConvertible {
  case cannotRead(path: String, reason: String)
  case cannotWrite(path: String, reason: String)

  public var description: String {
    switch self {
    case .cannotRead(let path, let reason): return "\(path): cannot read (\(reason))"
    case .cannotWrite(let path, let reason): return "\(path): cannot write (\(reason))"
    }
  }
}
