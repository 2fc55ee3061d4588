import Foundation

/// The file formats sdedit reads and writes.
public enum ImageFormat: String, Sendable, CaseIterable, CustomStringConvertible {
  case png
  case jpeg

  public var description: String { self == .png ? "PNG" : "JPEG" }

  /// The format whose signature starts `data`, or nil. PNG: the 8-byte signature 89 50 4E 47 0D 0A 1A 0A;
  /// JPEG: an SOI marker followed by another marker (FF D8 FF). Shorter prefixes of a signature (a
  /// truncated file) are recognised too, so they are reported as truncated rather than unknown.
  public static func detect(_ data: Data) -> ImageFormat? {
    let head = [UInt8](data.prefix(8))
    if !head.isEmpty && head.elementsEqual(pngSignature.prefix(head.count)) { return .png }
    if !head.isEmpty && head.prefix(3).elementsEqual(jpegSignature.prefix(min(3, head.count))) { return .jpeg }
    return nil
  }

  /// The format a path's extension names (`.png`; `.jpg`, `.jpeg`, `.jpe`, `.jfif`), case-insensitive.
  public init?(pathExtension path: String) {
    switch (path as NSString).pathExtension.lowercased() {
    case "png": self = .png
    case "jpg", "jpeg", "jpe", "jfif": self = .jpeg
    default: return nil
    }
  }

  static let pngSignature: [UInt8] = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A]
  static let jpegSignature: [UInt8] = [0xFF, 0xD8, 0xFF]
}
