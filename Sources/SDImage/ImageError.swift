/// Why an image could not be decoded or encoded. `name` is the file path, or "stdin"/"stdout".
/// Every message is one line that names the file and the problem.
public enum ImageError: Error, Equatable, CustomStringConvertible {
  /// The bytes are neither PNG nor JPEG; `prefix` holds up to their first 4 bytes.
  case unknownFormat(name: String, prefix: [UInt8])
  /// The data ends before the image does (`detail` may be empty).
  case truncated(name: String, format: ImageFormat, detail: String)
  /// Malformed data: bad header, CRC mismatch, broken compressed stream, ….
  case corrupt(name: String, format: ImageFormat, detail: String)
  /// Width or height over `ImageCodec.maxSide`, or more than `ImageCodec.maxPixels` pixels.
  case tooLarge(name: String, format: ImageFormat, width: Int, height: Int)
  /// A valid file of a kind sdedit does not handle (CMYK JPEG, ...).
  case unsupported(name: String, format: ImageFormat, detail: String)
  /// Encoding failed or was given bad arguments (text key, quality, size).
  case cannotEncode(name: String, format: ImageFormat, detail: String)
  case outOfMemory(name: String)

  public var description: String {
    switch self {
    case .unknownFormat(let name, let prefix) where prefix.isEmpty:
      return "\(name): empty file, not a PNG or JPEG image"
    case .unknownFormat(let name, let prefix):
      let hex = prefix.map { String($0, radix: 16, uppercase: true).leftPadded(to: 2) }.joined(separator: " ")
      return "\(name): not a PNG or JPEG image (starts with \(hex))"
    case .truncated(let name, let format, let detail):
      return "\(name): truncated \(format) data" + (detail.isEmpty ? "" : " (\(detail))")
    case .corrupt(let name, let format, let detail):
      return "\(name): corrupt \(format) data" + (detail.isEmpty ? "" : " (\(detail))")
    case .tooLarge(let name, let format, let width, let height):
      return "\(name): \(format) image is \(width)×\(height) pixels; the limit is "
        + "\(ImageCodec.maxSide) per side and \(ImageCodec.maxPixels) pixels"
    case .unsupported(let name, _, let detail):
      return "\(name): \(detail)"
    case .cannotEncode(let name, let format, let detail):
      return "\(name): cannot write \(format): \(detail)"
    case .outOfMemory(let name):
      return "\(name): out of memory"
    }
  }
}

extension String {
  fileprivate func leftPadded(to width: Int) -> String {
    count >= width ? self : String(repeating: "0", count: width - count) + self
  }
}
