import CKernels
import Foundation

/// Scaled dot-product attention, `softmax(q·kᵀ·scale)·v` per head, computed in blocks of
/// query rows so that only `blockRows × Tk` scores per thread exist at a time (a 4096-token
/// self-attention never holds the 4096×4096 matrix of all heads). Heads are read in place
/// from the projection layout `[B, T, heads·d]` through GEMM leading dimensions, so no
/// permutation copies are made. The (batch, head, row block) tasks are independent: they are
/// split over the threads, each running single-threaded GEMMs (as PyTorch parallelises its
/// CPU attention over heads), which suits head dims of 40–160 far better than threading each
/// small GEMM.
public enum Attention {
  /// Query rows per block.
  public static let blockRows = 128

  /// `q`: `[B, Tq, heads·d]`, `k`, `v`: `[B, Tk, heads·d]` → `[B, Tq, heads·d]`.
  /// `scale` defaults to `1/√d` (PyTorch's `scaled_dot_product_attention`). `causal` masks
  /// key positions after each query position (CLIP's text transformer). `precision` bf16 runs
  /// both products in bfloat16 (the layer's projections were packed for it).
  public static func scaledDotProduct(
    q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float? = nil, causal: Bool = false,
    precision: Precision = .fp32
  ) -> Tensor {
    precondition(q.rank == 3 && k.rank == 3 && v.rank == 3, "attention: q \(q.shape) k \(k.shape) v \(v.shape)")
    let (batch, tq, width) = (q.shape[0], q.shape[1], q.shape[2])
    let tk = k.shape[1]
    precondition(k.shape == [batch, tk, width] && v.shape == k.shape, "attention: q \(q.shape) k \(k.shape) v \(v.shape)")
    precondition(width % heads == 0, "attention: width \(width) is not divisible by \(heads) heads")
    let d = width / heads
    let scale = scale ?? 1 / Float(d).squareRoot()
    let rowsPerBlock = Swift.min(blockRows, tq)
    let blocks = (tq + rowsPerBlock - 1) / rowsPerBlock
    if precision == .bf16, BF16GEMM.isAvailable {
      return bf16(q: q, k: k, v: v, heads: heads, scale: scale, causal: causal)
    }
    return Profiler.measure("attention") {
      Tensor(shape: [batch, tq, width]) { out in
        q.withUnsafeBufferPointer { qb in
          k.withUnsafeBufferPointer { kb in
            v.withUnsafeBufferPointer { vb in
              let (qBase, kBase, vBase, oBase) = (qb.baseAddress!, kb.baseAddress!, vb.baseAddress!, out.baseAddress!)
              GEMM.withSingleThreadedBLAS { blas in
                Threading.parallelFor(batch * heads * blocks) { tasks in
                  let scores = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * tk)
                  defer { scores.deallocate() }
                  for task in tasks {
                    let (bh, block) = task.quotientAndRemainder(dividingBy: blocks)
                    let (b, h) = bh.quotientAndRemainder(dividingBy: heads)
                    let row0 = block * rowsPerBlock, rows = Swift.min(rowsPerBlock, tq - row0)
                    let offset = b * tk * width + h * d
                    let oh = oBase + b * tq * width + h * d + row0 * width
                    // scores: [rows, Tk] = q[rows, d] · kᵀ[d, Tk]
                    blas.sgemm(
                      transB: true, m: rows, n: tk, k: d, a: qBase + b * tq * width + h * d + row0 * width,
                      lda: width, b: kBase + offset, ldb: width, c: scores, ldc: tk)
                    if causal {
                      for r in 0..<rows where row0 + r + 1 < tk {
                        (scores + r * tk + row0 + r + 1).update(repeating: -.infinity, count: tk - row0 - r - 1)
                      }
                    }
                    ck_softmax_rows(scores, rows, tk, tk, scale)
                    // out: [rows, d] = p[rows, Tk] · v[Tk, d]
                    blas.sgemm(
                      m: rows, n: d, k: tk, a: scores, lda: tk, b: vBase + offset, ldb: width, c: oh, ldc: width)
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// The bf16 form (`Precision.bf16`): each head's K and V are packed to bfloat16 once, then the
  /// (batch, head, row block) tasks run the BF16 GEMM single-threaded; scores stay fp32 and the
  /// softmax is the same.
  static func bf16(q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float, causal: Bool) -> Tensor {
    let (batch, tq, width) = (q.shape[0], q.shape[1], q.shape[2])
    let tk = k.shape[1], d = width / heads
    let rowsPerBlock = Swift.min(blockRows, tq)
    let blocks = (tq + rowsPerBlock - 1) / rowsPerBlock
    return Profiler.measure("attention") {
      Tensor(shape: [batch, tq, width]) { out in
        q.withUnsafeBufferPointer { qb in
          k.withUnsafeBufferPointer { kb in
            v.withUnsafeBufferPointer { vb in
              let (qBase, kBase, vBase, oBase) = (qb.baseAddress!, kb.baseAddress!, vb.baseAddress!, out.baseAddress!)
              // kᵀ: [d × Tk] and v: [Tk × d] of each (batch, head), as B operands.
              var packedK = [PackedBF16Matrix?](repeating: nil, count: batch * heads)
              var packedV = packedK
              packedK.withUnsafeMutableBufferPointer { pk in
                packedV.withUnsafeMutableBufferPointer { pv in
                  Threading.parallelFor(batch * heads) { range in
                    for bh in range {
                      let offset = (bh / heads) * tk * width + (bh % heads) * d
                      pk[bh] = PackedBF16Matrix(
                        side: .b, rows: d, columns: tk, floats: kBase + offset, leadingDimension: width, transposed: true)
                      pv[bh] = PackedBF16Matrix(side: .b, rows: tk, columns: d, floats: vBase + offset, leadingDimension: width)
                    }
                  }
                }
              }
              Threading.parallelFor(batch * heads * blocks) { tasks in
                let scores = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * tk)
                defer { scores.deallocate() }
                for task in tasks {
                  let (bh, block) = task.quotientAndRemainder(dividingBy: blocks)
                  let (b, h) = bh.quotientAndRemainder(dividingBy: heads)
                  let row0 = block * rowsPerBlock, rows = Swift.min(rowsPerBlock, tq - row0)
                  let rowOffset = b * tq * width + h * d + row0 * width
                  BF16GEMM.multiply(
                    m: rows, n: tk, k: d, a: .floats(qBase + rowOffset, leadingDimension: width),
                    b: .packed(packedK[bh]!), c: scores, ldc: tk, rows: 0..<rows, columns: 0..<tk)
                  if causal {
                    for r in 0..<rows where row0 + r + 1 < tk {
                      (scores + r * tk + row0 + r + 1).update(repeating: -.infinity, count: tk - row0 - r - 1)
                    }
                  }
                  ck_softmax_rows(scores, rows, tk, tk, scale)
                  BF16GEMM.multiply(
                    m: rows, n: d, k: tk, a: .floats(scores, leadingDimension: tk), b: .packed(packedV[bh]!),
                    c: oBase + rowOffset, ldc: width, rows: 0..<rows, columns: 0..<d)
                }
              }
            }
          }
        }
      }
    }
  }
}
