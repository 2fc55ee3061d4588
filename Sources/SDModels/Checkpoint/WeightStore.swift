import Foundation
import SDTensor

/// All the weights of one component under their canonical keys, loaded lazily, with a record of
/// which keys were used (STYLE.md §8.4: account for every tensor).
///
/// Sources: one or more `SafeTensorsFile`s, optionally renamed to the canonical naming (a
/// single-file LDM checkpoint), an in-memory dictionary (tests, benchmarks), and derived tensors
/// registered by the loader (tensor surgery such as splitting a fused qkv).
///
/// Thread-safe: lookups and claims take a lock; file reads happen outside it.
public final class WeightStore: @unchecked Sendable {
  private enum Source {
    case file(SafeTensorsFile, name: String)
    case memory(Tensor)
    case derived(() throws -> Tensor, consuming: [String])
  }

  private struct Entry {
    var source: Source
    var shape: [Int]
    /// Listed by `unclaimedKeys` when never loaded: true for tensors that came from the
    /// checkpoint (even if transformed since), false for registered derived tensors.
    var fromCheckpoint = true

    func load(key: String, file: String) throws(CheckpointError) -> Tensor {
      switch source {
      case .file(let f, let name): return try f.tensor(name)
      case .memory(let tensor): return tensor
      case .derived(let make, _):
        do {
          return try make()
        } catch let error as CheckpointError {
          throw error
        } catch {
          throw .derivationFailed(key: key, reason: "\(error)", file: file)
        }
      }
    }
  }

  /// The precision the layers built from this store hold their weights for (set before building).
  nonisolated(unsafe) public var precision: Precision = .fp32

  /// Names the source in error messages: the file path(s), or a description of the store.
  public let sourceDescription: String
  /// File keys the rename function mapped to nil (unknown to the canonical naming), sorted.
  public let droppedKeys: [String]

  private var entries: [String: Entry] = [:]
  private var claimed = Set<String>()
  private let lock = NSLock()

  /// A store over `files`. `rename` maps each file key to its canonical key (nil drops it,
  /// recorded in `droppedKeys`); without it file keys are canonical. Two file keys that land on
  /// the same canonical key are an error.
  public init(files: [SafeTensorsFile], rename: ((String) -> String?)? = nil) throws(CheckpointError) {
    sourceDescription = files.map(\.path).joined(separator: ", ")
    synthesize = nil
    var dropped: [String] = []
    for file in files {
      for name in file.names {
        guard let key = rename.map({ $0(name) }) ?? name else {
          dropped.append(name)
          continue
        }
        guard entries[key] == nil, let info = file.info(name) else {
          throw .duplicateTensor(name: key, path: sourceDescription)
        }
        entries[key] = Entry(source: .file(file, name: name), shape: info.shape)
      }
    }
    droppedKeys = dropped.sorted()
  }

  /// Makes any tensor a model asks for that the store lacks (the benchmark's random weights).
  public let synthesize: (@Sendable (_ key: String, _ shape: [Int]) -> Tensor)?

  /// A store with no tensors that synthesizes every one a model asks for, with the shape it
  /// asks for: full-size models with made-up weights, for benchmarks.
  public init(synthesizing make: @escaping @Sendable (_ key: String, _ shape: [Int]) -> Tensor, description: String) {
    sourceDescription = description
    droppedKeys = []
    synthesize = make
  }

  /// A store over tensors already in memory, keyed canonically.
  public init(tensors: [String: Tensor], description: String = "in-memory weights") {
    sourceDescription = description
    synthesize = nil
    droppedKeys = []
    for (key, tensor) in tensors { entries[key] = Entry(source: .memory(tensor), shape: tensor.shape) }
  }

  /// Canonical keys, sorted.
  public var keys: [String] { lock.withLock { entries.keys.sorted() } }

  public func contains(_ key: String) -> Bool { lock.withLock { entries[key] != nil } }

  /// The shape `tensor(key)` will have, without loading it.
  public func shape(of key: String) -> [Int]? { lock.withLock { entries[key]?.shape } }

  /// Loads the tensor (Float32) and records the key as claimed.
  public func tensor(_ key: String) throws(CheckpointError) -> Tensor {
    let entry: Entry? = lock.withLock {
      guard let entry = entries[key] else { return nil }
      claimed.insert(key)
      if case .derived(_, let consumed) = entry.source { claimed.formUnion(consumed) }
      return entry
    }
    guard let entry else { throw .missingTensor(key: key, file: sourceDescription) }
    let tensor = try entry.load(key: key, file: sourceDescription)
    guard tensor.shape == entry.shape else {
      throw .shapeMismatch(key: key, expected: entry.shape, found: tensor.shape, file: sourceDescription)
    }
    return tensor
  }

  /// Whether the checkpoint stores this component's tensors in 16 bits (F16/BF16): its matrices
  /// can then stay in the mapped file (`borrowHalfBits`).
  public var holdsHalfPrecisionWeights: Bool {
    lock.withLock {
      entries.values.contains {
        guard case .file(let file, let name) = $0.source, let dtype = file.info(name)?.dtype else { return false }
        return dtype == .f16 || dtype == .bf16
      }
    }
  }

  /// Drops the file pages of every tensor of this store from the process's resident memory; a
  /// later read (a borrowed 16-bit weight used again) brings them back from the file, or from the
  /// page cache. Nothing changes but the resident set.
  public func releaseResidentPages() {
    let sources: [(SafeTensorsFile, String)] = lock.withLock {
      entries.values.compactMap { if case .file(let file, let name) = $0.source { (file, name) } else { nil } }
    }
    for (file, name) in sources { file.releasePages(of: name) }
  }

  /// Runs `body` with the checkpoint's own 16-bit bits of `key` (see `mappedHalfBits`) and claims
  /// the key; nil (nothing claimed) otherwise. Lets the bf16 path pack weights straight from the
  /// mapped file without a Float32 copy; the tensor's file pages are dropped afterwards.
  public func withHalfBits<R>(
    _ key: String, _ body: (_ bits: UnsafePointer<UInt16>, _ isBFloat16: Bool) throws -> R
  ) rethrows -> R? {
    guard let half = mappedHalfBits(key) else { return nil }
    defer { half.file.releasePages(of: half.name) }
    return try body(half.bits, half.isBFloat16)
  }

  /// The checkpoint's own 16-bit bits of `key` in place (see `mappedHalfBits`), with the file that
  /// owns the mapping, and claims the key; nil otherwise. The pages stay mapped (the caller keeps
  /// `owner` alive and reads the bits for as long as it needs).
  public func borrowHalfBits(_ key: String) -> (bits: UnsafePointer<UInt16>, isBFloat16: Bool, owner: AnyObject)? {
    mappedHalfBits(key).map { ($0.bits, $0.isBFloat16, $0.file) }
  }

  /// The bits of `key` when it is a file tensor stored as F16 or BF16 (`isBFloat16`), untransformed,
  /// 2-byte aligned in the mapping — with the file and tensor name — and the key claimed; nil
  /// (nothing claimed) otherwise.
  private func mappedHalfBits(
    _ key: String
  ) -> (bits: UnsafePointer<UInt16>, isBFloat16: Bool, file: SafeTensorsFile, name: String)? {
    let entry: Entry? = lock.withLock { entries[key] }
    guard let entry, case .file(let file, let name) = entry.source, let info = file.info(name),
      info.dtype == .f16 || info.dtype == .bf16, info.shape == entry.shape,
      let raw = try? file.rawBytes(name), let base = raw.baseAddress,
      Int(bitPattern: base) % MemoryLayout<UInt16>.alignment == 0
    else { return nil }
    lock.withLock { _ = claimed.insert(key) }
    return (base.assumingMemoryBound(to: UInt16.self), info.dtype == .bf16, file, name)
  }

  /// Registers a tensor computed on demand under `key`, replacing any entry there. Claiming it
  /// also claims `consuming` (the source keys it is made from, e.g. a fused qkv weight).
  public func register(
    _ key: String, shape: [Int], consuming: [String] = [], _ make: @escaping () throws -> Tensor
  ) {
    lock.withLock {
      entries[key] = Entry(source: .derived(make, consuming: consuming), shape: shape, fromCheckpoint: false)
    }
  }

  /// Replaces the tensor at `key` with `transform` applied to it (lazily), now of `shape`;
  /// e.g. a 1×1 conv weight `[o, i, 1, 1]` squeezed to a linear `[o, i]`. No-op when absent.
  public func transform(_ key: String, shape: [Int], _ transform: @escaping (Tensor) throws -> Tensor) {
    lock.withLock {
      guard let old = entries[key] else { return }
      let description = sourceDescription
      let load = { () throws -> Tensor in
        let t = try old.load(key: key, file: description)
        guard t.shape == old.shape else {
          throw CheckpointError.shapeMismatch(key: key, expected: old.shape, found: t.shape, file: description)
        }
        return try transform(t)
      }
      var consumed: [String] = []
      if case .derived(_, let c) = old.source { consumed = c }
      entries[key] = Entry(source: .derived(load, consuming: consumed), shape: shape, fromCheckpoint: old.fromCheckpoint)
    }
  }

  /// Keys that have been loaded (or consumed by a derived tensor), sorted.
  public var claimedKeys: [String] { lock.withLock { claimed.sorted() } }

  /// Keys never loaded, sorted: after building a model these are the checkpoint's unknown
  /// tensors. Derived entries are left out (their sources are reported instead).
  public var unclaimedKeys: [String] {
    lock.withLock {
      entries.filter { key, entry in entry.fromCheckpoint && !claimed.contains(key) }.keys.sorted()
    }
  }
}
