import Foundation
import SDTensor

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// Writes `.safetensors` files: the layout of `safetensors.torch.save_file` (safetensors 0.8),
/// i.e. an 8-byte little-endian header length, a JSON header padded with spaces to a multiple of
/// 8 bytes, then the tensors' bytes back to back in header order.
///
/// The file is written to a temporary name in the destination folder and renamed into place,
/// so an interrupted write never leaves a partial file at `url`.
public enum SafeTensorsWriter {
  /// Writes `tensors` in the given order, stored as `dtype` (`.f32`, `.f16` or `.bf16`;
  /// narrowing rounds to nearest even).
  public static func write(
    _ tensors: [(String, Tensor)], metadata: [String: String]? = nil, dtype: SafeTensorsDType = .f32,
    to url: URL
  ) throws(CheckpointError) {
    let path = url.path
    guard dtype.convertsToFloat else {
      throw .writeFailed(path: path, reason: "cannot store Float32 tensors as \(dtype.rawValue)")
    }
    var seen = Set<String>()
    for (name, _) in tensors {
      guard name != "__metadata__" else { throw .writeFailed(path: path, reason: "'__metadata__' is not a tensor name") }
      guard seen.insert(name).inserted else { throw .duplicateTensor(name: name, path: path) }
    }

    let header = headerBytes(tensors.map { ($0.0, $0.1.shape) }, metadata: metadata, dtype: dtype)
    let tmp = url.deletingLastPathComponent()
      .appendingPathComponent(".\(url.lastPathComponent).tmp-\(UUID().uuidString)").path
    let fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
    guard fd >= 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
    var closed = false
    defer {
      if !closed { close(fd) }
    }
    do throws(CheckpointError) {
      var lengthField = UInt64(header.count).littleEndian
      if let failure = withUnsafeBytes(of: &lengthField, { writeAll(fd, $0, path) }) { throw failure }
      if let failure = header.withUnsafeBytes({ writeAll(fd, $0, path) }) { throw failure }
      for (_, tensor) in tensors {
        if let failure = writeData(tensor, dtype: dtype, fd: fd, path: path) { throw failure }
      }
      closed = true
      guard close(fd) == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
      guard rename(tmp, path) == 0 else { throw .writeFailed(path: path, reason: String(cString: strerror(errno))) }
    } catch {
      unlink(tmp)
      throw error
    }
  }

  /// Writes `tensors` sorted by name.
  public static func write(
    _ tensors: [String: Tensor], metadata: [String: String]? = nil, dtype: SafeTensorsDType = .f32,
    to url: URL
  ) throws(CheckpointError) {
    try write(tensors.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }, metadata: metadata, dtype: dtype, to: url)
  }

  /// The JSON header, space-padded to a multiple of 8 bytes (offsets assume the given order).
  static func headerBytes(_ entries: [(String, [Int])], metadata: [String: String]?, dtype: SafeTensorsDType) -> [UInt8] {
    var parts: [String] = []
    if let metadata {
      let fields = metadata.sorted { $0.key < $1.key }.map { "\(JSONString.literal($0.key)):\(JSONString.literal($0.value))" }
      parts.append("\"__metadata__\":{\(fields.joined(separator: ","))}")
    }
    var offset = 0
    for (name, shape) in entries {
      let end = offset + shape.reduce(1, *) * dtype.bitWidth / 8
      let dims = shape.map(String.init).joined(separator: ",")
      parts.append(
        "\(JSONString.literal(name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(dims)],\"data_offsets\":[\(offset),\(end)]}")
      offset = end
    }
    var bytes = Array("{\(parts.joined(separator: ","))}".utf8)
    bytes.append(contentsOf: repeatElement(UInt8(ascii: " "), count: (8 - bytes.count % 8) % 8))
    return bytes
  }


  /// Appends the tensor's bytes as `dtype`; returns the failure, if any.
  private static func writeData(_ tensor: Tensor, dtype: SafeTensorsDType, fd: Int32, path: String) -> CheckpointError? {
    tensor.withUnsafeBufferPointer { src -> CheckpointError? in
      guard let base = src.baseAddress, src.count > 0 else { return nil }
      if dtype == .f32 { return writeAll(fd, UnsafeRawBufferPointer(src), path) }
      // Narrow in chunks so the temporary stays small for large tensors.
      let chunk = 1 << 20
      var half = [UInt16](repeating: 0, count: min(chunk, src.count))
      var start = 0
      while start < src.count {
        let n = min(chunk, src.count - start)
        let failure = half.withUnsafeMutableBufferPointer { dst -> CheckpointError? in
          if dtype == .f16 {
            HalfConversion.floatToFloat16(base + start, dst.baseAddress!, count: n)
          } else {
            HalfConversion.floatToBFloat16(base + start, dst.baseAddress!, count: n)
          }
          return writeAll(fd, UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(dst)[0..<(n * 2)]), path)
        }
        if let failure { return failure }
        start += n
      }
      return nil
    }
  }

  /// Writes every byte (retrying short writes); returns the failure, if any.
  private static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer, _ path: String) -> CheckpointError? {
    var done = 0
    while done < bytes.count {
      let n = posixWrite(fd, bytes.baseAddress! + done, bytes.count - done)
      if n < 0 {
        if errno == EINTR { continue }
        return .writeFailed(path: path, reason: String(cString: strerror(errno)))
      }
      done += n
    }
    return nil
  }
}

/// POSIX `write(2)`, named apart from `SafeTensorsWriter.write`.
private func posixWrite(_ fd: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
  write(fd, buffer, count)
}
