import Foundation
import SDTensor

/// Times SD-shaped kernels and the same GEMM shapes straight through `sgemm`, so that the
/// overhead of sdedit's layout work (im2col, attention blocking) shows as a ratio.
public enum KernelBenchmark {
  public struct Row: Sendable {
    public let name: String
    public let gflop: Double
    public let seconds: Double
    public var gflops: Double { gflop / seconds }
  }

  /// Median wall time of `repeats` runs of `body` after one warm-up.
  static func time(repeats: Int, _ body: () -> Void) -> Double {
    body()
    var times: [Double] = []
    for _ in 0..<repeats {
      let start = DispatchTime.now().uptimeNanoseconds
      body()
      times.append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
    }
    return times.sorted()[times.count / 2]
  }

  /// Median wall time of each body over `repeats` rounds that run every body once, in turn,
  /// after one warm-up each: interleaving keeps the machine's drifting load fair between them.
  static func interleavedMedians(repeats: Int, _ bodies: [() -> Void]) -> [Double] {
    for body in bodies { body() }
    var times = [[Double]](repeating: [], count: bodies.count)
    for _ in 0..<Swift.max(1, repeats) {
      for (i, body) in bodies.enumerated() {
        let start = DispatchTime.now().uptimeNanoseconds
        body()
        times[i].append(Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
      }
    }
    return times.map { $0.sorted()[$0.count / 2] }
  }

  static func random(_ shape: [Int], seed: UInt64) -> Tensor {
    var rng = TorchRandom(seed: seed)
    return rng.randn(shape)
  }

  /// Runs every case; `repeats` timed runs each (median reported).
  public static func run(repeats: Int = 5) -> [Row] {
    var rows: [Row] = []
    func gemmRow(_ name: String, m: Int, n: Int, k: Int, batch: Int = 1) {
      let a = [Float](repeating: 0.5, count: m * k), b = [Float](repeating: 0.25, count: k * n)
      var c = [Float](repeating: 0, count: m * n)
      let s = time(repeats: repeats) {
        for _ in 0..<batch { GEMM.sgemm(m: m, n: n, k: k, a: a, lda: k, b: b, ldb: n, c: &c, ldc: n) }
      }
      rows.append(Row(name: name, gflop: 2.0 * Double(m * n * k * batch) / 1e9, seconds: s))
    }

    gemmRow("sgemm 2048³", m: 2048, n: 2048, k: 2048)

    // 320 → 320 3×3 convolution on a 64×64 map (SD 1.5's first UNet level at 512×512).
    let x = random([1, 320, 64, 64], seed: 1), w = random([320, 320, 3, 3], seed: 2), bias = random([320], seed: 3)
    let convSeconds = time(repeats: repeats) { _ = x.conv2d(weight: w, bias: bias, padding: 1) }
    let convFlop = 2.0 * 320 * 320 * 9 * 64 * 64 / 1e9
    rows.append(Row(name: "conv 3×3 320→320 @64×64", gflop: convFlop, seconds: convSeconds))
    gemmRow("  sgemm of the same shape (320×4096×2880)", m: 320, n: 4096, k: 2880)

    // 128 → 128 3×3 convolution on a 512×512 map (the VAE decoder's last level at 512×512).
    let vx = random([1, 128, 512, 512], seed: 10), vw = random([128, 128, 3, 3], seed: 11)
    let vaeSeconds = time(repeats: repeats) { _ = vx.conv2d(weight: vw, bias: nil, padding: 1) }
    rows.append(Row(name: "conv 3×3 128→128 @512×512", gflop: 2.0 * 128 * 128 * 9 * 512 * 512 / 1e9, seconds: vaeSeconds))
    gemmRow("  sgemm of the same shape (128×262144×1152)", m: 128, n: 262144, k: 1152)
    let gnSeconds = time(repeats: repeats) { _ = vx.groupNorm(groups: 32, weight: nil, bias: nil, eps: 1e-6, activation: .silu) }
    rows.append(Row(name: "GroupNorm+SiLU [1,128,512,512] (GB moved)", gflop: 2.0 * Double(vx.count * 4) / 1e9, seconds: gnSeconds))

    // 1280 × 1280 linear on 4096 rows.
    let rowsIn = random([4096, 1280], seed: 4), lw = random([1280, 1280], seed: 5), lb = random([1280], seed: 6)
    let linSeconds = time(repeats: repeats) { _ = rowsIn.linear(weight: lw, bias: lb) }
    rows.append(Row(name: "linear 1280→1280 × 4096 rows", gflop: 2.0 * 4096 * 1280 * 1280 / 1e9, seconds: linSeconds))
    gemmRow("  sgemm of the same shape (4096×1280×1280)", m: 4096, n: 1280, k: 1280)

    // 4096-token self-attention, 8 heads of 40 (SD 1.5 at 512×512, first level).
    let q = random([1, 4096, 320], seed: 7), k = random([1, 4096, 320], seed: 8), v = random([1, 4096, 320], seed: 9)
    let attSeconds = time(repeats: repeats) { _ = Attention.scaledDotProduct(q: q, k: k, v: v, heads: 8) }
    let attFlop = 2.0 * 2 * 8 * 4096 * 4096 * 40 / 1e9
    rows.append(Row(name: "attention 4096 tokens, 8 heads × 40", gflop: attFlop, seconds: attSeconds))
    gemmRow("  sgemm QKᵀ per head (4096×4096×40) ×8", m: 4096, n: 4096, k: 40, batch: 8)
    gemmRow("  sgemm PV per head (4096×40×4096) ×8", m: 4096, n: 40, k: 4096, batch: 8)

    // FP32 GEMM and implicit-im2col convolutions, old vs new (F32Benchmark.swift).
    rows += F32Benchmark.rows(repeats: repeats)
    return rows
  }
}
