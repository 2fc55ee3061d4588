// libFuzzer target: the single-file (CompVis/LDM) checkpoint detector and key maps.
//
// The input is a tensor table in text, one entry per line: `name d0 d1 …` (a tensor of that
// shape), or `@key value` (a `__metadata__` entry, e.g. `@sdedit.configs {…}`). The harness
// writes it as an in-memory safetensors file with one-byte (U8) elements, so the fuzzer mutates
// names and shapes rather than JSON syntax. `SingleFileCheckpoint` then detects the family and
// sizes, the synthesized configs are read by the model config readers, and the three key maps
// (UNet, VAE, text encoder) are built. Tensor data is never read: U8 would not convert anyway.
import Foundation
import SDModels

/// Entries over this many bytes in all are skipped (the detector reads shapes, not data).
let maxDataBytes = 1 << 22

func safetensorsBytes(_ text: String) -> [UInt8]? {
  var header: [String: Any] = [:]
  var metadata: [String: String] = [:]
  var offset = 0
  for line in text.split(whereSeparator: \.isNewline) {
    if line.first == "@" {
      let parts = line.dropFirst().split(separator: " ", maxSplits: 1)
      if let key = parts.first { metadata[String(key)] = parts.count > 1 ? String(parts[1]) : "" }
      continue
    }
    let fields = line.split(separator: " ")
    guard let name = fields.first else { continue }
    var shape: [Int] = []
    var count = 1
    for field in fields.dropFirst() {
      guard let d = Int(field), d >= 0, d <= maxDataBytes else { return nil }
      shape.append(d)
      count *= d
      guard count <= maxDataBytes else { return nil }
    }
    guard offset + count <= maxDataBytes else { return nil }
    header[String(name)] = ["dtype": "U8", "shape": shape, "data_offsets": [offset, offset + count]]
    offset += count
  }
  if !metadata.isEmpty { header["__metadata__"] = metadata }
  guard let json = try? JSONSerialization.data(withJSONObject: header) else { return nil }
  var bytes = withUnsafeBytes(of: UInt64(json.count).littleEndian) { Array($0) }
  bytes += json
  bytes += [UInt8](repeating: 0, count: offset)
  return bytes
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzSingleFile(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let text = String(decoding: UnsafeBufferPointer(start: data, count: size), as: UTF8.self)
  guard let bytes = safetensorsBytes(text),
    let file = try? SafeTensorsFile(bytes: bytes, name: "fuzz-checkpoint.safetensors")
  else { return 0 }
  let checkpoint: SingleFileCheckpoint
  do {
    checkpoint = try SingleFileCheckpoint(file: file)
  } catch {
    _ = "\(error)"
    return 0
  }
  _ = try? UNetConfig(checkpoint.unetConfig)
  _ = try? VAEConfig(checkpoint.vaeConfig)
  _ = try? CLIPTextConfig(checkpoint.textConfig)
  for weights in [checkpoint.unetWeights, checkpoint.vaeWeights, checkpoint.textEncoderWeights] {
    guard let store = try? weights() else { continue }
    for key in store.keys { _ = store.shape(of: key) }
  }
  return 0
}
