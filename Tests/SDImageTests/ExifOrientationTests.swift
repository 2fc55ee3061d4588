import Foundation
import SDImage
import SDTestSupport
import Testing

/// EXIF orientation on input: Tests/Fixtures/images/exif (scripts/fixtures/exif_orientation.py)
/// holds JPEGs for all eight orientations (both byte orders, SHORT and LONG values), PNGs with an
/// eXIf chunk, and malformed blocks; each must decode to exactly what Pillow's
/// `ImageOps.exif_transpose(Image.open(f)).convert("RGB")` gives (diffusers' `load_image`).
@Suite struct ExifOrientationTests {
  struct Manifest: Decodable {
    struct Case: Decodable, CustomTestStringConvertible {
      let file: String
      let orientation: Int
      let width: Int
      let height: Int
      let rgb: String
      let transposed: Bool
      let pillow_error: String?
      var testDescription: String { file }
    }
    let cases: [Case]
  }

  static let cases: [Manifest.Case] =
    (try? JSONDecoder().decode(Manifest.self, from: Fixtures.data("images/exif/manifest.json")).cases) ?? []

  @Test func manifestCoversEveryOrientation() {
    let applied = Set(Self.cases.filter(\.transposed).map(\.orientation))
    #expect(applied == Set(2...8), "orientations with a transpose: \(applied.sorted())")
    #expect(Self.cases.contains { !$0.transposed && $0.orientation == 6 }, "malformed blocks are covered")
    #expect(Self.cases.contains { $0.file.hasSuffix(".png") && $0.transposed })
  }

  @Test(arguments: cases)
  func matchesPillowExifTranspose(_ c: Manifest.Case) throws {
    let data = try Fixtures.data("images/exif/" + c.file)
    let image = try ImageCodec.decode(data, name: c.file).rgb()
    #expect(image.width == c.width && image.height == c.height, "\(c.file): \(image.width)×\(image.height)")
    let expected = [UInt8](try Fixtures.data("images/exif/" + c.rgb))
    #expect(image.pixels == expected, "\(c.file): pixels differ from Pillow's exif_transpose")
  }

  @Test func filesReadThroughImageFileAreUpright() throws {
    let c = try #require(Self.cases.first { $0.file == "orientation6.jpg" })
    let image = try ImageFile.read(path: Fixtures.url("images/exif/" + c.file).path)
    #expect(image.width == c.width && image.height == c.height)
  }

  /// Each turn undone by its inverse, on gray, RGB and RGBA images of odd sizes.
  @Test(arguments: [1, 3, 4])
  func inversesCompose(channels: Int) {
    let image = RGBImage(
      width: 5, height: 3, channels: channels, pixels: (0..<(15 * channels)).map { UInt8(truncatingIfNeeded: $0 * 7 + 1) })
    let inverse = [1: 1, 2: 2, 3: 3, 4: 4, 5: 5, 6: 8, 7: 7, 8: 6]
    for (o, back) in inverse {
      #expect(image.oriented(exif: o).oriented(exif: back) == image, "orientation \(o) then \(back)")
    }
    #expect(image.oriented(exif: 6).width == image.height)
    #expect(image.oriented(exif: 9) == image)
  }

  /// Random bytes after an Exif header never crash the reader (the JPEG fuzzer covers it further).
  @Test func garbageExifIsIgnored() {
    var generator = SystemRandomNumberGenerator()
    for _ in 0..<2000 {
      let count = Int.random(in: 0..<64, using: &generator)
      let tiff = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
      var jpeg: [UInt8] = [0xFF, 0xD8, 0xFF, 0xE1, UInt8((count + 8) >> 8), UInt8((count + 8) & 0xFF)]
      jpeg += Array("Exif\0\0".utf8) + tiff + [0xFF, 0xD9]
      if let o = ExifOrientation.read(Data(jpeg)) { #expect((1...8).contains(o)) }
    }
  }
}
