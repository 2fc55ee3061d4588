import Foundation
import SDImage
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// Tile geometry, and tiled against untiled upscales: exact where the pad covers the network's
/// receptive field (the synthetic net, animevideov3), within 1 grey level for x4plus.
@Suite struct RealESRGANTilingTests {
  typealias S = RealESRGANTestSupport

  @Test(arguments: [1, 15, 16, 17, 100, 255, 256, 257, 600])
  func spansCoverTheAxisAndWeightsSumToOne(length: Int) {
    for tiling in [RealESRGANTiling(tileSize: 16, pad: 3, feather: 8), RealESRGANTiling(tileSize: 64, pad: 24, feather: 32),
      RealESRGANTiling(tileSize: 32, pad: 10, feather: 0), RealESRGANTiling(tileSize: 0, pad: 5, feather: 0)]
    {
      let spans = tiling.spans(length: length)
      #expect(spans.first?.core.lowerBound == 0 && spans.last?.core.upperBound == length)
      for (a, b) in zip(spans, spans.dropFirst()) { #expect(a.core.upperBound == b.core.lowerBound) }
      #expect(spans.allSatisfy { tiling.tileSize == 0 || $0.core.count <= tiling.tileSize })
      for s in [1, 3, 4] {
        for u in 0..<(length * s) {
          let total = spans.filter { ($0.kept.lowerBound * s..<$0.kept.upperBound * s).contains(u) }
            .reduce(Float(0)) { $0 + $1.weight(output: u, scale: s) }
          #expect(abs(total - 1) < 1e-6, "tiling \(tiling), length \(length), scale \(s), pixel \(u): weights sum to \(total)")
        }
      }
      for (i, span) in spans.enumerated() {
        let before = i == 0 ? tiling.borderPad : tiling.pad, after = i == spans.count - 1 ? tiling.borderPad : tiling.pad
        #expect(span.computed == (span.kept.lowerBound - before)..<(span.kept.upperBound + after))
      }
    }
  }

  @Test func rejectsBadTilings() {
    #expect(throws: RealESRGANError.self) { try RealESRGANTiling(tileSize: 8).validate() }
    #expect(throws: RealESRGANError.self) { try RealESRGANTiling(tileSize: 64, pad: 10, feather: 33).validate() }
    #expect(throws: RealESRGANError.self) { try RealESRGANTiling(tileSize: 64, pad: 10, feather: 34).validate() }
    #expect(throws: RealESRGANError.self) { try RealESRGANTiling(tileSize: 64, pad: -1, feather: 0).validate() }
  }

  /// With a pad wider than the receptive field, every tile computes exactly what the whole image
  /// does; RGB, RGBA (alpha: ncnn bicubic) and gray inputs, odd sizes, several tile rows and columns.
  @Test func syntheticNetTiledEqualsUntiled() throws {
    let model = try RealESRGANModel(net: RealESRGANSyntheticNet.load())
    #expect(model.scale == 2)
    let photo = S.crop(try S.sample("coffee.png"), x: 200, y: 120, width: 53, height: 41)
    var rgba = [UInt8]()
    for (i, p) in photo.pixels.enumerated() {
      rgba.append(p)
      if i % 3 == 2 { rgba.append(UInt8((i / 3 * 7) % 256)) }
    }
    let images = [photo, RGBImage(width: 53, height: 41, channels: 4, pixels: rgba), photo.grayscale()]
    for image in images {
      let whole = try RealESRGANUpscaler(model: model, tiling: RealESRGANTiling(tileSize: 0, pad: 4, feather: 0)).upscale(image)
      for tiling in [RealESRGANTiling(tileSize: 16, pad: 4, feather: 8), RealESRGANTiling(tileSize: 20, pad: 6, feather: 0)] {
        var calls = 0
        let tiled = try RealESRGANUpscaler(model: model, tiling: tiling).upscale(image) { done, total in
          calls += 1
          #expect(done == calls && total == tiling.spans(length: 53).count * tiling.spans(length: 41).count)
        }
        #expect(tiled.width == 106 && tiled.height == 82 && tiled.channels == (image.channels == 4 ? 4 : 3))
        #expect(S.maxDifference(tiled, whole) <= 1, "\(image) \(tiling)")
      }
      if image.channels == 4 {
        // Alpha is ncnn's bicubic of the alpha plane, not the network's.
        let alpha = Tensor(shape: [1, 1, 41, 53], data: stride(from: 3, to: rgba.count, by: 4).map { Float(rgba[$0]) })
        let expected = alpha.resizedBicubic(height: 82, width: 106).data.map { UInt8(max(0, min(255, ($0 + 0.5).rounded(.down)))) }
        #expect(stride(from: 3, to: whole.pixels.count, by: 4).map { whole.pixels[$0] } == expected)
      }
    }
  }

  /// animevideov3 (18 convolutions at input resolution): tiles with a 20-pixel pad agree with one tile.
  @Test(.enabled(if: S.haveWeights, S.skipNote))
  func animeVideoTiledEqualsUntiled() throws {
    let model = try RealESRGANModel.load(paramPath: S.modelPath("realesr-animevideov3-x4"))
    let image = S.crop(try S.sample("chelsea.png"), x: 150, y: 60, width: 100, height: 72)
    let whole = try RealESRGANUpscaler(model: model, tiling: RealESRGANTiling(tileSize: 0)).upscale(image)
    let tiled = try RealESRGANUpscaler(model: model, tiling: RealESRGANTiling(tileSize: 40, pad: 20, feather: 16)).upscale(image)
    #expect(S.maxDifference(tiled, whole) <= 1)
  }

  /// x4plus with the default pad and feather: two tiles side by side on a 128×16 strip of the
  /// astronaut (so each tile's 56-pixel context lies inside the image) agree with one tile within
  /// 1 grey level everywhere, image border included (both use the 10-pixel mirrored border pad).
  @Test(.enabled(if: S.haveWeights, S.skipNote))
  func x4plusTiledWithinOneGreyLevelOfUntiled() throws {
    let model = try RealESRGANModel.load(paramPath: S.modelPath("realesrgan-x4plus"))
    let strip = S.crop(try S.sample("astronaut.png"), x: 150, y: 120, width: 128, height: 16)
    let ((whole, tiled), seconds) = try S.timed {
      (
        try RealESRGANUpscaler(model: model, tiling: RealESRGANTiling(tileSize: 0)).upscale(strip),
        try RealESRGANUpscaler(model: model, tiling: RealESRGANTiling(tileSize: 64)).upscale(strip)
      )
    }
    #expect(RealESRGANTiling(tileSize: 64).spans(length: 128).count == 2)
    let worst = S.maxDifference(tiled, whole)
    #expect(worst <= 1, "tiled vs untiled: \(worst) grey levels")
    print("x4plus 128×16 untiled + 2 tiles: \(String(format: "%.2f", seconds)) s, max difference \(worst)")
  }
}
