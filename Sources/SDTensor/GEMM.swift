import CBLAS
import Foundation

/// The only file that calls BLAS. Row-major single-precision matrix products.
public enum GEMM {
  /// `c[m×n] = alpha · op(a) · op(b) + beta · c`, row-major, with leading dimensions.
  /// `op(a)` is `m×k` (`a` is `k×m` when `transA`), `op(b)` is `k×n` (`b` is `n×k` when `transB`).
  @inlinable
  public static func sgemm(
    transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
    alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int,
    beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    BLASThreads.shared {
      unlockedSGEMM(
        transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb, beta: beta,
        c: c, ldc: ldc)
    }
  }

  /// `sgemm` for a caller that already holds the BLAS lock (or the exclusive section).
  @usableFromInline
  static func unlockedSGEMM(
    transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    guard m > 0, n > 0 else { return }
    FLOPCounter.add(2 * m * n * k)
    if k == 0 {
      for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
      return
    }
    cblas_sgemm(
      CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
      Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
  }

  /// Runs `body` with OpenBLAS single-threaded, for callers that split independent GEMMs
  /// over `Threading.parallelFor` themselves (attention's heads): each worker's GEMM, made
  /// through the `SingleThreadedBLAS` handed to `body`, then runs inline on that worker instead
  /// of queueing for OpenBLAS's own thread pool.
  ///
  /// OpenBLAS's thread count is process-wide, so the section is exclusive: other threads'
  /// `sgemm` calls (a second pipeline in the same process, concurrent tests) wait until it
  /// ends rather than run with the count changed under them — which would make their results
  /// depend on timing, as OpenBLAS's edge kernels round differently for different splits.
  public static func withSingleThreadedBLAS<R>(_ body: (SingleThreadedBLAS) throws -> R) rethrows -> R {
    try BLASThreads.exclusive {
      openblas_set_num_threads(1)
      defer { openblas_set_num_threads(Int32(Threading.threadCount)) }
      return try body(SingleThreadedBLAS())
    }
  }

  /// `y += alpha · x`.
  @inlinable
  public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
    cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
  }
}

extension Tensor {
  /// Matrix product over the last two dimensions, broadcasting nothing:
  /// `[..., m, k] × [..., k, n] → [..., m, n]` (batch dimensions must be equal), or a
  /// batched `[..., m, k] × [k, n]` when `other` is rank 2.
  /// `transposeB` reads `other` as `[..., n, k]`.
  public func matmul(_ other: Tensor, transposeB: Bool = false) -> Tensor {
    precondition(rank >= 2 && other.rank >= 2, "matmul: rank < 2 (\(shape) × \(other.shape))")
    let m = dim(-2), k = dim(-1)
    let bk = transposeB ? other.dim(-1) : other.dim(-2)
    let n = transposeB ? other.dim(-2) : other.dim(-1)
    precondition(bk == k, "matmul: inner dimensions differ (\(shape) × \(other.shape), transposeB \(transposeB))")
    let batch = count / (m * k)
    let sharedB = other.rank == 2
    precondition(sharedB || other.count / (bk * n) == batch, "matmul: batch sizes differ (\(shape) × \(other.shape))")
    var outShape = Array(shape.dropLast(2))
    outShape += [m, n]
    if sharedB {
      // One GEMM with the batch folded into the rows.
      return Tensor(shape: outShape) { out in
        withUnsafeBufferPointer { a in
          other.withUnsafeBufferPointer { b in
            GEMM.sgemm(
              transB: transposeB, m: batch * m, n: n, k: k, a: a.baseAddress!, lda: k,
              b: b.baseAddress!, ldb: transposeB ? k : n, c: out.baseAddress!, ldc: n)
          }
        }
      }
    }
    return Tensor(shape: outShape) { out in
      withUnsafeBufferPointer { a in
        other.withUnsafeBufferPointer { b in
          for i in 0..<batch {
            GEMM.sgemm(
              transB: transposeB, m: m, n: n, k: k, a: a.baseAddress! + i * m * k, lda: k,
              b: b.baseAddress! + i * k * n, ldb: transposeB ? k : n,
              c: out.baseAddress! + i * m * n, ldc: n)
          }
        }
      }
    }
  }
}

/// Counts the multiply-add work sdedit's matrix products execute (2·m·n·k per GEMM), so the
/// benchmark reports FLOPs of the operations it actually ran.
public enum FLOPCounter {
  @usableFromInline nonisolated(unsafe) static var total = 0
  @usableFromInline static let lock = NSLock()

  @inlinable
  public static func add(_ flops: Int) {
    lock.lock()
    total &+= flops
    lock.unlock()
  }

  /// FLOPs counted since the process started.
  public static var count: Int {
    lock.lock()
    defer { lock.unlock() }
    return total
  }
}

/// The GEMM available inside `GEMM.withSingleThreadedBLAS` (which holds the BLAS lock
/// exclusively, so these calls must not take it again).
public struct SingleThreadedBLAS: Sendable {
  fileprivate init() {}

  /// `GEMM.sgemm` without the lock, on the calling thread.
  public func sgemm(
    transB: Bool = false, m: Int, n: Int, k: Int, a: UnsafePointer<Float>, lda: Int,
    b: UnsafePointer<Float>, ldb: Int, c: UnsafeMutablePointer<Float>, ldc: Int
  ) {
    GEMM.unlockedSGEMM(
      transA: false, transB: transB, m: m, n: n, k: k, alpha: 1, a: a, lda: lda, b: b, ldb: ldb, beta: 0, c: c, ldc: ldc)
  }
}

/// The process-wide lock around OpenBLAS's thread count: ordinary GEMMs hold it shared,
/// `GEMM.withSingleThreadedBLAS` exclusively.
@usableFromInline
enum BLASThreads {
  nonisolated(unsafe) static let lock: UnsafeMutablePointer<pthread_rwlock_t> = {
    let lock = UnsafeMutablePointer<pthread_rwlock_t>.allocate(capacity: 1)
    pthread_rwlock_init(lock, nil)
    return lock
  }()

  @usableFromInline
  static func shared<R>(_ body: () throws -> R) rethrows -> R {
    pthread_rwlock_rdlock(lock)
    defer { pthread_rwlock_unlock(lock) }
    return try body()
  }

  static func exclusive<R>(_ body: () throws -> R) rethrows -> R {
    pthread_rwlock_wrlock(lock)
    defer { pthread_rwlock_unlock(lock) }
    return try body()
  }
}
