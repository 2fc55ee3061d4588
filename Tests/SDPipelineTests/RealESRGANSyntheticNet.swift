import Foundation
import SDModels

/// A small SRVGGNetCompact-shaped ncnn graph with seeded random weights, built in memory, for the
/// tiling and execution tests that must run without downloaded weights:
/// Input → Split → Conv 3→8 (leaky 0.2) → Conv 8→8 → PReLU → Conv 8→12 → PixelShuffle 2,
/// plus nearest ×2 of the input → BinaryOp add → output. Receptive radius: 3 input pixels.
enum RealESRGANSyntheticNet {
  static let param = """
    7767517
    10 11
    Input         in     0 1 data
    Split         split  1 2 data d0 d1
    Convolution   c1     1 1 d0 a 0=8 1=3 4=1 5=1 6=216 9=2 -23310=1,2.000000e-01
    Convolution   c2     1 1 a b 0=8 1=3 4=1 5=1 6=576
    PReLU         p2     1 1 b c 0=8
    Convolution   c3     1 1 c e 0=12 1=3 4=1 5=1 6=864
    PixelShuffle  ps     1 1 e f 0=2
    Interp        up     1 1 d1 g 0=1 1=2.000000e+00 2=2.000000e+00
    BinaryOp      add    2 1 f g h 0=0
    BinaryOp      scale  1 1 h output 0=2 1=1 2=1.000000e+00
    """

  /// The weights, fp32 behind tag 0 (conv kernels), raw fp32 for biases and slopes.
  static func bin(seed: UInt64 = 1) -> Data {
    var state = seed
    func next() -> Float {  // a fixed LCG: values in [-0.5, 0.5) scaled per layer
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Float(state >> 40) / Float(1 << 24) - 0.5
    }
    var data = Data()
    func put(_ v: UInt32) { withUnsafeBytes(of: v.littleEndian) { data.append(contentsOf: $0) } }
    func floats(_ count: Int, scale: Float) { for _ in 0..<count { put((next() * scale).bitPattern) } }
    put(0); floats(216, scale: 0.6); floats(8, scale: 0.2)  // c1
    put(0); floats(576, scale: 0.3); floats(8, scale: 0.2)  // c2
    floats(8, scale: 0.5)  // p2 slopes
    put(0); floats(864, scale: 0.3); floats(12, scale: 0.1)  // c3
    return data
  }

  static func load() throws -> NCNNNet {
    let file = try NCNNParamFile.parse(param, file: "synthetic.param")
    var weights = NCNNWeightReader(data: bin(), file: "synthetic.bin")
    return try NCNNNet(file, weights: &weights)
  }
}
