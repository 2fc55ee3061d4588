/// The shape of one blob for a batch of one image: channels × height × width.
public struct NCNNBlobShape: Sendable, Equatable, CustomStringConvertible {
  public var channels: Int
  public var height: Int
  public var width: Int

  public init(channels: Int, height: Int, width: Int) {
    self.channels = channels
    self.height = height
    self.width = width
  }

  public var count: Int { channels * height * width }
  public var description: String { "\(channels)×\(height)×\(width)" }
}

extension NCNNNet {
  /// Blobs larger than this many scalars (4 GiB of Float) are refused before anything is allocated.
  public static let maxBlobElements = 1 << 30

  /// Every blob's shape when the graph runs on `input`, checking each layer's expectations
  /// (channel counts, equal operand shapes, kernels that fit, sizes that stay reasonable).
  public func shapes(forInput input: NCNNBlobShape) throws(NCNNError) -> [NCNNBlobShape] {
    var shapes = [NCNNBlobShape?](repeating: nil, count: blobNames.count)
    for layer in layers {
      func fail(_ reason: String) -> NCNNError { .shapeMismatch(file: file, layer: layer.name, reason: reason) }
      let ins = layer.bottoms.map { shapes[$0]! }  // produced by an earlier layer (checked on load)
      var out: NCNNBlobShape
      switch layer.operation {
      case .input(let channels):
        if let channels, channels != input.channels {
          throw fail("the graph expects \(channels) input channels, the image has \(input.channels)")
        }
        out = input
      case .split:
        out = ins[0]
      case .concat:
        guard ins.allSatisfy({ $0.height == ins[0].height && $0.width == ins[0].width }) else {
          throw fail("inputs of different sizes: \(ins.map(\.description).joined(separator: ", "))")
        }
        out = NCNNBlobShape(channels: ins.reduce(0) { $0 + $1.channels }, height: ins[0].height, width: ins[0].width)
      case .convolution(let conv):
        guard ins[0].channels == conv.inChannels else {
          throw fail("expects \(conv.inChannels) input channels, gets \(ins[0].channels)")
        }
        let p = conv.padding
        guard let h = conv.outputExtent(ins[0].height, kernel: conv.kernelHeight, before: p.top, after: p.bottom),
          let w = conv.outputExtent(ins[0].width, kernel: conv.kernelWidth, before: p.left, after: p.right)
        else {
          throw fail("input \(ins[0]) is smaller than the \(conv.kernelHeight)×\(conv.kernelWidth) kernel")
        }
        out = NCNNBlobShape(channels: conv.outChannels, height: h, width: w)
      case .prelu(let slopes):
        guard slopes.count == 1 || slopes.count == ins[0].channels else {
          throw fail("\(slopes.count) slopes for \(ins[0].channels) channels")
        }
        out = ins[0]
      case .eltwise:
        guard ins.allSatisfy({ $0 == ins[0] }) else {
          throw fail("operands of different shapes: \(ins.map(\.description).joined(separator: ", "))")
        }
        out = ins[0]
      case .binary:
        guard ins.allSatisfy({ $0 == ins[0] }) else {
          throw fail("operands of different shapes (broadcasting is not supported): \(ins.map(\.description).joined(separator: ", "))")
        }
        out = ins[0]
      case .interp(let interp):
        let size = interp.outputSize(height: ins[0].height, width: ins[0].width)
        guard size.height > 0, size.width > 0 else { throw fail("resizing \(ins[0]) gives an empty output") }
        out = NCNNBlobShape(channels: ins[0].channels, height: size.height, width: size.width)
      case .pixelShuffle(let r, _):
        guard ins[0].channels % (r * r) == 0 else {
          throw fail("\(ins[0].channels) channels are not a multiple of \(r * r)")
        }
        out = NCNNBlobShape(channels: ins[0].channels / (r * r), height: ins[0].height * r, width: ins[0].width * r)
      }
      let (plane, overflow1) = out.height.multipliedReportingOverflow(by: out.width)
      let (total, overflow2) = plane.multipliedReportingOverflow(by: out.channels)
      guard !overflow1, !overflow2, total <= Self.maxBlobElements else {
        throw fail("output \(out) is too large (more than \(Self.maxBlobElements) values)")
      }
      for top in layer.tops { shapes[top] = out }
    }
    return shapes.map { $0! }
  }
}
