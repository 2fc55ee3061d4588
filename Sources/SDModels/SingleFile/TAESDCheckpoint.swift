import Foundation
import SDTensor

/// madebyollin's own TAESD files (`taesd_decoder.safetensors`, `taesd_encoder.safetensors`, and
/// the taesdxl/taesd3/taef1 ones): each holds one `nn.Sequential` of `taesd.py`, keyed by module
/// index — `1.weight`, `3.conv.0.weight`, … — with the decoder's index 0 a parameterless `Clamp`.
/// They map onto diffusers' `AutoencoderTiny` names (`decoder.layers.N-1`, `encoder.layers.N`),
/// and the configuration is read from the layer pattern: convolutions (`N.weight`), blocks
/// (`N.conv.0.weight`) and the parameterless ReLU/upsample indices between them.
public struct TAESDCheckpoint: Sendable {
  public let decoder: SafeTensorsFile
  public let encoder: SafeTensorsFile?
  public let config: JSONConfig

  /// `decoderURL` names the decoder file; an encoder file beside it (`…decoder…` → `…encoder…`)
  /// is used when present.
  public init(decoderURL: URL) throws {
    decoder = try SafeTensorsFile(url: decoderURL)
    let name = decoderURL.lastPathComponent
    let sibling = decoderURL.deletingLastPathComponent().appendingPathComponent(name.replacingOccurrences(of: "decoder", with: "encoder"))
    encoder = name.contains("decoder") && FileManager.default.fileExists(atPath: sibling.path)
      ? try SafeTensorsFile(url: sibling) : nil
    config = try Self.config(decoder: decoder, encoder: encoder)
  }

  /// Whether `file` looks like a TAESD decoder (`1.weight` and a block at index 3).
  public static func isTAESDDecoder(_ file: SafeTensorsFile) -> Bool {
    file.contains("1.weight") && file.contains("3.conv.0.weight")
  }

  enum Module: Equatable { case conv, block, gap }

  /// The module kinds by index, 0…last.
  static func modules(_ file: SafeTensorsFile) -> [Module] {
    var last = -1
    var kinds: [Int: Module] = [:]
    for name in file.names {
      let parts = name.split(separator: ".")
      guard let index = parts.first.flatMap({ Int($0) }), index >= 0, index < 10_000 else { continue }
      last = max(last, index)
      if parts.count >= 3, parts[1] == "conv" { kinds[index] = .block } else if kinds[index] == nil { kinds[index] = .conv }
    }
    return last < 0 ? [] : (0...last).map { kinds[$0] ?? .gap }
  }

  static func config(decoder: SafeTensorsFile, encoder: SafeTensorsFile?) throws -> JSONConfig {
    func fail(_ file: SafeTensorsFile, _ problem: String) -> ConfigError { ConfigError(source: file.path, problem: problem) }
    let shapes = ShapeReader(file: decoder)
    guard let first = try shapes.shape("1.weight", rank: 4) else { throw fail(decoder, "not a TAESD decoder (no 1.weight)") }
    let d = modules(decoder)
    // Clamp, conv, ReLU, then groups of blocks each closed by [upsample, conv] or, last, by a conv.
    guard d.count > 3, d[0] == .gap, d[1] == .conv, d[2] == .gap, d.last == .conv else {
      throw fail(decoder, "unexpected TAESD decoder layout (Clamp, conv, ReLU, blocks…, conv)")
    }
    var decoderBlocks: [Int] = [], run = 0, i = 3
    while i < d.count {
      switch d[i] {
      case .block: run += 1
      case .gap:
        guard i + 1 < d.count, d[i + 1] == .conv else { throw fail(decoder, "unexpected TAESD decoder layout at module \(i)") }
        decoderBlocks.append(run)
        run = 0
        i += 1
      case .conv:
        guard i == d.count - 1 else { throw fail(decoder, "unexpected TAESD decoder layout at module \(i)") }
        decoderBlocks.append(run)
      }
      i += 1
    }
    let channels = first[0], levels = decoderBlocks.count
    var values: [String: Any] = [
      "latent_channels": first[1], "decoder_block_out_channels": [Int](repeating: channels, count: levels),
      "num_decoder_blocks": decoderBlocks, "encoder_block_out_channels": [Int](repeating: channels, count: levels),
      "num_encoder_blocks": [Int](repeating: 1, count: levels),
    ]
    if let out = try shapes.shape("\(d.count - 1).weight", rank: 4) { values["out_channels"] = out[0] }
    if let encoder {
      // conv, blocks, (stride-2 conv, blocks)…, conv.
      let e = modules(encoder)
      guard e.first == .conv, e.last == .conv, !e.contains(.gap) else { throw fail(encoder, "unexpected TAESD encoder layout") }
      var encoderBlocks: [Int] = []
      for kind in e.dropLast() { if kind == .conv { encoderBlocks.append(0) } else { encoderBlocks[encoderBlocks.count - 1] += 1 } }
      values["num_encoder_blocks"] = encoderBlocks
      values["encoder_block_out_channels"] = [Int](repeating: channels, count: encoderBlocks.count)
      if let input = try ShapeReader(file: encoder).shape("0.weight", rank: 2) { values["in_channels"] = input[1] }
    }
    return JSONConfig(values: values, source: "\(decoder.path) (TAESD)")
  }

  /// The weights under diffusers' `AutoencoderTiny` names, read into memory (a TAESD is ≈ 5 MB):
  /// the two files use the same index keys, so one renaming store cannot hold both.
  public func weights() throws -> WeightStore {
    var tensors: [String: Tensor] = [:]
    for name in decoder.names {
      let parts = name.split(separator: ".", maxSplits: 1)
      guard parts.count == 2, let index = Int(parts[0]), index >= 1 else { continue }
      tensors["decoder.layers.\(index - 1).\(parts[1])"] = try decoder.tensor(name)
    }
    for name in encoder?.names ?? [] {
      tensors["encoder.layers.\(name)"] = try encoder!.tensor(name)
    }
    let files = [decoder.path] + (encoder.map { [$0.path] } ?? [])
    return WeightStore(tensors: tensors, description: files.joined(separator: ", "))
  }
}
