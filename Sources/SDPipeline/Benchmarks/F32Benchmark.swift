import Foundation
import SDTensor

/// Times the packed GEMMs (`F32GEMM`, and `BF16GEMM` where the CPU runs it) and the
/// implicit-im2col convolutions against OpenBLAS `sgemm` and the explicit-im2col path, interleaved in the same run (the machine's load
/// changes between runs; ratios within one run are what to compare). Part of
/// `sdedit bench --kernels` (appended by `KernelBenchmark.run`).
public enum F32Benchmark {
  /// Rows named "old" / "new": explicit im2col (+ sgemm or bf16 GEMM on the bands) vs the
  /// packed-weight GEMM reading the image directly.
  public static func rows(repeats: Int = 5) -> [KernelBenchmark.Row] {
    guard F32GEMM.isAvailable else { return [] }
    var rows: [KernelBenchmark.Row] = []
    /// Times each body once per round, `repeats` rounds after a warm-up; median per body.
    func compare(_ gflop: Double, _ cases: [(String, () -> Void)]) {
      let medians = KernelBenchmark.interleavedMedians(repeats: repeats, cases.map(\.1))
      for ((name, _), seconds) in zip(cases, medians) {
        rows.append(KernelBenchmark.Row(name: name, gflop: gflop, seconds: seconds))
      }
    }

    // 2048³: both operands fp32 in memory (the new GEMM packs B once, A block by block).
    let size = 2048
    let a = KernelBenchmark.random([size * size], seed: 21).data, b = KernelBenchmark.random([size * size], seed: 22).data
    var c = [Float](repeating: 0, count: size * size)
    var gemms: [(String, () -> Void)] = [
      ("fp32 sgemm 2048³", { GEMM.sgemm(m: size, n: size, k: size, a: a, lda: size, b: b, ldb: size, c: &c, ldc: size) }),
      ("fp32 F32GEMM 2048³", {
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
          F32GEMM.multiply(m: size, n: size, k: size, a: .floats(ap.baseAddress!, leadingDimension: size),
                           b: .floats(bp.baseAddress!, leadingDimension: size), c: cp.baseAddress!, ldc: size)
        } } }
      }),
    ]
    if BF16GEMM.isAvailable {
      gemms.append(("bf16 BF16GEMM 2048³", {
        a.withUnsafeBufferPointer { ap in b.withUnsafeBufferPointer { bp in c.withUnsafeMutableBufferPointer { cp in
          BF16GEMM.multiply(m: size, n: size, k: size, a: .floats(ap.baseAddress!, leadingDimension: size),
                            b: .floats(bp.baseAddress!, leadingDimension: size), c: cp.baseAddress!, ldc: size)
        } } }
      }))
    }
    compare(2.0 * Double(size * size * size) / 1e9, gemms)

    // 3×3 convolutions (padding 1) of SD 1.5 at 512×512, UNet then VAE decoder levels: weights
    // packed once, as at load.
    for (channels, side) in [(320, 64), (640, 32), (1280, 16), (512, 128), (256, 256), (128, 512)] {
      let x = KernelBenchmark.random([1, channels, side, side], seed: 23)
      let w = KernelBenchmark.random([channels, channels, 3, 3], seed: 24)
      let f32 = MatrixWeight(w, role: .convolution, precision: .fp32)
      let name = "conv 3×3 \(channels)→\(channels) @\(side)×\(side)"
      var cases: [(String, () -> Void)] = [
        ("\(name) fp32 old (im2col+sgemm)", { _ = x.conv2dIm2col(weight: w, padding: .uniform(1)) }),
        ("\(name) fp32 new (implicit)", { _ = x.conv2d(weight: f32, bias: nil, padding: .uniform(1)) }),
      ]
      if BF16GEMM.isAvailable {
        let bf16 = MatrixWeight(w, role: .convolution, precision: .bf16)
        cases += [
          ("\(name) bf16 old (im2col+bf16)", { _ = x.conv2dIm2col(weight: w, packedBF16: bf16.packed, padding: .uniform(1)) }),
          ("\(name) bf16 new (implicit)", { _ = x.conv2d(weight: bf16, bias: nil, padding: .uniform(1)) }),
        ]
      }
      compare(2.0 * Double(channels * channels * 9 * side * side) / 1e9, cases)
    }

    // The VAE decoder's upsampling convolution (nearest ×2, then 3×3): read through the
    // enlarged view (`upsample: 2`, gathers) vs on a map enlarged beforehand.
    do {
      let (channels, side) = (512, 128)
      let x = KernelBenchmark.random([1, channels, side, side], seed: 27), big = x.upsampledNearest2x()
      let w = KernelBenchmark.random([channels, channels, 3, 3], seed: 28)
      let name = "conv ↑2 3×3 \(channels)→\(channels) @\(side)×\(side)"
      var cases: [(String, () -> Void)] = []
      for precision in BF16GEMM.isAvailable ? [Precision.fp32, .bf16] : [.fp32] {
        let weight = MatrixWeight(w, role: .convolution, precision: precision)
        cases += [
          ("\(name) \(precision.rawValue) read enlarged", { _ = x.conv2d(weight: weight, bias: nil, padding: .uniform(1), upsample: 2) }),
          ("\(name) \(precision.rawValue) enlarged first", { _ = big.conv2d(weight: weight, bias: nil, padding: .uniform(1)) }),
        ]
      }
      compare(2.0 * Double(channels * channels * 9 * 4 * side * side) / 1e9, cases)
    }

    // Linear layers on 4096 rows: sgemm with the fp32 tensor vs F32GEMM with the packed weight.
    for features in [320, 1280] {
      let x = KernelBenchmark.random([4096, features], seed: 25), w = KernelBenchmark.random([features, features], seed: 26)
      let packed = MatrixWeight(w, role: .linear, precision: .fp32)
      var cases: [(String, () -> Void)] = [
        ("linear 4096×\(features)→\(features) fp32 sgemm", { _ = x.matmul(w, transposeB: true) }),
        ("linear 4096×\(features)→\(features) fp32 F32GEMM", { _ = x.linear(weight: packed, bias: nil) }),
      ]
      if BF16GEMM.isAvailable {
        let bf16 = MatrixWeight(w, role: .linear, precision: .bf16)
        cases.append(("linear 4096×\(features)→\(features) bf16 BF16GEMM", { _ = x.linear(weight: bf16, bias: nil) }))
      }
      compare(2.0 * Double(4096 * features * features) / 1e9, cases)
    }
    return rows
  }
}
