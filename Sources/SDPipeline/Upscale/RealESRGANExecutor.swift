import SDModels
import SDTensor

/// Runs a loaded ncnn graph (`NCNNNet`) with SDTensor kernels, in float32, on one image.
///
/// Each layer does what its Tencent/ncnn CPU implementation does (see the `NCNNLayer` types):
/// convolutions go through `conv2d` (im2col + sgemm) with the bias and the fused leaky ReLU applied
/// in one in-place pass; PReLU, Eltwise and BinaryOp overwrite their first input when no later
/// layer reads it; `Split` shares storage (copy on write). Blobs are released after their last
/// reader, so the live set is what the graph needs at each step, not the whole graph.
extension NCNNNet {
  /// Runs the graph on `input` (`[1, C, H, W]`) and returns the output blob (`[1, C', H', W']`).
  /// The shapes are checked first (`shapes(forInput:)`), so a bad input throws before any work.
  public func forward(_ input: Tensor) throws(NCNNError) -> Tensor {
    precondition(input.rank == 4 && input.shape[0] == 1, "NCNNNet.forward: expects [1, C, H, W], got \(input.shape)")
    let shapes = try shapes(forInput: NCNNBlobShape(channels: input.shape[1], height: input.shape[2], width: input.shape[3]))
    var blobs = [Tensor?](repeating: nil, count: blobNames.count)
    for (index, layer) in layers.enumerated() {
      var ins = layer.bottoms.map { blobs[$0]! }
      for b in layer.bottoms where lastReader[b] == index && b != outputBlob { blobs[b] = nil }
      let out: Tensor
      switch layer.operation {
      case .input:
        out = input
      case .split:
        out = ins[0]
      case .concat:
        out = ins.count == 1 ? ins[0] : Tensor.concat(ins, axis: 1)  // [1, ΣC, H, W]
      case .convolution(let conv):
        var y = ins[0].conv2d(weight: conv.weight, bias: nil, stride: conv.stride, padding: conv.padding)
        y.addChannelBias(conv.bias, leakyReLUSlope: conv.activation.negativeSlope)
        out = y
      case .prelu(let slopes):
        var x = ins.removeFirst()
        x.applyPReLU(slopes: slopes)
        out = x
      case .eltwise(let eltwise):
        out = Self.eltwise(eltwise, &ins)
      case .binary(let binary):
        var x = ins.removeFirst()
        if let b = binary.scalar {
          let op = binary.operation
          x.update { op($0, b) }
        } else {
          let op = binary.operation
          x.combine(ins[0]) { op($0, $1) }
        }
        out = x
      case .interp(let interp):
        let (h, w) = (ins[0].shape[2], ins[0].shape[3])
        let size = interp.outputSize(height: h, width: w)
        if size.height == h && size.width == w {
          out = ins[0]  // ncnn passes the blob through unchanged
        } else if interp.mode == .nearest {
          let step = interp.nearestSteps(height: h, width: w)
          out = ins[0].resizedNearest(height: size.height, width: size.width, stepY: step.y, stepX: step.x)
        } else {
          out = ins[0].resizedBicubic(height: size.height, width: size.width)
        }
      case .pixelShuffle(let factor, let subpixelMajor):
        out = ins[0].pixelShuffled(factor, subpixelMajor: subpixelMajor)  // [1, C/r², H·r, W·r]
      }
      assert(out.shape == [1, shapes[layer.tops[0]].channels, shapes[layer.tops[0]].height, shapes[layer.tops[0]].width])
      for top in layer.tops { blobs[top] = out }
    }
    return blobs[outputBlob]!
  }

  /// Eltwise over `ins` (consumed): the first operand is overwritten when nothing else holds it.
  static func eltwise(_ layer: NCNNEltwise, _ ins: inout [Tensor]) -> Tensor {
    var acc = ins.removeFirst()
    switch layer.operation {
    case .sum:
      let c = layer.coefficients
      acc.scale(by: c?[0] ?? 1)
      for (i, x) in ins.enumerated() { acc.add(x, scaledBy: c?[i + 1] ?? 1) }
    case .product:
      for x in ins { acc.combine(x) { $0 * $1 } }
    case .max:
      for x in ins { acc.combine(x) { Swift.max($0, $1) } }
    }
    return acc
  }
}
