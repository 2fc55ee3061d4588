import Foundation
import SDImage
import SDTestSupport
import Testing

/// Encode → decode round trips and encoder argument checks.
@Suite struct RoundTripTests {
  @Test(arguments: [(1, 1), (17, 9), (64, 33)])
  func pngRoundTripIsLossless(width: Int, height: Int) throws {
    for channels in [3, 4] {
      let image = ImageFixtures.pattern(width: width, height: height, channels: channels)
      let back = try ImageCodec.decode(ImageCodec.encodePNG(image), name: "rt.png")
      #expect(back == image)
    }
  }

  @Test func grayPNGDecodesToReplicatedRGB() throws {
    let gray = ImageFixtures.pattern(width: 13, height: 7, channels: 1)
    let back = try ImageCodec.decode(ImageCodec.encodePNG(gray), name: "g.png")
    #expect(back == gray.rgb())
    #expect(back.grayscale() == gray)
  }

  @Test(arguments: [(32, 32, 95, 38.0), (33, 17, 90, 33.0), (1, 1, 50, 30.0)])
  func jpegRoundTripIsClose(width: Int, height: Int, quality: Int, minimumPSNR: Double) throws {
    let image = ImageFixtures.pattern(width: width, height: height, channels: 3)
    let data = try ImageCodec.encodeJPEG(image, quality: quality)
    #expect(ImageFormat.detect(data) == .jpeg)
    let back = try ImageCodec.decode(data, name: "rt.jpg")
    #expect(back.width == width && back.height == height && back.channels == 3)
    let psnr = Compare.psnr(back.pixels, image.pixels)
    #expect(psnr >= minimumPSNR, "PSNR \(psnr) dB at quality \(quality)")
  }

  @Test func jpegQualityChangesSize() throws {
    let image = ImageFixtures.pattern(width: 64, height: 64, channels: 3)
    #expect(try ImageCodec.encodeJPEG(image, quality: 20).count < ImageCodec.encodeJPEG(image, quality: 95).count)
  }

  @Test func jpegDropsAlphaAndKeepsGray() throws {
    let rgba = ImageFixtures.pattern(width: 16, height: 16, channels: 4)
    let fromRGBA = try ImageCodec.decode(ImageCodec.encodeJPEG(rgba, quality: 100), name: "a.jpg")
    let fromRGB = try ImageCodec.decode(ImageCodec.encodeJPEG(rgba.rgb(), quality: 100), name: "b.jpg")
    #expect(fromRGBA == fromRGB)
    let gray = ImageFixtures.pattern(width: 16, height: 16, channels: 1)
    let back = try ImageCodec.decode(ImageCodec.encodeJPEG(gray, quality: 100), name: "g.jpg")
    #expect(Compare.psnr(back.grayscale().pixels, gray.pixels) > 40)
  }

  @Test func textChunksRoundTrip() throws {
    let text = [
      ("parameters", "a cat on a mat\nNegative prompt: dog\nSteps: 20, Sampler: Euler a, Seed: 42"),
      ("Comment", "café (Latin-1 → tEXt)"),
      ("Prompt", "猫 🐈 (not Latin-1 → iTXt)"),
      ("Empty", ""),
    ]
    let image = ImageFixtures.pattern(width: 8, height: 8, channels: 3)
    let decoded = try ImageCodec.decodeWithMetadata(ImageCodec.encodePNG(image, text: text), name: "t.png")
    #expect(decoded.text.map(\.key) == text.map(\.0))
    #expect(decoded.text.map(\.value) == text.map(\.1))
    #expect(decoded.image == image)
  }

  @Test func latin1TextIsWrittenAsTEXt() throws {
    let image = ImageFixtures.pattern(width: 2, height: 2, channels: 3)
    let latin = try ImageCodec.encodePNG(image, text: [("parameters", "café")])
    let unicode = try ImageCodec.encodePNG(image, text: [("parameters", "猫")])
    #expect(latin.range(of: Data("tEXtparameters\0caf\u{E9}".utf8)) == nil)  // é is one byte, not UTF-8
    #expect(latin.range(of: Data("tEXtparameters\0caf".utf8) + Data([0xE9])) != nil)
    #expect(unicode.range(of: Data("iTXtparameters".utf8)) != nil)
  }

  @Test(arguments: ["", " lead", "trail ", "double  space", String(repeating: "k", count: 80), "tab\tkey", "日本"])
  func invalidTextKeysAreRefused(key: String) {
    let image = ImageFixtures.pattern(width: 2, height: 2, channels: 3)
    #expect(throws: ImageError.self) { try ImageCodec.encodePNG(image, text: [(key, "v")]) }
  }

  @Test func invalidEncoderArgumentsAreRefused() {
    let image = ImageFixtures.pattern(width: 2, height: 2, channels: 3)
    for quality in [0, 101, -5] {
      #expect(throws: ImageError.self) { try ImageCodec.encodeJPEG(image, quality: quality) }
    }
    #expect(throws: ImageError.self) { try ImageCodec.encodePNG(image, text: [("k", "a\0b")]) }
    do {
      _ = try ImageCodec.encodeJPEG(image, quality: 0, name: "out.jpg")
    } catch {
      #expect(error.description == "out.jpg: cannot write JPEG: quality must be 1...100 (got 0)")
    }
  }
}
