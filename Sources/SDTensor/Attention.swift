import Foundation

/// Scaled dot-product attention, `softmax(q·kᵀ·scale)·v` per head, computed in blocks of
/// query rows so that only `blockRows × Tk` scores exist at a time (a 4096-token
/// self-attention never holds the 4096×4096 matrix of all heads). Heads are read in place
/// from the projection layout `[B, T, heads·d]` through GEMM leading dimensions, so no
/// permutation copies are made.
public enum Attention {
  /// Query rows per block.
  public static let blockRows = 256

  /// `q`: `[B, Tq, heads·d]`, `k`, `v`: `[B, Tk, heads·d]` → `[B, Tq, heads·d]`.
  /// `scale` defaults to `1/√d` (PyTorch's `scaled_dot_product_attention`). `causal` masks
  /// key positions after each query position (CLIP's text transformer).
  public static func scaledDotProduct(
    q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float? = nil, causal: Bool = false
  ) -> Tensor {
    precondition(q.rank == 3 && k.rank == 3 && v.rank == 3, "attention: q \(q.shape) k \(k.shape) v \(v.shape)")
    let (batch, tq, width) = (q.shape[0], q.shape[1], q.shape[2])
    let tk = k.shape[1]
    precondition(k.shape == [batch, tk, width] && v.shape == k.shape, "attention: q \(q.shape) k \(k.shape) v \(v.shape)")
    precondition(width % heads == 0, "attention: width \(width) is not divisible by \(heads) heads")
    let d = width / heads
    let scale = scale ?? 1 / Float(d).squareRoot()
    let rowsPerBlock = Swift.min(blockRows, tq)
    let scores = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * tk)
    defer { scores.deallocate() }
    return Tensor(shape: [batch, tq, width]) { out in
      q.withUnsafeBufferPointer { qb in
        k.withUnsafeBufferPointer { kb in
          v.withUnsafeBufferPointer { vb in
            for b in 0..<batch {
              for h in 0..<heads {
                let qh = qb.baseAddress! + b * tq * width + h * d
                let kh = kb.baseAddress! + b * tk * width + h * d
                let vh = vb.baseAddress! + b * tk * width + h * d
                let oh = out.baseAddress! + b * tq * width + h * d
                var row0 = 0
                while row0 < tq {
                  let rows = Swift.min(rowsPerBlock, tq - row0)
                  // scores: [rows, Tk] = q[rows, d] · kᵀ[d, Tk]
                  GEMM.sgemm(
                    transB: true, m: rows, n: tk, k: d, a: qh + row0 * width, lda: width,
                    b: kh, ldb: width, c: scores, ldc: tk)
                  if causal {
                    for r in 0..<rows where row0 + r + 1 < tk {
                      (scores + r * tk + row0 + r + 1).update(repeating: -.infinity, count: tk - row0 - r - 1)
                    }
                  }
                  SoftmaxKernel.rows(scores, rows: rows, length: tk, scale: scale)
                  // out: [rows, d] = p[rows, Tk] · v[Tk, d]
                  GEMM.sgemm(
                    m: rows, n: d, k: tk, a: scores, lda: tk, b: vh, ldb: width,
                    c: oh + row0 * width, ldc: width)
                  row0 += rows
                }
              }
            }
          }
        }
      }
    }
  }
}
