import Foundation
import SDTensor

/// Sequential reader of an ncnn `.bin` weight file (Tencent/ncnn src/modelbin.cpp,
/// `ModelBinFromDataReader::load`): layers take their arrays in graph order, with no index.
///
/// - `tagged` arrays (convolution weights, ncnn load type 0) start with a 4-byte little-endian tag:
///   0x01306B47 → float16 values, padded to a multiple of 4 bytes; 0 → raw float32 values. The
///   int8 (0x000D4B38), scaled (0x0002C056) and 256-entry-table quantised forms are refused.
/// - `raw` arrays (biases, PReLU slopes; load type 1) are float32 with no tag.
/// Every length is checked against the bytes left before anything is allocated, and `finish()`
/// refuses a file with bytes left over, so a `.bin` that belongs to another graph is caught.
public struct NCNNWeightReader {
  public static let float16Tag: UInt32 = 0x0130_6B47

  public let file: String
  let bytes: Data
  public private(set) var offset = 0

  public init(data: Data, file: String) {
    self.bytes = data
    self.file = file
  }

  public static func read(path: String) throws(NCNNError) -> NCNNWeightReader {
    try NCNNError.checkReadable(path)
    do {
      return NCNNWeightReader(data: try Data(contentsOf: URL(fileURLWithPath: path), options: .alwaysMapped), file: path)
    } catch {
      throw .unreadable(file: path, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
    }
  }

  public var remaining: Int { bytes.count - offset }

  /// `count` values behind a type tag (fp16 or fp32).
  public mutating func tagged(_ count: Int, layer: String) throws(NCNNError) -> [Float] {
    let tag = try uint32(layer: layer)
    switch tag {
    case Self.float16Tag:
      let padded = (2 * count + 3) / 4 * 4
      try need(padded, layer: layer, what: "\(count) float16 weights")
      var values = [Float](repeating: 0, count: count)
      var halves = [UInt16](repeating: 0, count: count)
      bytes.withUnsafeBytes { raw in
        halves.withUnsafeMutableBytes { dst in
          dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 2 * count)]))
        }
      }
      for i in halves.indices { halves[i] = UInt16(littleEndian: halves[i]) }
      halves.withUnsafeBufferPointer { h in
        values.withUnsafeMutableBufferPointer { v in
          HalfConversion.float16ToFloat(h.baseAddress!, v.baseAddress!, count: count)
        }
      }
      offset += padded
      return values
    case 0:
      return try raw(count, layer: layer)
    default:
      let hex = String(tag, radix: 16, uppercase: true)
      throw .malformedWeights(
        file: file, layer: layer,
        reason: "unsupported weight tag 0x\(hex) at byte \(offset - 4) (sdedit reads float16 0x01306B47 and float32 0)")
    }
  }

  /// `count` raw float32 values.
  public mutating func raw(_ count: Int, layer: String) throws(NCNNError) -> [Float] {
    try need(4 * count, layer: layer, what: "\(count) float32 values")
    var values = [Float](repeating: 0, count: count)
    bytes.withUnsafeBytes { raw in
      values.withUnsafeMutableBytes { dst in
        dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 4 * count)]))
      }
    }
    for i in values.indices { values[i] = Float(bitPattern: UInt32(littleEndian: values[i].bitPattern)) }
    offset += 4 * count
    return values
  }

  /// Refuses a file with unread bytes.
  public func finish() throws(NCNNError) {
    guard remaining == 0 else {
      throw .malformedWeights(
        file: file, layer: nil,
        reason: "\(remaining) bytes left over after the last layer's weights (the .bin does not match the .param)")
    }
  }

  mutating func uint32(layer: String) throws(NCNNError) -> UInt32 {
    try need(4, layer: layer, what: "a weight tag")
    var value: UInt32 = 0
    bytes.withUnsafeBytes { raw in
      withUnsafeMutableBytes(of: &value) { $0.copyMemory(from: UnsafeRawBufferPointer(rebasing: raw[offset..<(offset + 4)])) }
    }
    offset += 4
    return UInt32(littleEndian: value)
  }

  func need(_ byteCount: Int, layer: String, what: String) throws(NCNNError) {
    guard byteCount >= 0, byteCount <= remaining else {
      throw .malformedWeights(
        file: file, layer: layer,
        reason: "file too short: needs \(byteCount) bytes for \(what) at byte \(offset), \(remaining) left")
    }
  }
}
