import Foundation
import SDImage
import SDTestSupport
import Testing

/// Every decodable fixture gives exactly Pillow's pixels: `convert("RGB")` for the image and
/// `convert("L")` for `grayscale()` (the mask path).
@Suite struct DecodeParityTests {
  @Test func manifestIsPresent() {
    #expect(ImageManifest.shared != nil, "Tests/Fixtures/images/manifest.json missing or unreadable")
    #expect(ImageManifest.decodeFiles.count >= 25)
    #expect(ImageManifest.errorFiles.count >= 12)
  }

  @Test(arguments: ImageManifest.decodeFiles)
  func matchesPillow(file: String) throws {
    let entry = try #require(ImageManifest.entry(file))
    let decoded = try ImageCodec.decodeWithMetadata(ImageFixtures.data(file), name: file)
    let image = decoded.image
    #expect(decoded.format == (file.hasSuffix(".png") ? .png : .jpeg))
    #expect(image.width == entry.width && image.height == entry.height)
    #expect(image.hasAlpha == (entry.has_alpha ?? false), "alpha channel presence")

    let expectedRGB = [UInt8](try ImageFixtures.data(try #require(entry.rgb)))
    let rgb = image.rgb()
    #expect(rgb.channels == 3)
    #expect(rgb.pixels == expectedRGB, "\(file): \(mismatches(rgb.pixels, expectedRGB)) bytes differ from Pillow")

    let expectedL = [UInt8](try ImageFixtures.data(try #require(entry.gray)))
    let gray = image.grayscale()
    #expect(gray.pixels == expectedL, "\(file): \(mismatches(gray.pixels, expectedL)) luma bytes differ")
  }

  @Test func textChunksAreDecoded() throws {
    let entry = try #require(ImageManifest.entry("text_chunks.png"))
    let decoded = try ImageCodec.decodeWithMetadata(ImageFixtures.data("text_chunks.png"), name: "t.png")
    let expected = try #require(entry.text)
    #expect(decoded.text.map { [$0.key, $0.value] } == expected)
  }

  @Test func jpegHasNoText() throws {
    let decoded = try ImageCodec.decodeWithMetadata(ImageFixtures.data("baseline420.jpg"), name: "b.jpg")
    #expect(decoded.text.isEmpty)
    #expect(decoded.format == .jpeg)
  }

  private func mismatches(_ a: [UInt8], _ b: [UInt8]) -> Int {
    a.count != b.count ? max(a.count, b.count) : zip(a, b).filter { $0 != $1 }.count
  }
}
