import Foundation
import SDTensor

#if canImport(Glibc)
  import Glibc
#elseif canImport(Musl)
  import Musl
#elseif canImport(Darwin)
  import Darwin
#endif

/// A `.safetensors` file, memory-mapped read-only and validated on open; tensors are
/// converted to Float32 lazily, one name at a time.
///
/// Reproduces `safetensors.safe_open(path, "pt")` (safetensors 0.8) for the float types the
/// engine computes in: F32 is copied, F16/BF16 are widened exactly (`HalfConversion`). Other
/// dtypes are listed and reachable as raw bytes but refused by `tensor(_:)`.
///
/// The mapping is private and read-only and lives as long as the object. As with any mapped
/// file, truncating the file on disk while it is open can fault on access; sdedit never
/// writes its inputs.
public final class SafeTensorsFile: @unchecked Sendable {
  /// One tensor's header entry, validated.
  public struct TensorInfo: Sendable, Equatable {
    public let name: String
    public let dtype: SafeTensorsDType
    public let shape: [Int]
    /// Byte range inside the data buffer (relative to the end of the header).
    public let byteRange: Range<Int>

    public var elementCount: Int { shape.reduce(1, *) }
  }

  public let url: URL
  /// The name errors use: the file's path, or the name given to an in-memory image.
  public let path: String
  /// `__metadata__` (empty when absent).
  public let metadata: [String: String]
  /// Tensor names, sorted.
  public let names: [String]
  /// Size of the whole file in bytes.
  public let fileSize: Int

  private let infos: [String: TensorInfo]
  // Immutable after init: safe to share between threads (hence @unchecked Sendable).
  private let mapping: UnsafeMutableRawPointer
  private let dataStart: Int
  /// A read-only mapping of a file (not an anonymous copy): its pages can be dropped after use
  /// and are read back from the file if touched again.
  private var isFileBacked = false

  /// Extensions of pickled PyTorch checkpoints, refused without being opened.
  static let pickleExtensions: Set<String> = ["ckpt", "pt", "pth", "bin", "pkl", "pickle"]

  /// Opens, maps and validates the file at `url`. Pickle extensions (`.ckpt`, `.pt`, …) are
  /// refused unopened, and pickle or torch-zip content once the header proves invalid.
  public convenience init(url: URL) throws(CheckpointError) {
    let path = url.path
    guard FileManager.default.fileExists(atPath: path) else { throw .notFound(path: path) }
    if Self.pickleExtensions.contains(url.pathExtension.lowercased()) { throw .pickleRefused(path: path) }

    let fd = open(path, O_RDONLY | O_CLOEXEC)
    guard fd >= 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    defer { close(fd) }
    var st = stat()
    guard fstat(fd, &st) == 0 else { throw .unreadable(path: path, reason: String(cString: strerror(errno))) }
    guard (st.st_mode & S_IFMT) == S_IFREG else { throw .unreadable(path: path, reason: "not a regular file") }
    let size = Int(st.st_size)
    guard size >= 8 else { throw .fileTooShort(path: path, size: size) }

    let mapFailed = UnsafeMutableRawPointer(bitPattern: -1)
    guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != mapFailed else {
      throw .unreadable(path: path, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    try self.init(mapping: base, size: size, url: url, path: path)
    isFileBacked = true
  }

  /// A safetensors image held in memory (synthetic checkpoints, fuzzing). `name` stands for the
  /// path in errors and in `url`. The bytes are copied into a private anonymous mapping.
  public convenience init(bytes: some Collection<UInt8>, name: String) throws(CheckpointError) {
    let size = bytes.count
    guard size >= 8 else { throw .fileTooShort(path: name, size: size) }
    let mapFailed = UnsafeMutableRawPointer(bitPattern: -1)
    guard let base = mmap(nil, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0), base != mapFailed
    else {
      throw .unreadable(path: name, reason: "mmap failed: \(String(cString: strerror(errno)))")
    }
    let destination = UnsafeMutableRawBufferPointer(start: base, count: size)
    if bytes.withContiguousStorageIfAvailable({ destination.copyMemory(from: UnsafeRawBufferPointer($0)) }) == nil {
      _ = destination.initializeMemory(as: UInt8.self, from: bytes)
    }
    mprotect(base, size, PROT_READ)
    try self.init(mapping: base, size: size, url: URL(fileURLWithPath: name), path: name)
  }

  /// Validates the `size` mapped bytes at `base` and takes ownership of the mapping: it is
  /// unmapped on failure here, else in `deinit`.
  private init(mapping base: UnsafeMutableRawPointer, size: Int, url: URL, path: String) throws(CheckpointError) {
    self.url = url
    self.path = path
    do throws(CheckpointError) {
      let bytes = UnsafeRawBufferPointer(start: base, count: size)
      let headerLength = UInt64(littleEndian: bytes.loadUnaligned(as: UInt64.self))
      guard headerLength <= SafeTensorsHeader.maxHeaderLength else {
        try Self.refusePickleContent(bytes, path: path)
        throw .headerTooLarge(path: path, headerLength: headerLength)
      }
      guard 8 + Int(headerLength) <= size else {
        try Self.refusePickleContent(bytes, path: path)
        throw .headerPastEnd(path: path, headerLength: headerLength, fileSize: size)
      }
      let headerEnd = 8 + Int(headerLength)
      let header = try SafeTensorsHeader.parse(
        Array(bytes[8..<headerEnd]), dataLength: size - headerEnd, path: path)
      self.mapping = base
      self.fileSize = size
      self.dataStart = headerEnd
      self.infos = header.tensors
      self.metadata = header.metadata
      self.names = header.tensors.keys.sorted()
    } catch {
      munmap(base, size)
      throw error
    }
  }

  deinit {
    munmap(mapping, fileSize)
  }

  /// Torch's zip container starts with `PK\3\4`; a raw pickle with the PROTO opcode `0x80`.
  /// Only consulted once the header length has proved invalid: a genuine safetensors file can
  /// start with `80 02` (a 640-byte header).
  private static func refusePickleContent(_ bytes: UnsafeRawBufferPointer, path: String) throws(CheckpointError) {
    let zip: [UInt8] = [0x50, 0x4B, 0x03, 0x04]
    if bytes.prefix(4).elementsEqual(zip) { throw .pickleRefused(path: path) }
    if bytes[0] == 0x80, (2...5).contains(bytes[1]) { throw .pickleRefused(path: path) }
  }

  /// The validated header entry for `name`.
  public func info(_ name: String) -> TensorInfo? { infos[name] }

  public func contains(_ name: String) -> Bool { infos[name] != nil }

  /// The tensor's bytes inside the mapping, valid while this object is alive. Not aligned in general.
  public func rawBytes(_ name: String) throws(CheckpointError) -> UnsafeRawBufferPointer {
    guard let info = infos[name] else { throw .missingTensor(key: name, file: path) }
    return UnsafeRawBufferPointer(start: mapping + dataStart + info.byteRange.lowerBound, count: info.byteRange.count)
  }

  /// Drops the pages of tensor `name` from this process's resident memory (file-backed mappings
  /// only; they are read back from the file if the tensor is read again). Called once a tensor
  /// has been converted, so that loading a 2 GB checkpoint does not keep 2 GB of mapped file
  /// pages resident next to the converted weights.
  public func releasePages(of name: String) {
    guard isFileBacked, let info = infos[name] else { return }
    let page = Int(sysconf(Int32(_SC_PAGESIZE)))
    let start = Int(bitPattern: mapping) + dataStart + info.byteRange.lowerBound
    let first = (start + page - 1) / page * page, last = (start + info.byteRange.count) / page * page
    guard last > first else { return }
    _ = madvise(UnsafeMutableRawPointer(bitPattern: first), last - first, Int32(MADV_DONTNEED))
  }

  /// The tensor `name` as Float32 (F32 copied; F16/BF16 widened exactly).
  public func tensor(_ name: String) throws(CheckpointError) -> Tensor {
    defer { releasePages(of: name) }
    guard let info = infos[name] else { throw .missingTensor(key: name, file: path) }
    let raw = try rawBytes(name)
    let count = info.elementCount
    // safetensors stores little-endian; every platform sdedit targets is little-endian.
    switch info.dtype {
    case .f32:
      return Tensor(shape: info.shape) { dst in
        if count > 0 { UnsafeMutableRawPointer(dst.baseAddress!).copyMemory(from: raw.baseAddress!, byteCount: count * 4) }
      }
    case .f16, .bf16:
      let widen = info.dtype == .f16 ? HalfConversion.float16ToFloat : HalfConversion.bfloat16ToFloat
      return Tensor(shape: info.shape) { dst in
        guard count > 0, let src = raw.baseAddress, let out = dst.baseAddress else { return }
        if Int(bitPattern: src) % MemoryLayout<UInt16>.alignment == 0 {
          let bits = src.assumingMemoryBound(to: UInt16.self)
          Threading.parallelFor(count, grain: 1 << 18) { range in
            widen(bits + range.lowerBound, out + range.lowerBound, range.count)
          }
        } else {
          // An odd offset (legal, if unusual): copy to aligned storage first.
          let aligned = [UInt16](unsafeUninitializedCapacity: count) { buffer, initialized in
            UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: src, byteCount: count * 2)
            initialized = count
          }
          aligned.withUnsafeBufferPointer { widen($0.baseAddress!, out, count) }
        }
      }
    default:
      throw .unsupportedDType(tensor: name, dtype: info.dtype.rawValue, path: path)
    }
  }
}
