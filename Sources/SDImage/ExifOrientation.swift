import Foundation

/// The EXIF orientation tag (0x0112 in IFD0) of a JPEG (the first APP1 `Exif\0\0` segment) or a
/// PNG (its `eXIf` chunk), as Pillow's `ImageOps.exif_transpose` reads it; diffusers' `load_image`
/// applies it, and so does sdedit on every image it reads (`ImageCodec.decode`).
///
/// Values 1…8 (TIFF 6.0 / EXIF 2.3): 1 as stored, 2 mirrored, 3 rotated 180°, 4 flipped, 5
/// transposed, 6 needs a 90° clockwise turn, 7 transversed, 8 needs a 90° counter-clockwise turn.
/// Every length and offset is checked against the bytes before it is used; anything malformed,
/// missing or out of range reads as nil (no change), never as an error: the pixels are still good.
public enum ExifOrientation {
  /// The orientation of an image file's bytes (PNG or JPEG), or nil.
  public static func read(_ data: Data) -> Int? {
    data.withUnsafeBytes { raw -> Int? in
      let bytes = raw.bindMemory(to: UInt8.self)
      switch ImageFormat.detect(data) {
      case .jpeg?: return jpeg(bytes)
      case .png?: return png(bytes)
      case nil: return nil
      }
    }
  }

  /// Walks the JPEG markers up to the first scan, for the first APP1 segment holding `Exif\0\0`.
  static func jpeg(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
    guard b.count >= 4, b[0] == 0xFF, b[1] == 0xD8 else { return nil }
    var i = 2
    while i + 4 <= b.count {
      guard b[i] == 0xFF else { return nil }
      let marker = b[i + 1]
      if marker == 0xFF { i += 1; continue }  // fill byte
      if marker == 0x01 || (0xD0...0xD8).contains(marker) { i += 2; continue }  // no length
      if marker == 0xDA || marker == 0xD9 { return nil }  // start of scan / end of image
      let length = Int(b[i + 2]) << 8 | Int(b[i + 3])  // includes its own 2 bytes
      guard length >= 2, i + 2 + length <= b.count else { return nil }
      let payload = (i + 4)..<(i + 2 + length)
      if marker == 0xE1, payload.count >= 6, Array(b[payload.prefix(6)]) == Array("Exif\0\0".utf8) {
        return tiff(UnsafeBufferPointer(rebasing: b[(payload.lowerBound + 6)..<payload.upperBound]))
      }
      i += 2 + length
    }
    return nil
  }

  /// Walks the PNG chunks for `eXIf` (raw TIFF data).
  static func png(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
    var i = 8
    while i + 12 <= b.count {
      let length = Int(be32(b, i))
      guard length <= b.count - i - 12 else { return nil }
      let type = Array(b[(i + 4)..<(i + 8)])
      if type == Array("eXIf".utf8) { return tiff(UnsafeBufferPointer(rebasing: b[(i + 8)..<(i + 8 + length)])) }
      if type == Array("IEND".utf8) { return nil }
      i += 12 + length
    }
    return nil
  }

  /// Reads tag 0x0112 from IFD0 of a TIFF structure ("II" or "MM" byte order).
  static func tiff(_ b: UnsafeBufferPointer<UInt8>) -> Int? {
    guard b.count >= 8 else { return nil }
    let little: Bool
    switch (b[0], b[1]) {
    case (0x49, 0x49): little = true
    case (0x4D, 0x4D): little = false
    default: return nil
    }
    func u16(_ at: Int) -> Int { little ? Int(b[at]) | Int(b[at + 1]) << 8 : Int(b[at]) << 8 | Int(b[at + 1]) }
    func u32(_ at: Int) -> Int { little ? u16(at) | u16(at + 2) << 16 : u16(at) << 16 | u16(at + 2) }
    guard u16(2) == 42 else { return nil }
    let ifd = u32(4)
    guard ifd >= 8, ifd <= b.count - 2 else { return nil }
    let entries = u16(ifd)
    for k in 0..<entries {
      let entry = ifd + 2 + 12 * k
      guard entry <= b.count - 12 else { return nil }
      guard u16(entry) == 0x0112 else { continue }
      let type = u16(entry + 2), count = u32(entry + 4)
      guard count >= 1 else { return nil }
      let value: Int
      switch type {
      case 3: value = u16(entry + 8)  // SHORT, stored in the first two bytes of the value field
      case 4: value = u32(entry + 8)  // LONG
      default: return nil
      }
      return (1...8).contains(value) ? value : nil
    }
    return nil
  }

  private static func be32(_ b: UnsafeBufferPointer<UInt8>, _ at: Int) -> UInt32 {
    UInt32(b[at]) << 24 | UInt32(b[at + 1]) << 16 | UInt32(b[at + 2]) << 8 | UInt32(b[at + 3])
  }
}
