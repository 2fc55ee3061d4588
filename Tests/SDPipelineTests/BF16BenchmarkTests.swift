import Foundation
import SDPipeline
import Testing

/// Prints the bf16-vs-sgemm benchmark (`BF16Benchmark`); slow, so it runs only with
/// `SDEDIT_BENCH_BF16=1` in the environment (optional: SDEDIT_BENCH_REPEATS, SDEDIT_BENCH_THREADS).
@Suite struct BF16BenchmarkTests {
  @Test(.enabled(if: ProcessInfo.processInfo.environment["SDEDIT_BENCH_BF16"] == "1", "set SDEDIT_BENCH_BF16=1 to run"))
  func printBenchmark() {
    let repeats = Int(ProcessInfo.processInfo.environment["SDEDIT_BENCH_REPEATS"] ?? "") ?? 5
    let threads = Int(ProcessInfo.processInfo.environment["SDEDIT_BENCH_THREADS"] ?? "")
    let lines = BF16Benchmark.run(repeats: repeats, threads: threads, log: { print($0) })
    #expect(!lines.isEmpty)
  }
}
