// libFuzzer target: an ncnn graph, `.param` text then a NUL byte then the `.bin` weights:
// parsed, built layer by layer from the weights, and shape-checked for a small input.
import Foundation
import SDModels

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzNCNN(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
  let bytes = UnsafeBufferPointer(start: data, count: size)
  let split = bytes.firstIndex(of: 0) ?? size
  let text = String(decoding: bytes[0..<split], as: UTF8.self)
  let weights = Data(bytes[min(split + 1, size)...])
  guard let param = try? NCNNParamFile.parse(text, file: "fuzz.param") else { return 0 }
  var reader = NCNNWeightReader(data: weights, file: "fuzz.bin")
  guard let net = try? NCNNNet(param, weights: &reader) else { return 0 }
  _ = net.parameterCount
  for side in [1, 7, 16] {
    _ = try? net.shapes(forInput: NCNNBlobShape(channels: 3, height: side, width: side))
  }
  return 0
}
