import Foundation
import SDTensor

/// Models loaded once per process and reused: `sdedit batch` runs many jobs over the same
/// checkpoints, and the commands load every model through here, so a second job with the same
/// model and load options costs nothing.
///
/// An entry is keyed by everything its loaded value depends on:
/// - a Stable Diffusion bundle (`bundle(_:options:)`): the standardized path and the whole
///   `ModelBundle.Options` value (precision included), so a field added to the options takes part
///   in the key automatically. A bundle loaded with the VAE encoder also serves requests without it
///   (and replaces a cached encoder-less one of the same path and options);
/// - any other model (`value(kind:path:options:load:)`: a CLIP ranker, a safety checker, a
///   Real-ESRGAN network): its kind, the standardized path and a caller-chosen `Hashable` of what
///   else the load depends on, typically the precision the layers were packed for.
///
/// Beyond `capacity` entries the least recently used one is dropped (its memory is freed once no
/// job holds it). Failed loads are not cached. Thread-safe; two threads loading the same key at
/// once may both load it.
public final class ModelCache: @unchecked Sendable {
  /// The cache the command-line tool uses.
  public static let shared = ModelCache()

  private let lock = NSLock()
  /// Most recently used last.
  private var entries: [Entry] = []
  private var maxEntries: Int
  private var loads = 0

  /// - Parameter capacity: entries kept (0: nothing is kept, every request loads).
  public init(capacity: Int = 4) {
    maxEntries = max(0, capacity)
  }

  /// How many models are kept; lowering it drops the least recently used at once.
  public var capacity: Int {
    get { lock.withLock { maxEntries } }
    set {
      lock.withLock {
        maxEntries = max(0, newValue)
        trim()
      }
    }
  }

  /// Models loaded (cache misses that found one; a load that found nothing, such as a model folder
  /// without a safety checker, is cached but not counted) since the cache was made.
  public var loadCount: Int { lock.withLock { loads } }

  /// The cached value for (`kind`, `path`, `options`), or `load()`'s result, cached.
  public func value<Options: Hashable, Value>(
    kind: String, path: String, options: Options, load: () throws -> Value
  ) throws -> Value {
    let key = AnyHashable(ItemKey(kind: kind, path: Self.standardized(path), options: options))
    if let entry = lookup(key), let hit = entry.value as? Value { return hit }
    let value = try load()
    insert(key, value, replacing: nil)
    return value
  }

  /// The Stable Diffusion model at `path` loaded with `options`, from the cache when it holds one.
  public func bundle(_ path: String, options: ModelBundle.Options) throws -> ModelBundle {
    let standardized = Self.standardized(path)
    var withEncoder = options
    withEncoder.needsEncoder = true
    let fuller = AnyHashable(BundleKey(path: standardized, options: withEncoder))
    if let entry = lookup(fuller), let hit = entry.value as? ModelBundle { return hit }
    let key = AnyHashable(BundleKey(path: standardized, options: options))
    if let entry = lookup(key), let hit = entry.value as? ModelBundle { return hit }
    let bundle = try ModelBundle.load(path, options: options)
    var lesser = options
    lesser.needsEncoder = false
    insert(key, bundle, replacing: options.needsEncoder ? AnyHashable(BundleKey(path: standardized, options: lesser)) : nil)
    return bundle
  }

  /// Drops every entry.
  public func removeAll() {
    lock.withLock { entries.removeAll() }
  }

  // MARK: - Entries

  /// A cached value, boxed so that a cached nil (a model folder without a safety checker) is told
  /// apart from a miss.
  private struct Entry {
    let key: AnyHashable
    let value: Any
  }

  private struct BundleKey: Hashable {
    let path: String
    let options: ModelBundle.Options
  }

  private struct ItemKey<Options: Hashable>: Hashable {
    let kind: String
    let path: String
    let options: Options
  }

  private static func standardized(_ path: String) -> String {
    URL(fileURLWithPath: path).standardizedFileURL.path
  }

  private func lookup(_ key: AnyHashable) -> Entry? {
    lock.withLock {
      guard let i = entries.firstIndex(where: { $0.key == key }) else { return nil }
      let entry = entries.remove(at: i)
      entries.append(entry)
      return entry
    }
  }

  private func insert(_ key: AnyHashable, _ value: Any, replacing superseded: AnyHashable?) {
    lock.withLock {
      if !Self.isNil(value) { loads += 1 }
      entries.removeAll { $0.key == key || $0.key == superseded }
      entries.append(Entry(key: key, value: value))
      trim()
    }
  }

  private static func isNil(_ value: Any) -> Bool {
    let mirror = Mirror(reflecting: value)
    return mirror.displayStyle == .optional && mirror.children.isEmpty
  }

  /// Call with the lock held.
  private func trim() {
    if entries.count > maxEntries { entries.removeFirst(entries.count - maxEntries) }
  }
}
