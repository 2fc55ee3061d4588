import Foundation

/// A loaded ncnn graph: typed layers in execution order, blobs by index, one input and one output.
///
/// Reading follows Tencent/ncnn src/net.cpp (`load_param`, `load_model`): the `.param` text gives
/// the layers, then each layer takes its weights from the `.bin` in order. Everything is validated
/// before use (see `NCNNParamFile`, `NCNNWeightReader` and each layer), and `shapes(forInput:)`
/// checks that the graph can run on a given input size before anything is allocated for it.
public struct NCNNNet: Sendable {
  /// The `.param` path, for messages.
  public let file: String
  public let layers: [NCNNLayer]
  public let blobNames: [String]
  public let inputBlob: Int
  public let outputBlob: Int
  /// For each blob, the index of the last layer that reads it (nil for the output).
  public let lastReader: [Int?]

  /// Loads `paramPath` and its weights (`binPath`, by default the same name ending in `.bin`).
  public static func load(paramPath: String, binPath: String? = nil) throws(NCNNError) -> NCNNNet {
    let param = try NCNNParamFile.read(path: paramPath)
    let bin = binPath ?? (paramPath.hasSuffix(".param") ? String(paramPath.dropLast(6)) : paramPath) + ".bin"
    var weights = try NCNNWeightReader.read(path: bin)
    return try NCNNNet(param, weights: &weights)
  }

  /// Builds the graph of `param`, reading every weight from `weights` (which must be used up exactly).
  public init(_ param: NCNNParamFile, weights: inout NCNNWeightReader) throws(NCNNError) {
    file = param.file
    var index: [String: Int] = [:]
    var names: [String] = []
    var built: [NCNNLayer] = []
    var readers: [Int?] = []
    var inputs: [Int] = []
    for spec in param.layers {
      let bottoms = spec.bottoms.map { index[$0]! }  // NCNNParamFile checked every reference
      var tops: [Int] = []
      for blob in spec.tops {
        index[blob] = names.count
        tops.append(names.count)
        names.append(blob)
        readers.append(nil)
      }
      for b in bottoms { readers[b] = built.count }
      let layer = try NCNNLayer(spec, file: file, bottoms: bottoms, tops: tops, weights: &weights)
      if case .input = layer.operation { inputs.append(tops[0]) }
      built.append(layer)
    }
    try weights.finish()
    guard inputs.count == 1 else {
      throw .badBlobReference(file: file, layer: "-", reason: "the graph has \(inputs.count) Input layers (sdedit needs exactly 1)")
    }
    let unread = readers.indices.filter { readers[$0] == nil }
    let output: Int
    if unread.count == 1 {
      output = unread[0]
    } else if let named = unread.first(where: { names[$0] == "output" }) {
      output = named
    } else {
      let list = unread.prefix(5).map { names[$0] }.joined(separator: ", ")
      throw .badBlobReference(
        file: file, layer: "-", reason: "cannot tell the output: \(unread.count) blobs are never read (\(list)) and none is named 'output'")
    }
    layers = built
    blobNames = names
    inputBlob = inputs[0]
    outputBlob = output
    lastReader = readers
  }

  /// The number of weights (scalars) in the graph.
  public var parameterCount: Int {
    layers.reduce(0) { total, layer in
      switch layer.operation {
      case .convolution(let conv): return total + conv.weight.count + (conv.bias?.count ?? 0)
      case .prelu(let slopes): return total + slopes.count
      default: return total
      }
    }
  }
}
