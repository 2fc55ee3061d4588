/// Fully connected layer kernel: `y = x · Wᵀ + b` over the last dimension, with PyTorch's
/// weight layout `[out, in]`.
extension Tensor {
  public func linear(weight: Tensor, bias: Tensor?) -> Tensor {
    let inFeatures = dim(-1)
    precondition(weight.rank == 2 && weight.shape[1] == inFeatures, "linear: weight \(weight.shape) for input \(shape)")
    let outFeatures = weight.shape[0]
    let rows = count / max(inFeatures, 1)
    var outShape = shape
    outShape[rank - 1] = outFeatures
    var y = Tensor(shape: outShape) { out in
      withUnsafeBufferPointer { x in
        weight.withUnsafeBufferPointer { w in
          GEMM.sgemm(
            transB: true, m: rows, n: outFeatures, k: inFeatures, a: x.baseAddress!, lda: inFeatures,
            b: w.baseAddress!, ldb: inFeatures, c: out.baseAddress!, ldc: outFeatures)
        }
      }
    }
    if let bias { y.addRowBias(bias) }
    return y
  }
}
