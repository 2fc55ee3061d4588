import CKernels
import Foundation

/// Scaled dot-product attention, `softmax(q·kᵀ·scale)·v` per head, computed in blocks of
/// query rows so that only `blockRows × Tk` scores per thread exist at a time (a 4096-token
/// self-attention never holds the 4096×4096 matrix of all heads). Heads are read in place
/// from the projection layout `[B, T, heads·d]` through GEMM leading dimensions, so no
/// permutation copies are made. The (batch, head, row block) tasks are independent: they are
/// split over the threads, each running single-threaded GEMMs (as PyTorch parallelises its
/// CPU attention over heads), which suits head dims of 40–160 far better than threading each
/// small GEMM. The GEMMs are sdedit's packed kernels (bf16, or fp32 on AVX-512 CPUs), or
/// OpenBLAS elsewhere.
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
      return packed(q: q, k: k, v: v, heads: heads, scale: scale, causal: causal, bf16: true)
    }
    if F32GEMM.isAvailable {
      return packed(q: q, k: k, v: v, heads: heads, scale: scale, causal: causal, bf16: false)
    }
    // Elsewhere: OpenBLAS, single-threaded per task.
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

  /// The packed-kernel form, for `BF16GEMM` (`Precision.bf16`) or `F32GEMM` (fp32 on AVX-512
  /// CPUs): each head's K and V are packed once, then the (batch, head, row block) tasks run the
  /// GEMM single-threaded on their thread; scores stay fp32 and the softmax is the same. No BLAS
  /// call is made, so nothing waits on OpenBLAS's thread count.
  static func packed(q: Tensor, k: Tensor, v: Tensor, heads: Int, scale: Float, causal: Bool, bf16: Bool) -> Tensor {
    let (batch, tq, width) = (q.shape[0], q.shape[1], q.shape[2])
    let tk = k.shape[1], d = width / heads
    let rowsPerBlock = Swift.min(blockRows, tq)
    let blocks = (tq + rowsPerBlock - 1) / rowsPerBlock
    /// kᵀ `[d × Tk]` and v `[Tk × d]` of one (batch, head), packed as B operands.
    enum PackedHead {
      case bf16(PackedBF16Matrix, PackedBF16Matrix)
      case f32(PackedF32Matrix, PackedF32Matrix)
    }
    return Profiler.measure("attention") {
      Tensor(shape: [batch, tq, width]) { out in
        q.withUnsafeBufferPointer { qb in
          k.withUnsafeBufferPointer { kb in
            v.withUnsafeBufferPointer { vb in
              let (qBase, kBase, vBase, oBase) = (qb.baseAddress!, kb.baseAddress!, vb.baseAddress!, out.baseAddress!)
              var packedHeads = [PackedHead?](repeating: nil, count: batch * heads)
              packedHeads.withUnsafeMutableBufferPointer { slots in
                Threading.parallelFor(batch * heads) { range in
                  for bh in range {
                    let offset = (bh / heads) * tk * width + (bh % heads) * d
                    let (kh, vh) = (kBase + offset, vBase + offset)
                    slots[bh] = bf16
                      ? .bf16(
                        PackedBF16Matrix(side: .b, rows: d, columns: tk, floats: kh, leadingDimension: width, transposed: true),
                        PackedBF16Matrix(side: .b, rows: tk, columns: d, floats: vh, leadingDimension: width))
                      : .f32(
                        PackedF32Matrix(side: .b, rows: d, columns: tk, floats: kh, leadingDimension: width, transposed: true),
                        PackedF32Matrix(side: .b, rows: tk, columns: d, floats: vh, leadingDimension: width))
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
                  let (qRows, oRows) = (qBase + rowOffset, oBase + rowOffset)
                  // scores: [rows, Tk] = q[rows, d] · kᵀ[d, Tk]
                  switch packedHeads[bh]! {
                  case .bf16(let kT, _):
                    BF16GEMM.multiply(
                      m: rows, n: tk, k: d, a: .floats(qRows, leadingDimension: width), b: .packed(kT),
                      c: scores, ldc: tk, rows: 0..<rows, columns: 0..<tk)
                  case .f32(let kT, _):
                    F32GEMM.multiply(
                      m: rows, n: tk, k: d, a: .floats(qRows, leadingDimension: width), b: .packed(kT),
                      c: scores, ldc: tk, rows: 0..<rows, columns: 0..<tk)
                  }
                  if causal {
                    for r in 0..<rows where row0 + r + 1 < tk {
                      (scores + r * tk + row0 + r + 1).update(repeating: -.infinity, count: tk - row0 - r - 1)
                    }
                  }
                  ck_softmax_rows(scores, rows, tk, tk, scale)
                  // out: [rows, d] = p[rows, Tk] · v[Tk, d]
                  switch packedHeads[bh]! {
                  case .bf16(_, let vPacked):
                    BF16GEMM.multiply(
                      m: rows, n: d, k: tk, a: .floats(scores, leadingDimension: tk), b: .packed(vPacked),
                      c: oRows, ldc: width, rows: 0..<rows, columns: 0..<d)
                  case .f32(_, let vPacked):
                    F32GEMM.multiply(
                      m: rows, n: d, k: tk, a: .floats(scores, leadingDimension: tk), b: .packed(vPacked),
                      c: oRows, ldc: width, rows: 0..<rows, columns: 0..<d)
                  }
                }
              }
            }
          }
        }
      }
    }
  }
}
