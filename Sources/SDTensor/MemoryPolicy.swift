import CKernels

/// How the process's allocator treats the large, short-lived activation buffers of a diffusion
/// step. glibc serves big blocks with fresh `mmap`s and returns them to the kernel on free, so
/// every step pays page faults for memory it has just released (seconds of system time per
/// UNet step at 512×512). Raising the mmap and trim thresholds keeps freed activations in the
/// heap for the next step (Sources/CKernels/Memory.c).
public enum MemoryPolicy {
  /// Keep freed blocks up to `maxBlockBytes` in the heap for reuse. Call once at start-up.
  public static func reuseFreedActivations(maxBlockBytes: Int = 1 << 30) {
    ck_keep_freed_blocks(maxBlockBytes)
  }
}
