import CBLAS
import Dispatch
import Foundation

/// How many threads sdedit's kernels use: both OpenBLAS and the non-BLAS kernels
/// (which split their work with `DispatchQueue.concurrentPerform`).
public enum Threading {
  nonisolated(unsafe) private static var configured = ProcessInfo.processInfo.activeProcessorCount

  /// The thread count in use. Setting it also sets OpenBLAS's thread count.
  public static var threadCount: Int {
    get { configured }
    set {
      configured = max(1, newValue)
      openblas_set_num_threads(Int32(configured))
    }
  }

  /// Runs `body(range)` over `0..<count` split into at most `threadCount` contiguous chunks,
  /// in parallel. Chunks are no smaller than `grain` items so that tiny loops stay serial.
  @inlinable
  public static func parallelFor(_ count: Int, grain: Int = 1, _ body: (Range<Int>) -> Void) {
    guard count > 0 else { return }
    let chunks = min(threadCount, max(1, count / max(1, grain)))
    if chunks == 1 {
      body(0..<count)
      return
    }
    DispatchQueue.concurrentPerform(iterations: chunks) { chunk in
      let start = count * chunk / chunks
      let end = count * (chunk + 1) / chunks
      if start < end { body(start..<end) }
    }
  }
}
