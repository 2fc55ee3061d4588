/// A weight matrix kept as a checkpoint's 16-bit values (fp16 or bfloat16 bits, row-major as
/// stored), for fp32 precision: `F32GEMM` widens it exactly while packing each block of a
/// product (`F32GEMM.Operand.halves`); on CPUs without it the product widens the whole matrix
/// into a transient fp32 copy for OpenBLAS (`widened()`). Either way the layer holds 2 bytes a
/// value instead of 4 and computes exactly what the widened fp32 weight would.
///
/// The bits are either borrowed from the checkpoint's read-only mapping (no copy: loading costs
/// nothing and the page cache holds the one copy; the mapping's owner is retained), or copied
/// into owned, 64-byte aligned memory.
public struct HalfMatrix: @unchecked Sendable {
  /// Stored rows (the weight's `shape[0]`).
  public let rows: Int
  /// Stored columns (the product of the rest of the weight's shape).
  public let columns: Int
  /// bfloat16 bits when true, IEEE fp16 bits otherwise.
  public let isBFloat16: Bool
  /// Owned storage, or nil when the bits are borrowed.
  let storage: AlignedBuffer<UInt16>?
  /// Keeps borrowed bits alive (the mapped checkpoint file).
  let owner: AnyObject?
  public let bits: UnsafePointer<UInt16>


  /// Copies `rows × columns` dense 16-bit values from `bits` (e.g. a mapped checkpoint file).
  public init(copying bits: UnsafePointer<UInt16>, rows: Int, columns: Int, isBFloat16: Bool) {
    precondition(rows > 0 && columns > 0, "HalfMatrix: empty \(rows)×\(columns) matrix")
    self.rows = rows
    self.columns = columns
    self.isBFloat16 = isBFloat16
    let count = rows * columns
    let storage = AlignedBuffer<UInt16>(count: count)
    self.storage = storage
    owner = nil
    let dst = storage.pointer
    self.bits = UnsafePointer(dst)
    // Reading a mapped file faults its pages in: spread large copies over the threads.
    let chunk = 1 << 20
    Threading.parallelFor((count + chunk - 1) / chunk, grain: 1) { range in
      let start = range.lowerBound * chunk, end = min(count, range.upperBound * chunk)
      (dst + start).update(from: bits + start, count: end - start)
    }
  }

  /// Uses `rows × columns` dense 16-bit values at `bits` in place; `owner` (retained) keeps them valid.
  public init(borrowing bits: UnsafePointer<UInt16>, owner: AnyObject, rows: Int, columns: Int, isBFloat16: Bool) {
    precondition(rows > 0 && columns > 0, "HalfMatrix: empty \(rows)×\(columns) matrix")
    (self.rows, self.columns, self.isBFloat16) = (rows, columns, isBFloat16)
    (self.bits, self.owner, storage) = (bits, owner, nil)
  }

  /// The stored matrix as a GEMM operand (`transposed`: the logical operand is its transpose).
  /// The matrix must outlive the product (`withExtendedLifetime`).
  public func operand(transposed: Bool) -> F32GEMM.Operand {
    .halves(bits, leadingDimension: columns, transposed: transposed, isBFloat16: isBFloat16)
  }

  /// The matrix widened to fp32, `[rows, columns]` (exact: every 16-bit value is a float).
  public func widened() -> Tensor {
    Tensor(shape: [rows, columns]) { out in
      let dst = out.baseAddress!, src = bits, count = rows * columns, isBF16 = isBFloat16
      let chunk = 1 << 16
      Threading.parallelFor((count + chunk - 1) / chunk, grain: 1) { range in
        let start = range.lowerBound * chunk, end = min(count, range.upperBound * chunk)
        if isBF16 {
          HalfConversion.bfloat16ToFloat(src + start, dst + start, count: end - start)
        } else {
          HalfConversion.float16ToFloat(src + start, dst + start, count: end - start)
        }
      }
    }
  }

  /// Bytes held (borrowed bits count too: they are resident once used).
  public var byteCount: Int { rows * columns * 2 }
}
