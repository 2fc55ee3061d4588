import CImageCodecs
import Foundation

/// An image decoded together with what else the file said.
public struct DecodedImage: Sendable {
  public var image: RGBImage
  public var format: ImageFormat
  /// PNG text chunks (tEXt, zTXt, iTXt) in file order; empty for JPEG.
  public var text: [(key: String, value: String)]
}

/// PNG and JPEG decoding and encoding in memory (libpng / libjpeg through the CImageCodecs shim).
///
/// Decoding reproduces what diffusers sees from `PIL.Image.open(f)` (Pillow 13): PNG of every colour
/// type and bit depth (16-bit samples keep their high byte; palettes, tRNS and Adam7 handled), JPEG
/// baseline/progressive/grayscale with libjpeg's default ISLOW IDCT and fancy upsampling.
/// The EXIF orientation (JPEG APP1, PNG eXIf) is applied as diffusers' `load_image` does with
/// Pillow's `ImageOps.exif_transpose` (`ExifOrientation`).
/// Limitations: CMYK/YCCK JPEG is refused; 16-bit gray PNG keeps the high byte where Pillow's
/// `convert("RGB")` clips values above 255.
public enum ImageCodec {
  /// Largest accepted width or height, checked from the header before any pixel memory is allocated.
  public static let maxSide = Int(CIC_MAX_SIDE)
  /// Largest accepted pixel count (2^28).
  public static let maxPixels = Int(CIC_MAX_PIXELS)

  /// Decodes PNG or JPEG bytes (format detected from the bytes) to RGB, or RGBA when the file has
  /// alpha (an alpha channel or a PNG tRNS chunk). `name` (a path or "stdin") appears in errors.
  public static func decode(_ data: Data, name: String) throws(ImageError) -> RGBImage {
    try decodeWithMetadata(data, name: name).image
  }

  /// `decode` plus the detected format and the PNG text chunks.
  public static func decodeWithMetadata(_ data: Data, name: String) throws(ImageError) -> DecodedImage {
    guard let format = ImageFormat.detect(data) else {
      throw .unknownFormat(name: name, prefix: [UInt8](data.prefix(4)))
    }
    var raw = cic_image()
    var message = [CChar](repeating: 0, count: 512)
    let status: Int32 = data.withUnsafeBytes { bytes in
      let base = bytes.bindMemory(to: UInt8.self).baseAddress
      return format == .png
        ? cic_png_decode(base, bytes.count, &raw, &message, message.count)
        : cic_jpeg_decode(base, bytes.count, &raw, &message, message.count)
    }
    defer { cic_image_free(&raw) }
    if status != Int32(CIC_OK.rawValue) {
      throw error(status: status, message: message, name: name, format: format, raw: raw)
    }
    let (width, height, channels) = (Int(raw.width), Int(raw.height), Int(raw.channels))
    let pixels = [UInt8](UnsafeBufferPointer(start: raw.pixels, count: width * height * channels))
    let image = RGBImage(width: width, height: height, channels: channels, pixels: pixels)
      .oriented(exif: ExifOrientation.read(data) ?? 1)
    return DecodedImage(image: image, format: format, text: texts(raw))
  }

  /// Encodes as PNG (8-bit gray, RGB or RGBA). Each text pair becomes a tEXt chunk when the value is
  /// Latin-1, else an iTXt chunk (UTF-8), as Pillow's `PngInfo.add_text`. Keys: 1-79 Latin-1
  /// characters without leading, trailing or double spaces. Values must not contain NUL.
  public static func encodePNG(
    _ image: RGBImage, text: [(String, String)] = [], name: String = "output"
  ) throws(ImageError) -> Data {
    var keys: [[CChar]] = []
    var values: [[CChar]] = []
    var utf8Flags: [Int32] = []
    for (key, value) in text {
      guard let keyBytes = key.data(using: .isoLatin1), !keyBytes.contains(0) else {
        throw .cannotEncode(name: name, format: .png, detail: "text key \"\(key)\" is not Latin-1")
      }
      guard !value.utf8.contains(0) else {
        throw .cannotEncode(name: name, format: .png, detail: "text value for \"\(key)\" contains NUL")
      }
      let latin1 = value.data(using: .isoLatin1)
      keys.append(keyBytes.map { CChar(bitPattern: $0) } + [0])
      values.append((latin1 ?? Data(value.utf8)).map { CChar(bitPattern: $0) } + [0])
      utf8Flags.append(latin1 == nil ? 1 : 0)
    }
    return try withCStringArray(keys) { keyPointers throws(ImageError) in
      try withCStringArray(values) { valuePointers throws(ImageError) in
        try encode(name: name, format: .png) { out, message in
          image.pixels.withUnsafeBufferPointer { px in
            cic_png_encode(
              px.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
              keyPointers, valuePointers, utf8Flags, keys.count, &out, &message, message.count)
          }
        }
      }
    }
  }

  /// Encodes as baseline JPEG, quality 1...100, 4:2:0 chroma subsampling (Pillow's defaults apart
  /// from quality). Gray stays one channel; alpha is dropped.
  public static func encodeJPEG(_ image: RGBImage, quality: Int = 90, name: String = "output") throws(ImageError) -> Data {
    guard (1...100).contains(quality) else {
      throw .cannotEncode(name: name, format: .jpeg, detail: "quality must be 1...100 (got \(quality))")
    }
    return try encode(name: name, format: .jpeg) { out, message in
      image.pixels.withUnsafeBufferPointer { px in
        cic_jpeg_encode(
          px.baseAddress, UInt32(image.width), UInt32(image.height), UInt32(image.channels),
          Int32(quality), &out, &message, message.count)
      }
    }
  }

  /// Encodes in `format`; `text` applies to PNG only, `quality` to JPEG only.
  public static func encode(
    _ image: RGBImage, as format: ImageFormat, text: [(String, String)] = [], quality: Int = 90,
    name: String = "output"
  ) throws(ImageError) -> Data {
    switch format {
    case .png: return try encodePNG(image, text: text, name: name)
    case .jpeg: return try encodeJPEG(image, quality: quality, name: name)
    }
  }
}
