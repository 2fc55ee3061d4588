/// Everything that can go wrong while reading, validating or looking up checkpoint weights.
///
/// Every case names the file (`path`: a file path, or the description of an in-memory store) and,
/// where one is involved, the tensor, so a user can tell which input is broken and how.
public enum CheckpointError: Error, Equatable, CustomStringConvertible {
  // MARK: Opening

  /// The path does not exist.
  case notFound(path: String)
  /// The path exists but could not be opened, inspected or mapped (a folder, no permission, …).
  case unreadable(path: String, reason: String)
  /// A pickled PyTorch file (`.ckpt`, `.pt`, `.pth`, `.bin`, or pickle/zip content); never loaded.
  case pickleRefused(path: String)

  // MARK: safetensors container

  /// Fewer than the 8 bytes that hold the header length.
  case fileTooShort(path: String, size: Int)
  /// The header length is larger than the 100 MB the format allows.
  case headerTooLarge(path: String, headerLength: UInt64)
  /// The header length points past the end of the file.
  case headerPastEnd(path: String, headerLength: UInt64, fileSize: Int)
  /// The header bytes are not valid UTF-8.
  case headerNotUTF8(path: String)
  /// The header is not well-formed JSON, or not a JSON object.
  case invalidHeader(path: String, reason: String)
  /// Two header entries share a tensor name.
  case duplicateTensor(name: String, path: String)
  /// `__metadata__` is not an object of string values.
  case invalidMetadata(path: String, reason: String)
  /// A tensor entry lacks `dtype`, `shape` or `data_offsets`, or one of them has the wrong type.
  case invalidEntry(tensor: String, path: String, reason: String)
  /// The `dtype` string is not one the safetensors format defines.
  case unknownDType(tensor: String, dtype: String, path: String)
  /// The shape's element count overflows or exceeds 2^34.
  case shapeTooLarge(tensor: String, shape: [Int], path: String)
  /// `data_offsets` has `end < begin` or points past the data buffer.
  case offsetsOutOfRange(tensor: String, begin: Int, end: Int, dataLength: Int, path: String)
  /// The byte range's length is not element count × dtype size.
  case byteLengthMismatch(tensor: String, dtype: String, shape: [Int], expected: Int, found: Int, path: String)
  /// Two tensors' byte ranges overlap.
  case overlappingTensors(first: String, second: String, path: String)
  /// Bytes of the data buffer that belong to no tensor (`begin..<end`, relative to the data start).
  case dataHole(begin: Int, end: Int, path: String)

  // MARK: Lookup

  /// The tensor exists but its dtype cannot be converted to Float32.
  case unsupportedDType(tensor: String, dtype: String, path: String)
  /// A module asked for a tensor the checkpoint does not have.
  case missingTensor(key: String, file: String)
  /// A module asked for a tensor with a shape other than the checkpoint's.
  case shapeMismatch(key: String, expected: [Int], found: [Int], file: String)

  /// A derived tensor (registered by a loader) failed to build with a non-checkpoint error.
  case derivationFailed(key: String, reason: String, file: String)

  // MARK: Writing

  /// Writing a safetensors file failed (the destination is left untouched).
  case writeFailed(path: String, reason: String)

  /// The file (or store description) the error is about.
  public var path: String? {
    switch self {
    case .notFound(let path), .unreadable(let path, _), .pickleRefused(let path), .fileTooShort(let path, _),
      .headerTooLarge(let path, _), .headerPastEnd(let path, _, _), .headerNotUTF8(let path),
      .invalidHeader(let path, _), .duplicateTensor(_, let path), .invalidMetadata(let path, _),
      .invalidEntry(_, let path, _), .unknownDType(_, _, let path), .shapeTooLarge(_, _, let path),
      .offsetsOutOfRange(_, _, _, _, let path), .byteLengthMismatch(_, _, _, _, _, let path),
      .overlappingTensors(_, _, let path), .dataHole(_, _, let path), .unsupportedDType(_, _, let path),
      .missingTensor(_, let path), .shapeMismatch(_, _, _, let path), .derivationFailed(_, _, let path),
      .writeFailed(let path, _):
      return path
    }
  }

  public var description: String {
    switch self {
    case .notFound(let path):
      return "\(path): no such file"
    case .unreadable(let path, let reason):
      return "\(path): cannot read checkpoint: \(reason)"
    case .pickleRefused(let path):
      return """
        \(path): refusing to load a pickled PyTorch checkpoint (.ckpt/.pt/.pth/.bin). \
        Unpickling can run arbitrary code. Convert it to .safetensors with a trusted tool \
        (for example the `safetensors` Python package, or diffusers' conversion scripts) \
        in an environment you trust, then pass the .safetensors file.
        """
    case .fileTooShort(let path, let size):
      return "\(path): not a safetensors file: \(size) bytes, shorter than the 8-byte header length"
    case .headerTooLarge(let path, let length):
      return "\(path): not a safetensors file: header length \(length) exceeds the 100 MB limit"
    case .headerPastEnd(let path, let length, let size):
      return """
        \(path): truncated or not a safetensors file: header length \(length) runs past the end \
        of the \(size)-byte file
        """
    case .headerNotUTF8(let path):
      return "\(path): safetensors header is not valid UTF-8"
    case .invalidHeader(let path, let reason):
      return "\(path): invalid safetensors header: \(reason)"
    case .duplicateTensor(let name, let path):
      return "\(path): tensor '\(name)' is listed more than once"
    case .invalidMetadata(let path, let reason):
      return "\(path): invalid __metadata__: \(reason)"
    case .invalidEntry(let tensor, let path, let reason):
      return "\(path): tensor '\(tensor)': \(reason)"
    case .unknownDType(let tensor, let dtype, let path):
      return "\(path): tensor '\(tensor)': unknown dtype '\(dtype)'"
    case .shapeTooLarge(let tensor, let shape, let path):
      return "\(path): tensor '\(tensor)': shape \(shape) has too many elements (limit 2^34)"
    case .offsetsOutOfRange(let tensor, let begin, let end, let dataLength, let path):
      let problem = end < begin ? "end before begin" : "past the end of the \(dataLength)-byte data buffer"
      return "\(path): tensor '\(tensor)': data_offsets [\(begin), \(end)] are invalid (\(problem))"
    case .byteLengthMismatch(let tensor, let dtype, let shape, let expected, let found, let path):
      return "\(path): tensor '\(tensor)': \(dtype) \(shape) needs \(expected) bytes but data_offsets span \(found)"
    case .overlappingTensors(let first, let second, let path):
      return "\(path): tensors '\(first)' and '\(second)' overlap in the data buffer"
    case .dataHole(let begin, let end, let path):
      return "\(path): data bytes \(begin)..<\(end) belong to no tensor (the buffer must be covered exactly)"
    case .unsupportedDType(let tensor, let dtype, let path):
      return "\(path): tensor '\(tensor)' has dtype \(dtype); only F32, F16 and BF16 convert to Float32"
    case .missingTensor(let key, let file):
      return "\(file): missing tensor '\(key)'"
    case .shapeMismatch(let key, let expected, let found, let file):
      return "\(file): tensor '\(key)' has shape \(found), expected \(expected)"
    case .derivationFailed(let key, let reason, let file):
      return "\(file): cannot build tensor '\(key)': \(reason)"
    case .writeFailed(let path, let reason):
      return "\(path): cannot write safetensors file: \(reason)"
    }
  }
}
