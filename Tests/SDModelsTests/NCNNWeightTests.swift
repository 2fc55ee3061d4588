import Foundation
import SDModels
import SDTestSupport
import Testing

/// The `.bin` reader (Tencent/ncnn src/modelbin.cpp): both weight encodings, and one clear error for
/// a wrong tag, a short file, extra bytes and shapes too large to allocate.
@Suite struct NCNNWeightTests {
  typealias G = NCNNTestGraphs

  @Test func float16AndFloat32WeightsGiveTheSameGraph() throws {
    let half = try G.load(G.convParam, G.convBin(weights: .float16(G.convWeights)))
    let full = try G.load(G.convParam, G.convBin(weights: .float32(G.convWeights)))
    guard case .convolution(let a) = half.layers[1].operation, case .convolution(let b) = full.layers[1].operation,
      case .prelu(let slopes) = full.layers[2].operation
    else { Issue.record("unexpected layers"); return }
    #expect(a.weight == b.weight && a.bias == b.bias && slopes == G.slopes)
  }

  @Test func oddFloat16CountsArePaddedToFourBytes() throws {
    var reader = NCNNWeightReader(data: G.bin([.float16([1, 2, 3]), .raw([4])]), file: "test.bin")
    #expect(try reader.tagged(3, layer: "a") == [1, 2, 3])
    #expect(try reader.raw(1, layer: "b") == [4])
    try reader.finish()
  }

  @Test func refusesAnUnknownTag() {
    let bin = G.bin([.bytes([0x38, 0x4B, 0x0D, 0x00]), .bytes([UInt8](repeating: 1, count: 20)), .raw(G.convBias), .raw(G.slopes)])
    let message = G.error { try G.load(G.convParam, bin) }
    #expect(message?.hasPrefix("test.bin: layer conv: unsupported weight tag 0xD4B38 at byte 0") == true, "\(message ?? "no error")")
  }

  @Test func refusesAShortFile() {
    for cut in [1, 8, 40, 47] {
      let bin = G.convBin()
      let message = G.error { try G.load(G.convParam, bin.prefix(bin.count - cut)) }
      #expect(message?.contains("file too short") == true, "cut \(cut): \(message ?? "no error")")
    }
    #expect(G.error { try G.load(G.convParam, Data()) }?.contains("layer conv: file too short: needs 4 bytes for a weight tag") == true)
  }

  @Test func refusesExtraBytes() {
    let message = G.error { try G.load(G.convParam, G.convBin() + Data([0, 0, 0, 0])) }
    #expect(message == "test.bin: 4 bytes left over after the last layer's weights (the .bin does not match the .param)")
  }

  @Test func refusesAbsurdShapesBeforeAllocating() {
    let cases: [(String, String, String)] = [
      ("6=18", "6=1080000", "layer conv: file too short: needs 2160000 bytes for 1080000 float16 weights"),
      ("6=18", "6=1800000000", "weight_data_size 1800000000 is not num_output × in_channels × 3 × 3"),
      ("0=2 1=3", "0=2000000 1=3", "num_output 2000000 is out of range"),
      ("0=2 1=3", "0=2 1=300", "kernel 300×300 is out of range"),
      ("PReLU            act    1 1 c output 0=2", "PReLU act 1 1 c output 0=1000000000", "num_slope 1000000000 is out of range"),
    ]
    for (from, to, expected) in cases {
      let message = G.error { try G.load(G.convParam.replacingOccurrences(of: from, with: to), G.convBin()) }
      #expect(message?.contains(expected) == true, "\(to): \(message ?? "no error")")
    }
  }

  @Test func refusesInputsTheGraphCannotRun() throws {
    let net = try G.load(G.convParam, G.convBin())
    let wrongChannels = G.error { try net.shapes(forInput: NCNNBlobShape(channels: 3, height: 8, width: 8)) }
    #expect(wrongChannels == "test.param: layer conv: expects 1 input channels, gets 3")
    let huge = """
      7767517
      3 3
      Input  data 0 1 data
      Interp up   1 1 data u 0=1 1=6.400000e+01 2=6.400000e+01
      Interp up2  1 1 u output 0=1 1=6.400000e+01 2=6.400000e+01
      """
    let big = try G.load(huge, Data())
    let message = G.error { try big.shapes(forInput: NCNNBlobShape(channels: 3, height: 64, width: 64)) }
    #expect(message?.contains("layer up2: output 3×262144×262144 is too large") == true, "\(message ?? "no error")")
  }
}
