import Foundation
import SDModels
import SDTestSupport
import Testing

/// The `.param` text reader (Tencent/ncnn src/paramdict.cpp, net.cpp) on synthetic graphs:
/// typed values, and one clear error for every kind of malformed file.
@Suite struct NCNNParamTests {
  typealias G = NCNNTestGraphs

  @Test func parsesLayersBlobsAndTypedParameters() throws {
    let file = try NCNNParamFile.parse(G.convParam, file: "test.param")
    #expect(file.blobCount == 3)
    #expect(file.layers.map(\.type) == ["Input", "Convolution", "PReLU"])
    let conv = file.layers[1]
    #expect(conv.bottoms == ["data"] && conv.tops == ["c"] && conv.line == 4)
    #expect(conv.params.values[0] == .int(2))
    #expect(conv.params.values[10] == .floats([0.2]))
    let tokens = ["1=4.000000e+00", "2=3", "-23304=2,2.000000e-01,1", "3=-1.5", "-23305=2,7,-8"].map { Substring($0) }
    let dict = try NCNNParamDict.parse(tokens[...]).get()
    #expect(dict.values[1] == .float(4) && dict.values[2] == .int(3) && dict.values[3] == .float(-1.5))
    #expect(dict.values[4] == .floats([0.2, 1]) && dict.values[5] == .ints([7, -8]))
    #expect(try dict.int(2, default: 0) == 3 && dict.int(9, default: 11) == 11)
    #expect(try dict.float(2, default: 0) == 3)  // an integer where a float is expected
    #expect(try dict.floats(5) == [7, -8])
    #expect(throws: NCNNParamDict.ParseFailure.self) { try dict.int(1, default: 0) }  // a float where an integer is expected
  }

  @Test func readsWindowsLineEndings() throws {
    let crlf = G.convParam.replacingOccurrences(of: "\n", with: "\r\n") + "\r\n"
    let file = try NCNNParamFile.parse(crlf, file: "test.param")
    #expect(file.layers.count == 3 && file.layers[2].tops == ["output"])
  }

  @Test func loadsAGraph() throws {
    let net = try G.load(G.convParam, G.convBin())
    #expect(net.layers.count == 3 && net.blobNames[net.inputBlob] == "data" && net.blobNames[net.outputBlob] == "output")
    #expect(net.parameterCount == 18 + 2 + 2)
    guard case .convolution(let conv) = net.layers[1].operation else { Issue.record("not a convolution"); return }
    #expect(conv.inChannels == 1 && conv.outChannels == 2 && conv.activation == .leakyReLU(slope: 0.2))
    #expect(conv.weight.data == G.convWeights && conv.bias?.data == G.convBias)
    let shapes = try net.shapes(forInput: NCNNBlobShape(channels: 1, height: 5, width: 4))
    #expect(shapes[net.outputBlob] == NCNNBlobShape(channels: 2, height: 5, width: 4))
  }

  /// (name, .param text, a fragment the one-line error must contain)
  static let malformed: [(String, String, String)] = [
    ("bad magic", G.convParam.replacingOccurrences(of: "7767517", with: "7767518"), "line 1: bad magic"),
    ("empty", "", "bad magic"),
    ("missing header", "7767517\n", "missing the 'layer_count blob_count' line"),
    ("bad header", G.convParam.replacingOccurrences(of: "\n3 3\n", with: "\n3 x\n"), "line 2: expected 'layer_count blob_count'"),
    ("layer count", G.convParam.replacingOccurrences(of: "\n3 3\n", with: "\n4 3\n"), "declares 4 layers but the file has 3"),
    ("blob count", G.convParam.replacingOccurrences(of: "\n3 3\n", with: "\n3 5\n"), "declares 5 blobs but the layers name 3"),
    ("dangling blob", G.convParam.replacingOccurrences(of: "1 1 data c", with: "1 1 nowhere c"), "layer conv: reads blob 'nowhere', which no earlier layer produces"),
    ("blob produced twice", G.convParam.replacingOccurrences(of: "1 1 c output", with: "1 1 c data"), "layer act: produces blob 'data', already produced by layer data"),
    ("duplicate layer name", G.convParam.replacingOccurrences(of: "PReLU            act", with: "PReLU            conv"), "line 5: layer name conv is used twice"),
    ("short layer line", G.convParam.replacingOccurrences(of: "1 1 c output 0=2", with: "1 1 c"), "line 5: layer act declares 1 inputs and 1 outputs but names fewer blobs"),
    ("bad count", G.convParam.replacingOccurrences(of: "act    1 1", with: "act    x 1"), "line 5: expected 'Type name input_count output_count"),
    ("bad value", G.convParam.replacingOccurrences(of: "0=2 1=3", with: "0=two 1=3"), "line 4: layer conv: parameter 0: bad number 'two'"),
    ("bad key", G.convParam.replacingOccurrences(of: "0=2 1=3", with: "x=2 1=3"), "expected key=value"),
    ("key out of range", G.convParam.replacingOccurrences(of: "0=2 1=3", with: "0=2 40=3"), "parameter key 40 is out of range"),
    ("duplicate key", G.convParam.replacingOccurrences(of: "0=2 1=3", with: "0=2 0=3"), "parameter 0 is given twice"),
    ("array count", G.convParam.replacingOccurrences(of: "-23310=1,2.000000e-01", with: "-23310=2,2.000000e-01"), "the count does not match"),
    ("non-finite", G.convParam.replacingOccurrences(of: "-23310=1,2.000000e-01", with: "-23310=1,1e99"), "bad number '1e99'"),
  ]

  @Test(arguments: malformed)
  func refusesMalformedParam(name: String, text: String, expected: String) {
    let message = G.error { try NCNNParamFile.parse(text, file: "test.param") }
    #expect(message?.hasPrefix("test.param: ") == true, "\(name): \(message ?? "no error")")
    #expect(message?.contains(expected) == true, "\(name): \(message ?? "no error")")
    #expect(message?.contains("\n") == false, "\(name): the message must be one line")
  }

  @Test func refusesAnUnknownLayerType() {
    let text = G.convParam.replacingOccurrences(of: "PReLU            act    1 1 c output 0=2", with: "Softmax act 1 1 c output 0=0")
    let message = G.error { try G.load(text, G.bin([.float16(G.convWeights), .raw(G.convBias)])) }
    #expect(message == "test.param: layer act: unsupported layer type Softmax")
  }

  @Test func refusesUnsupportedParameters() {
    let cases: [(String, String)] = [
      ("0=2 1=3 4=1", "0=2 1=3 2=2 4=1"),  // dilation
      ("0=2 1=3 4=1", "0=2 1=3 4=-233"),  // SAME padding
      ("9=2 -23310=1,2.000000e-01", "9=4"),  // sigmoid activation
      ("9=2 -23310=1,2.000000e-01", "9=2"),  // leaky ReLU without its slope
      ("0=2 1=3 4=1", "0=2 1=3 4=1 8=1"),  // int8
      ("0=2 1=3 4=1", "0=2 1=3 4=1 25=1"),  // unknown parameter id
      ("6=18", "6=17"),  // weight size not out × in × kh × kw
    ]
    for (from, to) in cases {
      let message = G.error { try G.load(G.convParam.replacingOccurrences(of: from, with: to), G.convBin()) }
      #expect(message?.hasPrefix("test.param: layer conv: ") == true, "\(to): \(message ?? "no error")")
    }
  }
}
