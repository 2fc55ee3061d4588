/// One layer of a loaded ncnn graph: what it computes and which blobs (by index) it reads and writes.
///
/// Supported types, with their parameters as in Tencent/ncnn's layer sources:
/// `Input` (0 w, 1 h, 2 c; a nonzero c is checked), `Split` (copies its input to every output),
/// `Concat` (0 axis: channels only), `Convolution` (`NCNNConvolution`), `PReLU` (0 num_slope;
/// slopes are raw fp32 weights), `Eltwise`/`BinaryOp` (`NCNNArithmetic.swift`), `Interp`
/// (`NCNNInterp`), `PixelShuffle` (0 upscale_factor, 1 mode). Any other type is refused.
public struct NCNNLayer: Sendable {
  public enum Operation: Sendable {
    case input(channels: Int?)
    case split
    case concat
    case convolution(NCNNConvolution)
    case prelu(slopes: [Float])
    case eltwise(NCNNEltwise)
    case binary(NCNNBinaryOp)
    case interp(NCNNInterp)
    case pixelShuffle(factor: Int, subpixelMajor: Bool)
  }

  public let name: String
  public let type: String
  public let operation: Operation
  public let bottoms: [Int]
  public let tops: [Int]

  /// Builds the layer of `spec` (a line of the `.param` file `file`), reading its weights (if any)
  /// from `weights`.
  init(_ spec: NCNNLayerSpec, file: String, bottoms: [Int], tops: [Int], weights: inout NCNNWeightReader) throws(NCNNError) {
    func invalid(_ reason: String) -> NCNNError { .invalidLayer(file: file, layer: spec.name, reason: reason) }
    func arity(_ inputs: ClosedRange<Int>, _ outputs: ClosedRange<Int>) throws(NCNNError) {
      guard inputs.contains(spec.bottoms.count), outputs.contains(spec.tops.count) else {
        throw invalid("\(spec.type) takes \(inputs) input(s) and \(outputs) output(s), found \(spec.bottoms.count) and \(spec.tops.count)")
      }
    }
    switch spec.type {
    case "Input":
      try arity(0...0, 1...1)
      let c = try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
        try spec.allowOnly([0, 1, 2])
        return try p.int(2, default: 0)
      }
      operation = .input(channels: c > 0 ? c : nil)
    case "Split":
      try arity(1...1, 1...4096)
      try spec.reading(file: file) { _ throws(NCNNParamDict.ParseFailure) in try spec.allowOnly([]) }
      operation = .split
    case "Concat":
      try arity(1...4096, 1...1)
      let axis = try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
        try spec.allowOnly([0])
        return try p.int(0, default: 0)
      }
      guard axis == 0 || axis == -3 else { throw invalid("concatenation along axis \(axis) is not supported (channels only)") }
      operation = .concat
    case "Convolution":
      try arity(1...1, 1...1)
      operation = .convolution(try NCNNConvolution(spec, file: file, weights: &weights))
    case "PReLU":
      try arity(1...1, 1...1)
      let count = try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
        try spec.allowOnly([0])
        return try p.int(0, default: 0)
      }
      guard (1...(1 << 16)).contains(count) else { throw invalid("num_slope \(count) is out of range 1…65536") }
      operation = .prelu(slopes: try weights.raw(count, layer: spec.name))
    case "Eltwise":
      operation = .eltwise(try NCNNEltwise(spec, file: file))
    case "BinaryOp":
      operation = .binary(try NCNNBinaryOp(spec, file: file))
    case "Interp":
      operation = .interp(try NCNNInterp(spec, file: file))
    case "PixelShuffle":
      try arity(1...1, 1...1)
      let (factor, mode) = try spec.reading(file: file) { p throws(NCNNParamDict.ParseFailure) in
        try spec.allowOnly([0, 1])
        return (try p.int(0, default: 1), try p.int(1, default: 0))
      }
      guard (1...16).contains(factor) else { throw invalid("upscale_factor \(factor) is out of range 1…16") }
      guard mode == 0 || mode == 1 else { throw invalid("mode \(mode) is not supported (0 or 1)") }
      operation = .pixelShuffle(factor: factor, subpixelMajor: mode == 1)
    default:
      throw .unsupportedLayer(file: file, layer: spec.name, type: spec.type)
    }
    name = spec.name
    type = spec.type
    self.bottoms = bottoms
    self.tops = tops
  }
}

extension NCNNLayerSpec {
  /// Refuses parameter ids outside `ids` (a parameter sdedit does not know could change the meaning).
  func allowOnly(_ ids: Set<Int>) throws(NCNNParamDict.ParseFailure) {
    if let unknown = params.ids.subtracting(ids).min() {
      throw NCNNParamDict.ParseFailure("parameter \(unknown) is not supported for \(type)")
    }
  }

  /// Runs `body` on the parameters, turning a parameter problem into `NCNNError.invalidLayer`.
  func reading<T>(
    file: String, _ body: (NCNNParamDict) throws(NCNNParamDict.ParseFailure) -> T
  ) throws(NCNNError) -> T {
    do throws(NCNNParamDict.ParseFailure) {
      return try body(params)
    } catch {
      throw .invalidLayer(file: file, layer: name, reason: error.reason)
    }
  }
}
