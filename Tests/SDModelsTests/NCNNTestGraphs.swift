import Foundation
import SDModels
import SDTensor

/// Small synthetic ncnn graphs and `.bin` payloads for the reader tests (no downloaded weights).
enum NCNNTestGraphs {
  /// A piece of a `.bin` file.
  enum Chunk {
    case float16([Float])  // tag 0x01306B47, fp16 values, padded to 4 bytes
    case float32([Float])  // tag 0, fp32 values
    case raw([Float])  // untagged fp32 (biases, slopes)
    case bytes([UInt8])
  }

  static func bin(_ chunks: [Chunk]) -> Data {
    var data = Data()
    func append32(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    for chunk in chunks {
      switch chunk {
      case .float16(let values):
        append32(NCNNWeightReader.float16Tag)
        var halves = [UInt16](repeating: 0, count: values.count)
        values.withUnsafeBufferPointer { v in
          halves.withUnsafeMutableBufferPointer { h in HalfConversion.floatToFloat16(v.baseAddress!, h.baseAddress!, count: values.count) }
        }
        for h in halves { withUnsafeBytes(of: h.littleEndian) { data.append(contentsOf: $0) } }
        if values.count % 2 == 1 { data.append(contentsOf: [0, 0]) }
      case .float32(let values):
        append32(0)
        for v in values { append32(v.bitPattern) }
      case .raw(let values):
        for v in values { append32(v.bitPattern) }
      case .bytes(let bytes):
        data.append(contentsOf: bytes)
      }
    }
    return data
  }

  /// Input → 3×3 convolution (1 → 2 channels, bias, leaky ReLU 0.2) → PReLU → output.
  static let convParam = """
    7767517
    3 3
    Input            data   0 1 data
    Convolution      conv   1 1 data c 0=2 1=3 4=1 5=1 6=18 9=2 -23310=1,2.000000e-01
    PReLU            act    1 1 c output 0=2
    """

  static let convWeights: [Float] = (0..<18).map { Float($0 - 9) / 8 }
  static let convBias: [Float] = [0.5, -0.25]
  static let slopes: [Float] = [0.1, 0.3]

  static func convBin(weights: Chunk = .float16(convWeights)) -> Data {
    bin([weights, .raw(convBias), .raw(slopes)])
  }

  /// Parses `param` and loads `bin` (both named `test.param` / `test.bin` in errors).
  static func load(_ param: String, _ bin: Data) throws -> NCNNNet {
    let file = try NCNNParamFile.parse(param, file: "test.param")
    var weights = NCNNWeightReader(data: bin, file: "test.bin")
    return try NCNNNet(file, weights: &weights)
  }

  /// The description of the error `body` throws, or nil when it does not throw.
  static func error(_ body: () throws -> Any) -> String? {
    do {
      _ = try body()
      return nil
    } catch {
      return "\(error)"
    }
  }
}
