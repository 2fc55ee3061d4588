import SDTensor

/// A view of a `WeightStore` at a dotted key prefix: the path a module initializer reads its
/// weights from (candle's `VarBuilder::pp`, STYLE.md §8.4).
///
/// ```swift
/// let mlp = w("text_model")("encoder")("layers")(0)("mlp")
/// let fc1 = try mlp("fc1").tensor("weight", shape: [3072, 768])
/// // missing → CheckpointError.missingTensor(key: "text_model.encoder.layers.0.mlp.fc1.weight", …)
/// ```
public struct WeightScope: Sendable {
  public let store: WeightStore
  /// Dotted prefix without a trailing dot ("" at the root).
  public let prefix: String

  public init(_ store: WeightStore, prefix: String = "") {
    self.store = store
    self.prefix = prefix
  }

  /// The scope one level down: `prefix.name`.
  public func callAsFunction(_ name: String) -> WeightScope { WeightScope(store, prefix: key(name)) }

  /// The scope of a list element: `prefix.index`.
  public func callAsFunction(_ index: Int) -> WeightScope { self(String(index)) }

  /// The full dotted key of `name` in this scope.
  public func key(_ name: String) -> String { prefix.isEmpty ? name : "\(prefix).\(name)" }

  public func contains(_ name: String) -> Bool { store.contains(key(name)) }

  /// The precision layers built from this scope hold their weights for.
  public var precision: Precision { store.precision }

  public func shape(of name: String) -> [Int]? { store.shape(of: key(name)) }

  /// The tensor `name`, which must exist and have exactly `shape`; claims it in the store.
  public func tensor(_ name: String, shape: [Int]) throws(CheckpointError) -> Tensor {
    let key = key(name)
    guard let found = store.shape(of: key) else {
      if let synthesize = store.synthesize { return synthesize(key, shape) }
      throw .missingTensor(key: key, file: store.sourceDescription)
    }
    guard found == shape else {
      throw .shapeMismatch(key: key, expected: shape, found: found, file: store.sourceDescription)
    }
    return try store.tensor(key)
  }

  /// `WeightStore.withHalfBits` for `name` when it has exactly `shape`; nil otherwise (then
  /// `tensor(_:shape:)` loads it, or reports what is wrong).
  public func withHalfBits<R>(
    _ name: String, shape: [Int], _ body: (_ bits: UnsafePointer<UInt16>, _ isBFloat16: Bool) throws -> R
  ) rethrows -> R? {
    guard store.shape(of: key(name)) == shape else { return nil }
    return try store.withHalfBits(key(name), body)
  }

  /// `WeightStore.borrowHalfBits` for `name` when it has exactly `shape`; nil otherwise.
  public func borrowHalfBits(_ name: String, shape: [Int]) -> (bits: UnsafePointer<UInt16>, isBFloat16: Bool, owner: AnyObject)? {
    guard store.shape(of: key(name)) == shape else { return nil }
    return store.borrowHalfBits(key(name))
  }

  /// Like `tensor(_:shape:)`, but nil when the checkpoint has no `name` (a wrong shape still throws).
  public func optionalTensor(_ name: String, shape: [Int]) throws(CheckpointError) -> Tensor? {
    guard contains(name) else { return nil }
    return try tensor(name, shape: shape)
  }
}
