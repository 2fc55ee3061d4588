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

  /// The GEMM path for each precision: sdedit's AVX-512 kernels or OpenBLAS.
  public static var kernelPath: String {
    let fp32 = F32GEMM.isAvailable ? "AVX-512 FMA" : "OpenBLAS sgemm"
    let bf16 = BF16GEMM.isAvailable ? "AVX-512 BF16" : "none (bf16 runs fp32)"
    return "fp32 GEMM: \(fp32), bf16 GEMM: \(bf16)"
  }

  /// "<model name> (<kernel path>)".
  public static var summary: String { "\(modelName) (\(kernelPath))" }
}
