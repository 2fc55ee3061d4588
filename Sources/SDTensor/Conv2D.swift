/// 2-D convolution over NCHW tensors with PyTorch's weight layout `[out, in, kh, kw]`
/// (`torch.nn.functional.conv2d`, groups = 1). A 1×1, stride-1 convolution is one GEMM;
/// every other case is a blocked im2col: the column matrix for a band of output rows is
/// built in a bounded buffer (≤ `columnBudget` scalars) and multiplied into the output, so a
/// 512-channel 3×3 convolution at 512×512 never materialises the full 4.8 GB im2col matrix.
public struct Conv2DPadding: Sendable, Equatable {
  public var top: Int, left: Int, bottom: Int, right: Int

  public init(top: Int, left: Int, bottom: Int, right: Int) {
    self.top = top; self.left = left; self.bottom = bottom; self.right = right
  }

  /// The same padding on every side.
  public static func uniform(_ p: Int) -> Conv2DPadding { .init(top: p, left: p, bottom: p, right: p) }
}

extension Tensor {
  /// Scalars allowed in one im2col band (16 MiB of Float).
  nonisolated(unsafe) static var columnBudget = 4 << 20

  /// Runs `body` with a different im2col band budget (tests use it to force many bands).
  public static func withColumnBudget<R>(_ scalars: Int, _ body: () throws -> R) rethrows -> R {
    let saved = columnBudget
    columnBudget = scalars
    defer { columnBudget = saved }
    return try body()
  }

  public func conv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Int = 0) -> Tensor {
    conv2d(weight: weight, bias: bias, stride: stride, padding: .uniform(padding))
  }

  public func conv2d(weight: Tensor, bias: Tensor?, stride: Int = 1, padding: Conv2DPadding) -> Tensor {
    conv2d(weight: MatrixWeight(weight, role: .convolution, precision: .fp32), bias: bias, stride: stride, padding: padding)
  }

  /// The same with a weight held for the current precision (packed bf16 or fp32).
  public func conv2d(weight: MatrixWeight, bias: Tensor?, stride: Int = 1, padding: Conv2DPadding) -> Tensor {
    precondition(rank == 4 && weight.shape.count == 4, "conv2d: input \(shape), weight \(weight.shape)")
    let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
    let (o, kh, kw) = (weight.shape[0], weight.shape[2], weight.shape[3])
    precondition(weight.shape[1] == c, "conv2d: weight \(weight.shape) expects \(weight.shape[1]) channels, input has \(c)")
    let outH = (h + padding.top + padding.bottom - kh) / stride + 1
    let outW = (w + padding.left + padding.right - kw) / stride + 1
    precondition(outH > 0 && outW > 0, "conv2d: output would be empty for input \(shape)")
    let k = c * kh * kw
    let outPlane = outH * outW
    var y = Profiler.measure("conv2d") { Tensor(shape: [n, o, outH, outW]) { out in
      withUnsafeBufferPointer { xBuf in
        weight.withFloats { wt in
          let x = xBuf.baseAddress!, yb = out.baseAddress!
          // y[o × columns] = W[o × k] · b[k × columns]: OpenBLAS for fp32, BF16GEMM for a packed W.
          func multiply(_ b: UnsafePointer<Float>, columns: Int, ldb: Int, into dst: UnsafeMutablePointer<Float>) {
            if let packed = weight.packed {
              BF16GEMM.multiply(
                m: o, n: columns, k: k, a: .packed(packed), b: .floats(b, leadingDimension: ldb), c: dst, ldc: outPlane)
            } else {
              GEMM.sgemm(m: o, n: columns, k: k, a: wt!, lda: k, b: b, ldb: ldb, c: dst, ldc: outPlane)
            }
          }
          let pointwise = kh == 1 && kw == 1 && stride == 1 && padding == .uniform(0)
          if pointwise {
            for b in 0..<n {
              multiply(x + b * c * h * w, columns: h * w, ldb: h * w, into: yb + b * o * outPlane)
            }
            return
          }
          let bandRows = Swift.max(1, Swift.min(outH, Tensor.columnBudget / Swift.max(1, k * outW)))
          let columns = UnsafeMutablePointer<Float>.allocate(capacity: k * bandRows * outW)
          defer { columns.deallocate() }
          for b in 0..<n {
            let image = x + b * c * h * w
            var row0 = 0
            while row0 < outH {
              let rows = Swift.min(bandRows, outH - row0)
              let width = rows * outW
              // columns: [c·kh·kw, rows·outW]
              Threading.parallelFor(k, grain: 4) { range in
                for kk in range {
                  let ci = kk / (kh * kw), ky = (kk / kw) % kh, kx = kk % kw
                  let plane = image + ci * h * w
                  let dst = columns + kk * width
                  for r in 0..<rows {
                    let iy = (row0 + r) * stride + ky - padding.top
                    let line = dst + r * outW
                    if iy < 0 || iy >= h {
                      line.update(repeating: 0, count: outW)
                      continue
                    }
                    let src = plane + iy * w
                    for ox in 0..<outW {
                      let ix = ox * stride + kx - padding.left
                      line[ox] = (ix >= 0 && ix < w) ? src[ix] : 0
                    }
                  }
                }
              }
              multiply(columns, columns: width, ldb: width, into: yb + b * o * outPlane + row0 * outW)
              row0 += rows
            }
          }
        }
      }
    } }
    if let bias { y.addChannelBias(bias) }
    return y
  }
}
