import CImageCodecs
import Foundation

/// Glue between the C shim's status codes and buffers and the Swift API.
extension ImageCodec {
  static func error(
    status: Int32, message: [CChar], name: String, format: ImageFormat, raw: cic_image
  ) -> ImageError {
    let detail = String(decoding: message.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    switch UInt32(status) {
    case CIC_TRUNCATED.rawValue: return .truncated(name: name, format: format, detail: detail)
    case CIC_TOO_LARGE.rawValue:
      return .tooLarge(name: name, format: format, width: Int(raw.width), height: Int(raw.height))
    case CIC_UNSUPPORTED.rawValue: return .unsupported(name: name, format: format, detail: detail)
    case CIC_NO_MEMORY.rawValue: return .outOfMemory(name: name)
    case CIC_INVALID_ARGUMENT.rawValue: return .cannotEncode(name: name, format: format, detail: detail)
    default: return .corrupt(name: name, format: format, detail: detail)
    }
  }

  /// PNG text chunks: tEXt/zTXt values are Latin-1, iTXt values UTF-8.
  static func texts(_ raw: cic_image) -> [(key: String, value: String)] {
    (0..<raw.text_count).map { i in
      let t = raw.text[i]
      let key = String(cString: t.key, encoding: .isoLatin1) ?? ""
      let bytes = UnsafeBufferPointer(start: UnsafeRawPointer(t.value).assumingMemoryBound(to: UInt8.self),
                                      count: t.value_length)
      let value = t.value_is_utf8 != 0
        ? String(decoding: bytes, as: UTF8.self)
        : String(bytes.lazy.map { Character(Unicode.Scalar($0)) })
      return (key, value)
    }
  }

  /// Runs one C encoder and turns its buffer into `Data`, or its status into an `ImageError`.
  static func encode(
    name: String, format: ImageFormat, _ body: (inout cic_buffer, inout [CChar]) -> Int32
  ) throws(ImageError) -> Data {
    var out = cic_buffer()
    var message = [CChar](repeating: 0, count: 512)
    let status = body(&out, &message)
    defer { cic_buffer_free(&out) }
    guard status == Int32(CIC_OK.rawValue) else {
      let e = error(status: status, message: message, name: name, format: format, raw: cic_image())
      if case .corrupt(_, _, let detail) = e { throw .cannotEncode(name: name, format: format, detail: detail) }
      throw e
    }
    return Data(bytes: out.bytes, count: out.length)
  }

  /// Calls `body` with a C array of pointers to the NUL-terminated strings in `strings`.
  static func withCStringArray<R>(
    _ strings: [[CChar]], _ body: ([UnsafePointer<CChar>?]) throws(ImageError) -> R
  ) throws(ImageError) -> R {
    var pointers: [UnsafePointer<CChar>?] = []
    var storage: [UnsafeMutablePointer<CChar>] = []
    defer { storage.forEach { $0.deallocate() } }
    for s in strings {
      let p = UnsafeMutablePointer<CChar>.allocate(capacity: s.count)
      p.initialize(from: s, count: s.count)
      storage.append(p)
      pointers.append(UnsafePointer(p))
    }
    return try body(pointers)
  }
}
