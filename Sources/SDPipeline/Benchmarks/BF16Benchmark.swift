import Foundation
import SDTensor

/// Times the bf16 GEMM (`BF16GEMM`) against fp32 `GEMM.sgemm` on the same shapes in the same
/// run: 2048³ and the GEMMs of SD 1.5 at 512×512 (linear layers, 3×3 convolutions as GEMMs,
/// one attention block). Weights are packed once before timing, as a model does at load;
/// activations are packed inside the timed call.
///
/// Usage: `BF16Benchmark.run(repeats: 5, threads: nil, log: { print($0) })` returns the report
/// lines and passes each to `log` as soon as it is measured.
public enum BF16Benchmark {
  /// One shape: median GFLOP/s of each implementation.
  public struct Row: Sendable {
    public let name: String
    public let sgemmGFLOPS: Double
    public let bf16GFLOPS: Double
    public var ratio: Double { bf16GFLOPS / sgemmGFLOPS }
  }

  /// Runs every shape (`repeats` timed runs each, alternating the two implementations after one
  /// warm-up of each) and returns the report lines. `threads` (if given) sets
  /// `Threading.threadCount` — both OpenBLAS's and the bf16 GEMM's — for the run.
  public static func run(repeats: Int = 5, threads: Int? = nil, log: (String) -> Void = { _ in }) -> [String] {
    let previousThreads = Threading.threadCount
    if let threads { Threading.threadCount = threads }
    defer { Threading.threadCount = previousThreads }
    var lines: [String] = []
    func emit(_ line: String) {
      lines.append(line)
      log(line)
    }
    guard BF16GEMM.isAvailable else {
      emit("bf16 GEMM: not available on this CPU (needs AVX512_BF16)")
      return lines
    }
    emit("bf16 GEMM vs sgemm, \(Threading.threadCount) threads, median of \(repeats) (GFLOP/s)")
    emit(pad("shape", 44) + pad("sgemm", 9) + pad("bf16", 9) + "ratio")
    for row in rows(repeats: repeats) {
      emit(
        pad(row.name, 44) + pad(String(format: "%.0f", row.sgemmGFLOPS), 9)
          + pad(String(format: "%.0f", row.bf16GFLOPS), 9) + String(format: "%.2f×", row.ratio))
    }
    return lines
  }

  /// The measurements behind `run`.
  public static func rows(repeats: Int = 5) -> [Row] {
    var rows: [Row] = []
    // Weight-stationary products: W packed once (side .b transposed for linear, side .a for conv).
    func linear(_ name: String, rows m: Int, features: Int) {
      let x = KernelBenchmark.random([m * features], seed: 1).data, w = KernelBenchmark.random([features * features], seed: 2).data
      let packed = w.withUnsafeBufferPointer {
        PackedBF16Matrix(side: .b, rows: features, columns: features, floats: $0.baseAddress!, leadingDimension: features, transposed: true)
      }
      rows.append(compare(name, m: m, n: features, k: features, repeats: repeats,
        sgemm: { c in GEMM.sgemm(transB: true, m: m, n: features, k: features, a: x, lda: features, b: w, ldb: features, c: c, ldc: features) },
        bf16: { c in x.withUnsafeBufferPointer {
          BF16GEMM.multiply(m: m, n: features, k: features, a: .floats($0.baseAddress!, leadingDimension: features), b: .packed(packed), c: c, ldc: features)
        } }))
    }
    func conv(_ name: String, m: Int, n: Int, k: Int) {
      let w = KernelBenchmark.random([m * k], seed: 3).data, columns = KernelBenchmark.random([k * n], seed: 4).data
      let packed = w.withUnsafeBufferPointer {
        PackedBF16Matrix(side: .a, rows: m, columns: k, floats: $0.baseAddress!, leadingDimension: k)
      }
      rows.append(compare(name, m: m, n: n, k: k, repeats: repeats,
        sgemm: { c in GEMM.sgemm(m: m, n: n, k: k, a: w, lda: k, b: columns, ldb: n, c: c, ldc: n) },
        bf16: { c in columns.withUnsafeBufferPointer {
          BF16GEMM.multiply(m: m, n: n, k: k, a: .packed(packed), b: .floats($0.baseAddress!, leadingDimension: n), c: c, ldc: n)
        } }))
    }
    do {
      // 2048³ with B as the prepacked weight, A packed per call.
      let size = 2048
      let a = KernelBenchmark.random([size * size], seed: 5).data, b = KernelBenchmark.random([size * size], seed: 6).data
      let packed = b.withUnsafeBufferPointer {
        PackedBF16Matrix(side: .b, rows: size, columns: size, floats: $0.baseAddress!, leadingDimension: size)
      }
      rows.append(compare("2048³ (B prepacked)", m: size, n: size, k: size, repeats: repeats,
        sgemm: { c in GEMM.sgemm(m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size, c: c, ldc: size) },
        bf16: { c in a.withUnsafeBufferPointer {
          BF16GEMM.multiply(m: size, n: size, k: size, a: .floats($0.baseAddress!, leadingDimension: size), b: .packed(packed), c: c, ldc: size)
        } }))
    }
    linear("linear 4096 rows × 320→320", rows: 4096, features: 320)
    linear("linear 4096 rows × 1280→1280", rows: 4096, features: 1280)
    conv("conv 320×4096×2880 (3×3, 320 ch, 64²)", m: 320, n: 4096, k: 2880)
    conv("conv 640×1024×5760 (3×3, 640 ch, 32²)", m: 640, n: 1024, k: 5760)
    // One 256-query block of 8-head × 40 attention over 4096 keys; [T, 320] rows, head 0.
    // Both operands are activations, packed inside every call.
    let (tq, tk, d, width) = (256, 4096, 40, 320)
    let q = KernelBenchmark.random([tq * width], seed: 7).data, keys = KernelBenchmark.random([tk * width], seed: 8).data, values = KernelBenchmark.random([tk * width], seed: 9).data
    let p = KernelBenchmark.random([tq * tk], seed: 10).data
    rows.append(compare("q·kᵀ 256×4096×40 (both per call)", m: tq, n: tk, k: d, repeats: repeats,
      sgemm: { c in GEMM.sgemm(transB: true, m: tq, n: tk, k: d, a: q, lda: width, b: keys, ldb: width, c: c, ldc: tk) },
      bf16: { c in q.withUnsafeBufferPointer { qp in keys.withUnsafeBufferPointer { kp in
        BF16GEMM.multiply(m: tq, n: tk, k: d, a: .floats(qp.baseAddress!, leadingDimension: width),
          b: .floats(kp.baseAddress!, leadingDimension: width, transposed: true), c: c, ldc: tk)
      } } }))
    rows.append(compare("p·v 256×40×4096 (both per call)", m: tq, n: d, k: tk, repeats: repeats,
      sgemm: { c in GEMM.sgemm(m: tq, n: d, k: tk, a: p, lda: tk, b: values, ldb: width, c: c, ldc: width) },
      bf16: { c in p.withUnsafeBufferPointer { pp in values.withUnsafeBufferPointer { vp in
        BF16GEMM.multiply(m: tq, n: d, k: tk, a: .floats(pp.baseAddress!, leadingDimension: tk),
          b: .floats(vp.baseAddress!, leadingDimension: width), c: c, ldc: width)
      } } }))
    return rows
  }

  /// Median GFLOP/s of both bodies; each gets a C buffer of m × n (ldc may be wider: the
  /// attention rows use the [T, 320] layout, so C is sized for the widest use).
  static func compare(
    _ name: String, m: Int, n: Int, k: Int, repeats: Int,
    sgemm: (UnsafeMutablePointer<Float>) -> Void, bf16: (UnsafeMutablePointer<Float>) -> Void
  ) -> Row {
    let c = UnsafeMutablePointer<Float>.allocate(capacity: m * max(n, 320))
    c.initialize(repeating: 0, count: m * max(n, 320))
    defer { c.deallocate() }
    let medians = withoutActuallyEscaping(sgemm) { sgemm in
      withoutActuallyEscaping(bf16) { bf16 in KernelBenchmark.interleavedMedians(repeats: repeats, [{ sgemm(c) }, { bf16(c) }]) }
    }
    let gflop = 2.0 * Double(m) * Double(n) * Double(k) / 1e9
    return Row(name: name, sgemmGFLOPS: gflop / medians[0], bf16GFLOPS: gflop / medians[1])
  }

  static func pad(_ s: String, _ width: Int) -> String {
    s.count >= width ? s + " " : s + String(repeating: " ", count: width - s.count)
  }
}
