/// The arithmetic of sdedit's matrix products.
///
/// - `fp32`: every product in single precision through OpenBLAS; reproduces diffusers.
/// - `bf16`: weights packed to bfloat16 once at load, activations rounded to bfloat16 as they
///   are packed, fp32 accumulation (`BF16GEMM`, AVX-512 BF16) — like PyTorch's CPU autocast to
///   bfloat16. Element-wise work (norms, softmax, activations) stays fp32.
public enum Precision: String, Sendable, CaseIterable {
  case fp32, bf16

  /// The precision layers pack their weights for when they are built, and attention computes
  /// in. Set once, before any model is loaded (the CLI's `--precision`).
  nonisolated(unsafe) public static var current: Precision = .fp32

  /// Why `precision` cannot run on this machine, or nil when it can.
  public static func unavailableReason(_ precision: Precision) -> String? {
    switch precision {
    case .fp32: return nil
    case .bf16:
      return BF16GEMM.isAvailable ? nil : "this CPU has no AVX-512 BF16 instructions (vdpbf16ps); use --precision fp32"
    }
  }
}
