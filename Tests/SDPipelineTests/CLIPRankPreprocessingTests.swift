import Foundation
import SDImage
import SDModels
import SDTensor
import SDTestSupport
import Testing

@testable import SDPipeline

/// Pillow-exact resampling (`SDImage.RGBImage.resized`) and the CLIP image processor on more shapes:
/// scripts/fixtures/clip_rank.py writes Pillow 13's `Image.resize` outputs for every filter and the
/// uint8 image transformers' CLIPImageProcessor normalises (tall, large, RGBA, tiny inputs).
@Suite struct CLIPRankPreprocessingTests {
  static let index: [String: Any] = {
    guard let data = try? Fixtures.data("reference/clip_rank/index.json"),
      let json = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    return json
  }()

  static var resizes: [[String: Any]] { index["resizes"] as? [[String: Any]] ?? [] }
  static var processed: [[String: Any]] { index["processed"] as? [[String: Any]] ?? [] }

  static func image(_ file: String) throws -> RGBImage {
    try ImageFile.read(path: Fixtures.url("reference/clip_rank/\(file)").path)
  }

  @Test func fixturesArePresent() {
    #expect(Self.resizes.count == 20 && Self.processed.count == 5)
  }

  @Test(arguments: 0..<20)
  func resizeMatchesPillow(index: Int) throws {
    guard index < Self.resizes.count else { return }
    let entry = Self.resizes[index]
    let source = try Self.image("src_\(entry["source"] as! String).png")
    let filter = ResampleFilter(rawValue: entry["filter"] as! String)!
    let ours = source.resized(width: entry["width"] as! Int, height: entry["height"] as! Int, filter: filter)
    let ref = try Self.image(entry["file"] as! String)
    #expect(ours.width == ref.width && ours.height == ref.height)
    let differing = zip(ours.pixels, ref.pixels).filter { $0 != $1 }.count
    #expect(ours.pixels.count == ref.pixels.count && differing == 0, "\(entry["file"]!): \(differing) bytes differ")
    // A region alone (what the CLIP center crop asks for) is the same bytes.
    let (columns, rows) = (2..<min(ref.width, 41), 1..<min(ref.height, 23))
    let region = source.resized(width: ref.width, height: ref.height, filter: filter, columns: columns, rows: rows)
    var expected = [UInt8]()
    for y in rows { expected += ref.pixels[(y * ref.width + columns.lowerBound) * 3..<(y * ref.width + columns.upperBound) * 3] }
    #expect(region.width == columns.count && region.height == rows.count && region.pixels == expected, "\(entry["file"]!) region")
  }

  @Test func extremeAspectRatiosStayCheap() {
    // 1×6000 → resized to 224×1_344_000, of which only the 224×224 crop is computed.
    let strip = RGBImage(width: 1, height: 6000, channels: 3, pixels: (0..<18000).map { UInt8($0 % 251) })
    let out = CLIPImageProcessor.openAI.processedImage(strip)
    #expect(out.width == 224 && out.height == 224)
    let wide = RGBImage(width: 5000, height: 2, channels: 3, repeating: 40)
    #expect(CLIPImageProcessor.openAI.processedImage(wide).pixels.allSatisfy { $0 == 40 })
  }

  @Test(arguments: 0..<5)
  func processedImageMatchesTransformers(index: Int) throws {
    guard index < Self.processed.count else { return }
    let entry = Self.processed[index]
    let source = try Self.image("src_\(entry["source"] as! String).png")
    let ours = CLIPImageProcessor.openAI.processedImage(source)
    let ref = try Self.image(entry["file"] as! String)
    let differing = zip(ours.pixels, ref.pixels).filter { $0 != $1 }.count
    #expect(ours.pixels.count == ref.pixels.count && differing == 0, "\(entry["file"]!): \(differing) bytes differ")
    // pixel_values (normalised) channel sums, within 1e-3 relative.
    let pixels = CLIPImageProcessor.openAI.pixelValues([source])
    let refSums = (entry["pixel_values_channel_sum"] as! [NSNumber]).map(\.doubleValue)
    for c in 0..<3 {
      let sum = pixels.data[c * 50176..<(c + 1) * 50176].reduce(0.0) { $0 + Double($1) }
      #expect(abs(sum - refSums[c]) <= 1e-3 * max(1, abs(refSums[c])), "channel \(c): \(sum) vs \(refSums[c])")
    }
  }

  @Test func resizeKeepsSizeAndHandlesGrayAndRGBA() {
    let gray = RGBImage(width: 5, height: 3, channels: 1, pixels: Array(0..<15).map { UInt8($0 * 17) })
    #expect(gray.resized(width: 5, height: 3) == gray)
    let up = gray.resized(width: 9, height: 7, filter: .bilinear)
    #expect(up.width == 9 && up.height == 7 && up.channels == 1)
    let flat = RGBImage(width: 13, height: 11, channels: 4, repeating: 77)
    #expect(flat.resized(width: 4, height: 29, filter: .lanczos).pixels.allSatisfy { $0 == 77 })
  }

  @Test func shortestEdgeSizesFollowTransformers() {
    let size = CLIPImageProcessor.Size.shortestEdge(224)
    #expect(CLIPImageProcessor.resizedSize(width: 300, height: 200, size: size) == (336, 224))
    #expect(CLIPImageProcessor.resizedSize(width: 100, height: 160, size: size) == (224, 358))
    #expect(CLIPImageProcessor.resizedSize(width: 30, height: 257, size: size) == (224, 1918))
    #expect(CLIPImageProcessor.resizedSize(width: 50, height: 50, size: size) == (224, 224))
  }

  @Test func centerCropPadsSmallImagesWithZeros() {
    let image = RGBImage(width: 3, height: 2, channels: 3, repeating: 9)
    let out = CLIPImageProcessor.centerCropped(image, width: 6, height: 4)
    // Pad before = ceil((6 − 3) / 2) = 2 columns, ceil((4 − 2) / 2) = 1 row.
    for y in 0..<4 {
      for x in 0..<6 {
        let inside = (2..<5).contains(x) && (1..<3).contains(y)
        #expect(Array(out[x, y]) == [UInt8](repeating: inside ? 9 : 0, count: 3), "(\(x), \(y))")
      }
    }
    let big = RGBImage(width: 5, height: 5, channels: 1, pixels: Array(0..<25).map(UInt8.init))
    #expect(CLIPImageProcessor.centerCropped(big, width: 2, height: 2).pixels == [6, 7, 11, 12])
  }

  @Test func alphaIsCompositedOnWhite() {
    let rgba = RGBImage(width: 3, height: 1, channels: 4, pixels: [10, 20, 30, 0, 10, 20, 30, 255, 0, 100, 200, 128])
    let rgb = CLIPImageProcessor.convertToRGB(rgba)
    #expect(rgb.pixels[0..<6] == [255, 255, 255, 10, 20, 30])
    // Pillow: 0 over white at alpha 128 → 127, 100 → 177, 200 → 227.
    #expect(Array(rgb.pixels[6..<9]) == [127, 177, 227])
  }

  @Test func readsPreprocessorConfigs() throws {
    func parse(_ values: [String: Any]) throws -> CLIPImageProcessor {
      try CLIPImageProcessor(config: JSONConfig(values: values, source: "test"))
    }
    #expect(try parse([:]) == .openAI)
    let legacy = try parse(["size": ["shortest_edge": 336], "crop_size": ["height": 336, "width": 336], "resample": 2])
    #expect(legacy.size == .shortestEdge(336) && legacy.cropSize == .init(width: 336, height: 336) && legacy.filter == .bilinear)
    let plain = try parse(["do_normalize": false, "do_rescale": false, "do_center_crop": false, "size": ["height": 8, "width": 6]])
    #expect(plain.mean == nil && plain.rescaleFactor == nil && plain.cropSize == nil)
    #expect(plain.outputSize == .init(width: 6, height: 8))
    let values = plain.normalized(RGBImage(width: 2, height: 1, channels: 3, pixels: [1, 2, 3, 4, 5, 6]))
    #expect(values.data == [1, 4, 2, 5, 3, 6])
    for bad: [String: Any] in [["resample": 0], ["size": -3], ["image_std": [1, 0, 1]], ["image_mean": [1, 2]],
                               ["size": ["longest_edge": 100]], ["crop_size": ["shortest_edge": 5]]] {
      #expect(throws: ConfigError.self, "\(bad)") { try parse(bad) }
    }
  }
}
