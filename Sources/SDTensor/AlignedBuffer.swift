/// Owned, 64-byte aligned storage for the packed and 16-bit weight matrices (a panel's vectors
/// then never straddle cache lines), freed with its last reference. At least 64 bytes are
/// allocated, so an empty matrix still has a valid pointer.
final class AlignedBuffer<Element> {
  let pointer: UnsafeMutablePointer<Element>
  let count: Int

  init(count: Int) {
    self.count = count
    let capacity = Swift.max(count, 64 / MemoryLayout<Element>.stride)
    pointer = UnsafeMutableRawPointer.allocate(byteCount: capacity * MemoryLayout<Element>.stride, alignment: 64)
      .bindMemory(to: Element.self, capacity: capacity)
  }

  deinit { pointer.deallocate() }

  var byteCount: Int { count * MemoryLayout<Element>.stride }
}
