import Foundation
import SDImage
import Testing

/// Formats come from the bytes; extensions only choose the output format.
@Suite struct FormatDetectionTests {
  @Test func detectsFromMagicBytes() throws {
    #expect(ImageFormat.detect(try ImageFixtures.data("rgb8.png")) == .png)
    #expect(ImageFormat.detect(try ImageFixtures.data("progressive.jpg")) == .jpeg)
    #expect(ImageFormat.detect(Data([0x89, 0x50, 0x4E])) == .png)  // a truncated signature is still PNG
    #expect(ImageFormat.detect(Data([0xFF, 0xD8])) == .jpeg)
    #expect(ImageFormat.detect(Data("GIF89a".utf8)) == nil)
    #expect(ImageFormat.detect(Data()) == nil)
    #expect(ImageFormat.detect(Data([0x89, 0x50, 0x4E, 0x46])) == nil)
  }

  @Test func extensionIsIgnoredWhenDecoding() throws {
    // A PNG named .jpg decodes as PNG.
    let decoded = try ImageCodec.decodeWithMetadata(ImageFixtures.data("rgb8.png"), name: "misnamed.jpg")
    #expect(decoded.format == .png)
  }

  @Test func unknownBytesNameTheirPrefix() {
    #expect(throws: ImageError.unknownFormat(name: "stdin", prefix: [0x47, 0x49, 0x46, 0x38])) {
      try ImageCodec.decode(Data("GIF89a;".utf8), name: "stdin")
    }
    let gif = ImageError.unknownFormat(name: "stdin", prefix: [0x47, 0x49, 0x46, 0x38])
    #expect(gif.description == "stdin: not a PNG or JPEG image (starts with 47 49 46 38)")
    #expect(ImageError.unknownFormat(name: "e.png", prefix: []).description == "e.png: empty file, not a PNG or JPEG image")
  }

  @Test func extensionsChooseOutputFormat() {
    #expect(ImageFormat(pathExtension: "out/a.PNG") == .png)
    #expect(ImageFormat(pathExtension: "a.jpg") == .jpeg)
    #expect(ImageFormat(pathExtension: "a.JPEG") == .jpeg)
    #expect(ImageFormat(pathExtension: "a.webp") == nil)
    #expect(ImageFormat(pathExtension: "noext") == nil)
  }
}
