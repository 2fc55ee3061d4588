import Foundation
import SDImage
import SDModels

extension CLIPImageProcessor {
  /// Reads a `preprocessor_config.json` (a CLIP folder's, or a diffusers `feature_extractor/`'s) the
  /// way `CLIPImageProcessorPil.from_pretrained` does: `do_resize`, `size` (an int means the shortest
  /// edge; `{"shortest_edge"}` or `{"height", "width"}`), `resample` (a `PIL.Image.Resampling` code),
  /// `do_center_crop`, `crop_size` (an int means a square), `do_rescale`, `rescale_factor`,
  /// `do_normalize`, `image_mean`, `image_std`; CLIP's defaults for anything missing.
  public init(configURL: URL) throws {
    try self.init(config: JSONConfig(url: configURL))
  }

  public init(config: JSONConfig) throws {
    let fail = { (problem: String) in ConfigError(source: config.source, problem: problem) }
    self.init()
    size = try config.bool("do_resize", default: true) ? Self.size(config, "size", shortestEdgeForInt: true) ?? .shortestEdge(224) : nil
    if try config.bool("do_center_crop", default: true) {
      switch try Self.size(config, "crop_size", shortestEdgeForInt: false) {
      case nil: cropSize = PixelSize(width: 224, height: 224)
      case .exact(let s)?: cropSize = s
      case .shortestEdge?: throw fail("crop_size needs \"height\" and \"width\"")
      }
    } else {
      cropSize = nil
    }
    let code = try config.int("resample", default: 3)
    guard let filter = ResampleFilter(pillowCode: code) else {
      throw fail("resample \(code) is not supported (use 1 LANCZOS, 2 BILINEAR, 3 BICUBIC, 4 BOX or 5 HAMMING)")
    }
    self.filter = filter
    rescaleFactor = try config.bool("do_rescale", default: true) ? config.double("rescale_factor", default: 1.0 / 255.0) : nil
    if try config.bool("do_normalize", default: true) {
      mean = try Self.triple(config, "image_mean") ?? Self.openAIMean
      std = try Self.triple(config, "image_std") ?? Self.openAIStd
      guard std!.allSatisfy({ $0 != 0 && $0.isFinite }), mean!.allSatisfy(\.isFinite) else {
        throw fail("image_std must be finite and non-zero")
      }
    } else {
      mean = nil
      std = nil
    }
  }

  /// An int (shortest edge or square), or an object with `shortest_edge` or `height` + `width`.
  static func size(_ config: JSONConfig, _ key: String, shortestEdgeForInt: Bool) throws -> Size? {
    let fail = ConfigError(source: config.source, problem: "\"\(key)\" should be a positive size")
    func positive(_ n: Int?) throws -> Int {
      guard let n, n > 0, n <= 16384 else { throw fail }
      return n
    }
    guard config.contains(key) else { return nil }
    if let object = try? config.object(key) {
      if object.contains("longest_edge") || object.contains("max_height") {
        throw ConfigError(source: config.source, problem: "\"\(key)\" with longest_edge / max_height is not supported")
      }
      if object.contains("shortest_edge") { return .shortestEdge(try positive(object.int("shortest_edge"))) }
      return .exact(PixelSize(width: try positive(object.int("width")), height: try positive(object.int("height"))))
    }
    let n = try positive(config.int(key))
    return shortestEdgeForInt ? .shortestEdge(n) : .exact(PixelSize(width: n, height: n))
  }

  /// Three per-channel numbers (a single number is repeated, as transformers does).
  static func triple(_ config: JSONConfig, _ key: String) throws -> [Float]? {
    guard config.contains(key) else { return nil }
    if let single = try? config.double(key) { return [Float](repeating: Float(single), count: 3) }
    guard let list = config.values[key] as? [Any], list.count == 3 else {
      throw ConfigError(source: config.source, problem: "\"\(key)\" should be 3 numbers (R, G, B)")
    }
    return try list.map { item in
      guard let n = try? JSONConfig(values: ["v": item], source: config.source).double("v") else {
        throw ConfigError(source: config.source, problem: "\"\(key)\" should be 3 numbers (R, G, B)")
      }
      return Float(n)
    }
  }
}
