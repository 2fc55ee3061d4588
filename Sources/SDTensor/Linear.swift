/// Fully connected layer kernel: `y = x · Wᵀ + b` over the last dimension, with PyTorch's
/// weight layout `[out, in]`.
extension Tensor {
  public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
    linear(weight: MatrixWeight(weight, role: .linear, precision: .fp32), bias: bias)
  }

  /// The same with a weight held for the current precision: packed bf16 (`BF16GEMM`), packed
  /// fp32 or 16-bit widened per call (`F32GEMM`), or a plain fp32 tensor (OpenBLAS).
  public func linear(weight: MatrixWeight, bias: Tensor?) -> Tensor {
    let inFeatures = dim(-1)
    precondition(weight.shape.count == 2 && weight.shape[1] == inFeatures, "linear: weight \(weight.shape) for input \(shape)")
    let outFeatures = weight.shape[0]
    let rows = count / Swift.max(inFeatures, 1)
    var outShape = shape
    outShape[rank - 1] = outFeatures
    var y = Profiler.measure("linear") {
      Tensor(shape: outShape) { out in
        withUnsafeBufferPointer { x in
          let a = x.baseAddress!, c = out.baseAddress!
          if let packed = weight.packed {
            BF16GEMM.multiply(
              m: rows, n: outFeatures, k: inFeatures, a: .floats(a, leadingDimension: inFeatures),
              b: .packed(packed), c: c, ldc: outFeatures)
          } else if let packed = weight.packedFloat {
            F32GEMM.multiply(
              m: rows, n: outFeatures, k: inFeatures, a: .floats(a, leadingDimension: inFeatures),
              b: .packed(packed), c: c, ldc: outFeatures)
          } else if let halves = weight.halves, F32GEMM.isAvailable {
            withExtendedLifetime(halves) {
              F32GEMM.multiply(
                m: rows, n: outFeatures, k: inFeatures, a: .floats(a, leadingDimension: inFeatures),
                b: halves.operand(transposed: true), c: c, ldc: outFeatures)
            }
          } else {
            weight.floatMatrix().withUnsafeBufferPointer { w in
              GEMM.sgemm(
                transB: true, m: rows, n: outFeatures, k: inFeatures, a: a, lda: inFeatures,
                b: w.baseAddress!, ldb: inFeatures, c: c, ldc: outFeatures)
            }
          }
        }
      }
    }
    if let bias { y.addRowBias(bias) }
    return y
  }
}
