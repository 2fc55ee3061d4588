import Foundation
import SDImage
import SDModels
@testable import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// `DiffusionTiling` (windows, blend weights) and the tiled diffusion upscalers: one window is
/// the untiled computation, and overlapping windows leave no seam.
@Suite struct UpscaleTilingTests {
  @Test(arguments: [(48, 24, 4), (64, 24, 4), (100, 32, 8), (513, 64, 1), (37, 16, 1), (1024, 256, 8)])
  func windowsCoverTheGridWithOverlap(length: Int, tile: Int, multiple: Int) {
    let tiling = DiffusionTiling(tile: tile, multiple: multiple)
    let windows = tiling.windows(length: length)
    #expect(windows.first?.lowerBound == 0 && windows.last?.upperBound == length)
    #expect(windows.allSatisfy { $0.count == tiling.tile })
    for (a, b) in zip(windows, windows.dropFirst()) {
      #expect(b.lowerBound > a.lowerBound && a.upperBound - b.lowerBound >= tiling.overlap, "\(a) \(b)")
    }
    if length % multiple == 0 { #expect(windows.allSatisfy { $0.lowerBound % multiple == 0 }) }
    #expect(DiffusionTiling(tile: 0).windows(length: length) == [0..<length])
    #expect(DiffusionTiling(tile: length + multiple, multiple: multiple).windows(length: length).count <= 1 + (length % multiple == 0 ? 0 : 1))
  }

  /// Blending per-window slices of one tensor gives that tensor back (the weights sum to 1).
  @Test(arguments: [1, 4])
  func blendIsAPartitionOfUnity(scale: Int) {
    let (h, w) = (40, 56)
    var rng = TorchRandom(seed: 3)
    let whole = rng.randn([2, 3, h * scale, w * scale])
    let tiling = DiffusionTiling(tile: 16, multiple: 4)
    let blended = tiling.blend(height: h, width: w, scale: scale) { rows, cols in
      whole.window((rows.lowerBound * scale)..<(rows.upperBound * scale), (cols.lowerBound * scale)..<(cols.upperBound * scale))
    }
    #expect(blended.shape == whole.shape)
    #expect(Compare.maxAbsDiff(blended.data, whole.data) <= 1e-5)
  }

  static func x4() throws -> DiffusionUpscaler {
    try DiffusionUpscaler(model: ModelBundle.load(Fixtures.url("models/x4-upscaler-tiny").path))
  }

  static func options(tile: Int, blending: Bool = true) -> UpscaleOptions {
    var o = UpscaleOptions(prompt: "a photo of an astronaut riding a horse on mars")
    o.generation.stepCount = 3
    o.generation.seed = 5
    o.tileSize = tile
    o.seamBlending = blending
    return o
  }

  @Test func oneWindowIsTheUntiledResult() throws {
    let upscaler = try Self.x4()
    let image = try ImageFile.read(path: Fixtures.url("reference/inputs/img2img_48x64.png").path)
    let untiled = try upscaler.upscale(image, options: Self.options(tile: 0))
    let oneTile = try upscaler.upscale(image, options: Self.options(tile: 64))
    #expect(untiled.windowCount == 1 && oneTile.windowCount == 1)
    #expect(untiled.image == oneTile.image)
  }

  /// Any input size comes back at exactly ×scale: the latent upscaler pads to what its K UNet
  /// can halve (and reflect-pad) and crops back; the x4 UNet takes any size.
  @Test(arguments: DiffusionUpscaler.Kind.allCases)
  func oddAndTinyInputs(kind: DiffusionUpscaler.Kind) throws {
    let folder = kind == .x4 ? "x4-upscaler-tiny" : "latent-upscaler-tiny"
    let upscaler = try DiffusionUpscaler(
      model: ModelBundle.load(Fixtures.url("models/\(folder)").path, options: .init(needsEncoder: kind.needsEncoder)))
    var options = Self.options(tile: 16)
    options.generation.stepCount = 1
    for (w, h) in [(1, 1), (3, 2), (45, 30)] {
      let image = RGBImage(width: w, height: h, pixels: (0..<(w * h * 3)).map { UInt8(($0 * 37) % 256) })
      let out = try upscaler.upscale(image, options: options)
      #expect(out.image.width == w * kind.scale && out.image.height == h * kind.scale, "\(kind) \(w)×\(h)")
    }
  }

  /// A smooth low-frequency field `[1, c, h, w]` of amplitude `amplitude`.
  static func smoothField(channels c: Int, height h: Int, width w: Int, amplitude: Float) -> Tensor {
    Tensor(shape: [1, c, h, w]) { out in
      for ch in 0..<c {
        for y in 0..<h {
          for x in 0..<w {
            let u = Float(x) / Float(w), v = Float(y) / Float(h), p = Float(ch)
            out[(ch * h + y) * w + x] = amplitude * (sinf(2 * .pi * (0.7 * u + 0.4 * v) + p) + 0.5 * cosf(2 * .pi * (1.3 * v - 0.5 * u) + 2 * p))
          }
        }
      }
    }
  }

  /// Mean |T(u) − T(u−1)| over channels and the other axis, per position u along `axis` (2: rows, 3: columns).
  static func gradientProfile(_ t: Tensor, axis: Int) -> [Float] {
    let (c, h, w) = (t.dim(1), t.dim(2), t.dim(3))
    let (n, across) = axis == 3 ? (w, h) : (h, w)
    return (0..<n).map { u in
      guard u > 0 else { return 0 }
      var s: Float = 0
      for ch in 0..<c {
        for i in 0..<across {
          let (a, b) = axis == 3 ? ((ch * h + i) * w + u, (ch * h + i) * w + u - 1) : ((ch * h + u) * w + i, (ch * h + u - 1) * w + i)
          s += abs(t.data[a] - t.data[b])
        }
      }
      return s / Float(c * across)
    }
  }

  /// The seam measure: the largest gradient at a tile border (each window edge and mid-overlap
  /// inside the image, ±1 sample) divided by the largest gradient of the interior (≥ 3 samples
  /// from any border and from the image edge), over both axes. `grids`: each tiling that cut the
  /// image and its output samples per grid unit.
  static func seamRatio(_ t: Tensor, grids: [(DiffusionTiling, scale: Int)]) -> Float {
    var worst: Float = 0
    for axis in [2, 3] {
      let profile = gradientProfile(t, axis: axis)
      var borders = Set<Int>()
      for (tiling, scale) in grids {
        let windows = tiling.windows(length: t.dim(axis) / scale)
        for window in windows { borders.formUnion([window.lowerBound * scale, window.upperBound * scale]) }
        for (a, b) in zip(windows, windows.dropFirst()) { borders.insert((a.upperBound + b.lowerBound) * scale / 2) }
      }
      borders.subtract([0, t.dim(axis)])  // the image's own edges are not seams
      var border: Float = 0, interior: Float = 0
      for (i, g) in profile.enumerated() where i >= 1 {
        let distance = borders.map { abs($0 - i) }.min() ?? Int.max
        if distance <= 1 { border = max(border, g) }
        if distance >= 3 && i >= 3 && i < profile.count - 2 { interior = max(interior, g) }
      }
      worst = max(worst, border / interior)
    }
    return worst
  }

  static let x4Model = Result { try ModelBundle.load(Fixtures.url("models/x4-upscaler-tiny").path) }

  /// One UNet evaluation in windows of a smooth input: blended windows leave no seam; hard cuts
  /// at mid-overlap do (each window normalises with its own GroupNorm statistics), which shows
  /// that the measure sees seams.
  @Test(arguments: [16, 24, 32])
  func tiledUNetHasNoSeams(tile: Int) throws {
    let model = try Self.x4Model.get()
    let latent = Self.smoothField(channels: 4, height: 48, width: 64, amplitude: 0.1)
    let image = Self.smoothField(channels: 3, height: 48, width: 64, amplitude: 0.8)
    let context = try SafeTensorsFile(url: Fixtures.url("reference/unet/x4-upscaler-tiny.safetensors")).tensor("encoder_hidden_states")
    var ratios: [Bool: Float] = [:]
    for ramps in [true, false] {
      var tiling = DiffusionTiling(tile: tile, multiple: 4)
      tiling.ramps = ramps
      #expect(tiling.count(height: 48, width: 64) > 4)
      let unet = TiledUNet(unet: model.unet, context: context, tiling: tiling, classLabels: [20, 20])
      ratios[ramps] = Self.seamRatio(unet(latent, extra: image, timestep: 500), grids: [(tiling, 1)])
    }
    #expect(ratios[true]! <= 1, "blended: border/interior gradient \(ratios[true]!)")
    #expect(ratios[false]! > 1.2, "hard cuts: border/interior gradient \(ratios[false]!)")
  }

  /// The VAE decode in windows, the same way.
  @Test func tiledVAEHasNoSeams() throws {
    let model = try Self.x4Model.get()
    let modelVAE = try #require(model.vae)
    let latent = Self.smoothField(channels: 4, height: 40, width: 56, amplitude: 0.1)
    var ratios: [Bool: Float] = [:]
    for ramps in [true, false] {
      var vae = TiledVAE(vae: modelVAE, tileSize: 16)
      vae.ramps = ramps
      let tiling = vae.tiling(pixels: 16 * 4)
      #expect(tiling.count(height: 40, width: 56) > 4)
      ratios[ramps] = Self.seamRatio(vae.decode(scaledLatents: latent), grids: [(tiling, 4)])
    }
    #expect(ratios[true]! <= 1, "blended: border/interior gradient \(ratios[true]!)")
    #expect(ratios[false]! > 1.2, "hard cuts: border/interior gradient \(ratios[false]!)")
  }

  /// Whole upscales, tiled vs untiled: the same size, and the gradients along the tile borders
  /// no larger, relative to the interior's, than the untiled image has at the same places (+0.1;
  /// the random tiny models draw noise, so this is the weak form of the two tests above, where
  /// hard cuts measure > 1.2).
  @Test(arguments: DiffusionUpscaler.Kind.allCases)
  func tiledUpscaleHasNoSeams(kind: DiffusionUpscaler.Kind) throws {
    let folder = kind == .x4 ? "x4-upscaler-tiny" : "latent-upscaler-tiny"
    let model = try ModelBundle.load(Fixtures.url("models/\(folder)").path, options: .init(needsEncoder: kind.needsEncoder))
    let upscaler = try DiffusionUpscaler(model: model)
    let image = try ImageFile.read(path: Fixtures.url("reference/inputs/img2img_48x64.png").path)
    let tile = 24
    let tiled = try upscaler.upscale(image, options: Self.options(tile: tile))
    let untiled = try upscaler.upscale(image, options: Self.options(tile: 0))
    #expect(tiled.windowCount > 1 && untiled.windowCount == 1)
    #expect(tiled.image.width == 64 * kind.scale && tiled.image.height == 48 * kind.scale)
    #expect(untiled.image.width == tiled.image.width && untiled.image.height == tiled.image.height)
    let vae = try #require(model.vae)
    let f = vae.config.downFactor
    let unetGrid = kind == .x4
      ? (DiffusionTiling(tile: tile, multiple: 1 << (model.unet.config.blockOutChannels.count - 1)), 4)
      : (DiffusionTiling(tile: tile * 2 / f, multiple: 1 << (model.unet.config.blockOutChannels.count - 1)), f)
    let vaeGrid = (TiledVAE(vae: vae, tileSize: tile).tiling(pixels: tile * kind.scale), f)
    let ratio = Self.seamRatio(ImageTensor.tensor(from: tiled.image), grids: [unetGrid, vaeGrid])
    let baseline = Self.seamRatio(ImageTensor.tensor(from: untiled.image), grids: [unetGrid, vaeGrid])
    #expect(ratio <= max(baseline, 1) + 0.1, "\(kind): border/interior gradient \(ratio) tiled, \(baseline) untiled")
  }
}
