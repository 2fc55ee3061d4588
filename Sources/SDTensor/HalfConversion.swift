import CKernels

/// Vectorised 16-bit float conversions (the kernels live in CKernels).
public enum HalfConversion {
  public static func float16ToFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    ck_f16_to_f32(src, dst, count)
  }

  public static func bfloat16ToFloat(_ src: UnsafePointer<UInt16>, _ dst: UnsafeMutablePointer<Float>, count: Int) {
    ck_bf16_to_f32(src, dst, count)
  }

  public static func floatToBFloat16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
    ck_f32_to_bf16(src, dst, count)
  }

  public static func floatToFloat16(_ src: UnsafePointer<Float>, _ dst: UnsafeMutablePointer<UInt16>, count: Int) {
    ck_f32_to_f16(src, dst, count)
  }
}
