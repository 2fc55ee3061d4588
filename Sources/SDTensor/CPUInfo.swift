import Foundation

/// The CPU a measurement ran on and the matrix-product path sdedit picked for it, for benchmark
/// output (a figure means nothing without the CPU next to it).
public enum CPUInfo {
  /// `model name` from /proc/cpuinfo ("unknown CPU" elsewhere).
  public static let modelName: String = {
    guard let text = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return "unknown CPU" }
    for line in text.split(separator: "\n") where line.hasPrefix("model name") {
      if let colon = line.firstIndex(of: ":") {
        return line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
      }
    }
    return "unknown CPU"
  }()

  /// The kernel that runs the matrix products of `precision` here — the name of its row in the
  /// GEMM kernel table ("AVX-512 BF16", "AVX-512 FP32") or "OpenBLAS". bf16 falls back to the
  /// fp32 path where the CPU has no bf16 kernel, as `MatrixWeight` and `Attention` do.
  public static func kernelPath(for precision: Precision) -> String {
    let kernel = precision == .bf16 ? BF16Element.kernel ?? F32Element.kernel : F32Element.kernel
    return kernel?.name ?? "OpenBLAS"
  }

  /// The GEMM path for each precision.
  public static var kernelPath: String {
    "fp32 GEMM: \(kernelPath(for: .fp32)), bf16 GEMM: \(kernelPath(for: .bf16))"
  }

  /// "<model name> (<kernel path>)".
  public static var summary: String { "\(modelName) (\(kernelPath))" }
}
