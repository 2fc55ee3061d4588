import CKernels
import Foundation

/// Scaled dot-product attention, `softmax(q·kᵀ·scale)·v` per head, computed in blocks of
/// query rows so that only `blockRows × Tk` scores per thread exist at a time (a 4096-token
/// self-attention never holds the 4096×4096 matrix of all heads). Heads are read in place
/// from the projection layout `[B, T, heads·d]` through GEMM leading dimensions, so no
/// permutation copies are made. The (batch, head, row block) tasks are independent: they are
/// split over the threads, each running single-threaded GEMMs (as PyTorch parallelises its
/// CPU attention over heads), which suits head dims of 40–160 far better than threading each
/// small GEMM. The GEMMs are sdedit's packed kernels (bf16, or fp32 on AVX-512 CPUs, with each
/// head's K and V packed once), or OpenBLAS elsewhere.
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
    let shape = Shape(batch: batch, tq: tq, tk: tk, width: width, heads: heads, scale: scale ?? 1 / Float(d).squareRoot(), causal: causal)
    return Profiler.measure("attention") {
      Tensor(shape: [batch, tq, width]) { out in
        q.withUnsafeBufferPointer { qb in
          k.withUnsafeBufferPointer { kb in
            v.withUnsafeBufferPointer { vb in
              let (qBase, kBase, vBase) = (qb.baseAddress!, kb.baseAddress!, vb.baseAddress!)
              if precision == .bf16, BF16GEMM.isAvailable {
                packedProducts(BF16GEMM.self, shape, q: qBase, k: kBase, v: vBase, out: out.baseAddress!)
              } else if F32GEMM.isAvailable {
                packedProducts(F32GEMM.self, shape, q: qBase, k: kBase, v: vBase, out: out.baseAddress!)
              } else {
                GEMM.withSingleThreadedBLAS { blas in
                  run(shape, q: qBase, out: out.baseAddress!) { bh, qRows, rows, scores in
                    blas.sgemm(
                      transB: true, m: rows, n: tk, k: d, a: qRows, lda: width, b: kBase + shape.offset(bh), ldb: width,
                      c: scores, ldc: tk)
                  } weighted: { bh, scores, rows, oRows in
                    blas.sgemm(m: rows, n: d, k: tk, a: scores, lda: tk, b: vBase + shape.offset(bh), ldb: width, c: oRows, ldc: width)
                  }
                }
              }
            }
          }
        }
      }
    }
  }

  /// The sizes of one attention call.
  struct Shape {
    let batch: Int, tq: Int, tk: Int, width: Int, heads: Int, scale: Float, causal: Bool
    var d: Int { width / heads }
    var rowsPerBlock: Int { Swift.min(blockRows, tq) }
    var blocks: Int { (tq + rowsPerBlock - 1) / rowsPerBlock }
    /// Where head `bh` (batch · heads + head) starts in K or V.
    func offset(_ bh: Int) -> Int { (bh / heads) * tk * width + (bh % heads) * d }
  }

  /// Both products by sdedit's packed GEMM for `Element`, with each head's kᵀ and v packed once.
  static func packedProducts<Element>(
    _: PackedGEMM<Element>.Type, _ s: Shape, q: UnsafePointer<Float>, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    out: UnsafeMutablePointer<Float>
  ) {
    let (d, tk, width) = (s.d, s.tk, s.width)
    let heads = packHeads(s, k: k, v: v) { kT, vh in
      (PackedMatrix<Element>(side: .b, rows: d, columns: tk, floats: kT, leadingDimension: width, transposed: true),
       PackedMatrix<Element>(side: .b, rows: tk, columns: d, floats: vh, leadingDimension: width))
    }
    run(s, q: q, out: out) { bh, qRows, rows, scores in
      PackedGEMM<Element>.multiply(
        m: rows, n: tk, k: d, a: .floats(qRows, leadingDimension: width), b: .packed(heads[bh].0),
        c: scores, ldc: tk, rows: 0..<rows, columns: 0..<tk)  // [rows, Tk]
    } weighted: { bh, scores, rows, oRows in
      PackedGEMM<Element>.multiply(
        m: rows, n: d, k: tk, a: .floats(scores, leadingDimension: tk), b: .packed(heads[bh].1),
        c: oRows, ldc: width, rows: 0..<rows, columns: 0..<d)  // [rows, d]
    }
  }

  /// Packs the kᵀ `[d × Tk]` and v `[Tk × d]` of every (batch, head) once, in parallel.
  static func packHeads<P>(
    _ s: Shape, k: UnsafePointer<Float>, v: UnsafePointer<Float>,
    _ pack: (_ k: UnsafePointer<Float>, _ v: UnsafePointer<Float>) -> (P, P)
  ) -> [(P, P)] {
    var packed = [(P, P)?](repeating: nil, count: s.batch * s.heads)
    packed.withUnsafeMutableBufferPointer { slots in
      Threading.parallelFor(s.batch * s.heads) { range in
        for bh in range { slots[bh] = pack(k + s.offset(bh), v + s.offset(bh)) }
      }
    }
    return packed.map { $0! }
  }

  /// The (batch, head, row block) tasks over the threads: `scores` computes q·kᵀ of `rows` query
  /// rows into a `[rows, Tk]` buffer, which is masked (causal), softmaxed with `scale`, and
  /// handed to `weighted` to write p·v into the output rows.
  static func run(
    _ s: Shape, q: UnsafePointer<Float>, out: UnsafeMutablePointer<Float>,
    scores: (_ bh: Int, _ qRows: UnsafePointer<Float>, _ rows: Int, _ scores: UnsafeMutablePointer<Float>) -> Void,
    weighted: (_ bh: Int, _ scores: UnsafePointer<Float>, _ rows: Int, _ out: UnsafeMutablePointer<Float>) -> Void
  ) {
    let (blocks, rowsPerBlock, tk) = (s.blocks, s.rowsPerBlock, s.tk)
    Threading.parallelFor(s.batch * s.heads * blocks) { tasks in
      let buffer = UnsafeMutablePointer<Float>.allocate(capacity: rowsPerBlock * tk)
      defer { buffer.deallocate() }
      for task in tasks {
        let (bh, block) = task.quotientAndRemainder(dividingBy: blocks)
        let row0 = block * rowsPerBlock, rows = Swift.min(rowsPerBlock, s.tq - row0)
        let rowOffset = (bh / s.heads) * s.tq * s.width + (bh % s.heads) * s.d + row0 * s.width
        scores(bh, q + rowOffset, rows, buffer)  // [rows, Tk]
        if s.causal {
          for r in 0..<rows where row0 + r + 1 < tk {
            (buffer + r * tk + row0 + r + 1).update(repeating: -.infinity, count: tk - row0 - r - 1)
          }
        }
        ck_softmax_rows(buffer, rows, tk, tk, s.scale)
        weighted(bh, buffer, rows, out + rowOffset)  // [rows, d]
      }
    }
  }
}
