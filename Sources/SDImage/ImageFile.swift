import Foundation

/// Reading and writing image files; "-" means standard input / standard output.
public enum ImageFile {
  /// Reads and decodes the PNG or JPEG at `path` (format from the bytes, not the extension).
  /// "-" reads all of standard input, and errors name it "stdin".
  /// Throws `FileError` when the file cannot be read, `ImageError` when it is not a usable image.
  public static func read(path: String) throws -> RGBImage {
    try readWithMetadata(path: path).image
  }

  /// `read(path:)` plus the format and PNG text chunks.
  public static func readWithMetadata(path: String) throws -> DecodedImage {
    let data = try FileIO.readFile(path: path)
    return try ImageCodec.decodeWithMetadata(data, name: displayName(path))
  }

  /// Encodes `image` and writes it to `path` atomically (see `AtomicFile`); "-" writes to stdout.
  /// - Parameters:
  ///   - format: nil picks it from the extension (.png, .jpg/.jpeg); PNG when the extension is
  ///     neither or the path is "-".
  ///   - text: PNG text chunks (e.g. `[("parameters", …)]`); ignored for JPEG.
  ///   - quality: JPEG quality 1...100; ignored for PNG.
  /// Throws `ImageError` when encoding fails (nothing is written) and `FileError` when writing does.
  public static func write(
    _ image: RGBImage, to path: String, format: ImageFormat? = nil, text: [(String, String)] = [],
    quality: Int = 90
  ) throws {
    let chosen = format ?? (path == "-" ? nil : ImageFormat(pathExtension: path)) ?? .png
    let data = try ImageCodec.encode(image, as: chosen, text: text, quality: quality, name: displayName(path, output: true))
    try AtomicFile.write(data, to: path)
  }

  static func displayName(_ path: String, output: Bool = false) -> String {
    path == "-" ? (output ? "stdout" : "stdin") : path
  }
}
