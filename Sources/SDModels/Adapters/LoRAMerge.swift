import SDTensor

/// Merges LoRA files into a model's weights at load, as diffusers' `fuse_lora(lora_scale: s)` does for
/// each loaded adapter in turn (PEFT `LoraLayer.merge`): every target weight becomes
/// `W + s · (alpha / rank) · up · down`, in Float32, before any bf16 packing. Several files stack in
/// the order they are applied. The layers never learn that a LoRA exists (STYLE.md: adapters patch
/// weights at load, in one place).
///
/// Everything is checked before anything is registered — each module's target layer exists and its
/// delta fits the weight (a 1×1 convolution and a linear layer count as the same matrix) — so a
/// file either applies whole or fails naming the key. The products themselves are computed lazily,
/// when the layer loads its weight (`WeightStore.transform`), so no full-size delta is kept.
public enum LoRAMerge {
  /// One adapted weight.
  public struct Patch: Sendable {
    public let module: LoRAFile.Module
    public let target: LoRATarget
    /// The weight's shape in the store.
    public let weightShape: [Int]
  }

  /// What one file did to the model.
  public struct Applied: Sendable {
    public let file: LoRAFile
    public let scale: Float
    /// In the file's module order.
    public let patches: [Patch]
  }

  public static func apply(
    _ file: LoRAFile, scale: Float, map: LoRAKeyMap, stores: [AdapterComponent: WeightStore]
  ) throws -> Applied {
    var patches: [Patch] = []
    var seen: [LoRATarget: String] = [:]
    for module in file.modules {
      let target = try map.target(of: module, path: file.path)
      guard let store = stores[target.component], let shape = store.shape(of: target.key) else {
        throw AdapterError.noTarget(path: file.path, key: module.downKey, target: "\(target.component.rawValue) \(target.key)")
      }
      guard fits(module.deltaShape, shape) else {
        throw AdapterError.targetShapeMismatch(
          path: file.path, key: module.downKey, target: target.key, weight: shape, delta: module.deltaShape)
      }
      if let other = seen[target] {
        throw AdapterError.duplicateTarget(path: file.path, key: module.downKey, other: other, target: target.key)
      }
      seen[target] = module.downKey
      patches.append(Patch(module: module, target: target, weightShape: shape))
    }
    for patch in patches {
      guard let store = stores[patch.target.component] else { continue }
      let factor = patch.module.alphaScale * scale
      let module = patch.module
      store.transform(patch.target.key, shape: patch.weightShape) { weight in
        let delta = try file.product(module)  // [out, in·kh·kw], the weight's own element order
        var merged = weight
        merged.withUnsafeMutableBufferPointer { w in
          delta.withUnsafeBufferPointer { d in
            for i in 0..<w.count { w[i] += factor * d[i] }
          }
        }
        return merged
      }
    }
    return Applied(file: file, scale: scale, patches: patches)
  }

  /// Whether a delta of shape `delta` can be added to a weight of shape `weight`.
  static func fits(_ delta: [Int], _ weight: [Int]) -> Bool {
    func matrix(_ s: [Int]) -> [Int] { s.count == 4 && s[2] == 1 && s[3] == 1 ? Array(s.prefix(2)) : s }
    return delta == weight || matrix(delta) == matrix(weight)
  }
}
