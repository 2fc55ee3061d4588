import CKernels

/// Owned, 64-byte aligned storage for the packed and 16-bit weight matrices (a panel's vectors
/// then never straddle cache lines), freed with its last reference. At least 64 bytes are
/// allocated, so an empty matrix still has a valid pointer.
final class AlignedBuffer<Element> {
  let pointer: UnsafeMutablePointer<Element>
  let count: Int

  init(count: Int) {
    self.count = count
    let capacity = Swift.max(count, 64 / MemoryLayout<Element>.stride)
    let bytes = capacity * MemoryLayout<Element>.stride
    // Weights of a large model fill gigabytes of these buffers at load: in 2 MiB-aligned
    // transparent huge pages, filling them costs one page fault per 2 MiB instead of per 4 KiB
    // (an SDXL load spent most of its time in faults).
    let huge = bytes >= Self.hugePage
    let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: huge ? Self.hugePage : 64)
    if huge { ck_advise_huge_pages(raw, bytes) }
    pointer = raw.bindMemory(to: Element.self, capacity: capacity)
  }

  static var hugePage: Int { 2 << 20 }

  deinit { pointer.deallocate() }

  var byteCount: Int { count * MemoryLayout<Element>.stride }
}
