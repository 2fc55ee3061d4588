/// A LoRA or textual-inversion file that cannot be applied to the model at hand. Every case names the
/// file and, where one is involved, the tensor key, so that `description` is the one line a user needs.
/// (Problems with the safetensors container itself — truncation, a pickle — are `CheckpointError`s.)
public enum AdapterError: Error, Equatable, CustomStringConvertible {
  // MARK: LoRA files

  /// A LyCORIS or other adapter kind sdedit does not merge (LoHa, LoKr, DoRA, …), found at `key`.
  case unsupportedFormat(path: String, format: String, key: String)
  /// A tensor that is not part of any LoRA naming sdedit knows.
  case unknownKey(path: String, key: String)
  /// A module with a down (A) weight but no up (B) weight, or the reverse; `missing` is the absent key.
  case missingPart(path: String, missing: String)
  /// The down/up pair of `module` does not form a LoRA (ranks differ, wrong ranks of tensors).
  case malformedModule(path: String, module: String, down: [Int], up: [Int])
  /// An `.alpha` tensor that is not a single number, or a non-finite alpha.
  case invalidAlpha(path: String, key: String)
  /// `lora_adapter_metadata` that cannot be read.
  case invalidMetadata(path: String, reason: String)
  /// The file holds no LoRA tensors at all.
  case empty(path: String)
  /// `key` addresses a model component this model does not have (an SDXL `lora_te2_` on SD 1.5).
  case missingComponent(path: String, key: String, component: String)
  /// `key` addresses a layer (`target`) that does not exist in the model.
  case noTarget(path: String, key: String, target: String)
  /// The delta of `key` (`delta`) does not fit the weight `target` (`weight`).
  case targetShapeMismatch(path: String, key: String, target: String, weight: [Int], delta: [Int])
  /// Two modules of one file (`key` and `other`) adapt the same layer `target`.
  case duplicateTarget(path: String, key: String, other: String, target: String)

  // MARK: Textual inversion

  /// The file's tensors are not one embedding (`reason` says what was found).
  case embeddingLayout(path: String, reason: String)
  /// The embedding's vectors are `width` wide but the text encoder's tokens `expected`.
  case embeddingWidth(path: String, width: Int, expected: Int)
  /// The trigger word (the file's stem) is already a token of the tokenizer or another embedding.
  case tokenTaken(path: String, token: String)

  public var path: String {
    switch self {
    case .unsupportedFormat(let path, _, _), .unknownKey(let path, _), .missingPart(let path, _),
      .malformedModule(let path, _, _, _), .invalidAlpha(let path, _), .invalidMetadata(let path, _),
      .empty(let path), .missingComponent(let path, _, _), .noTarget(let path, _, _),
      .targetShapeMismatch(let path, _, _, _, _), .duplicateTarget(let path, _, _, _), .embeddingLayout(let path, _), .embeddingWidth(let path, _, _),
      .tokenTaken(let path, _):
      return path
    }
  }

  public var description: String {
    switch self {
    case .unsupportedFormat(let path, let format, let key):
      return "\(path): \(format) is not supported (tensor '\(key)'); only LoRA (kohya lora_down/lora_up, LoCon, PEFT lora_A/lora_B) can be merged"
    case .unknownKey(let path, let key):
      return "\(path): unknown LoRA tensor '\(key)' (not a kohya, PEFT or diffusers LoRA key)"
    case .missingPart(let path, let missing):
      return "\(path): incomplete LoRA: missing tensor '\(missing)'"
    case .malformedModule(let path, let module, let down, let up):
      return "\(path): LoRA module '\(module)' has down \(down) and up \(up), which do not form a low-rank pair"
    case .invalidAlpha(let path, let key):
      return "\(path): tensor '\(key)' must be one finite number (the LoRA alpha)"
    case .invalidMetadata(let path, let reason):
      return "\(path): invalid lora_adapter_metadata: \(reason)"
    case .empty(let path):
      return "\(path): holds no LoRA tensors"
    case .missingComponent(let path, let key, let component):
      return "\(path): tensor '\(key)' is for a \(component), which this model does not have (a LoRA for another architecture?)"
    case .noTarget(let path, let key, let target):
      return "\(path): tensor '\(key)' targets '\(target)', which this model does not have (a LoRA for another architecture?)"
    case .targetShapeMismatch(let path, let key, let target, let weight, let delta):
      return "\(path): tensor '\(key)' gives a \(delta) delta but '\(target)' is \(weight) (a LoRA for another architecture?)"
    case .duplicateTarget(let path, let key, let other, let target):
      return "\(path): tensors '\(other)' and '\(key)' both adapt '\(target)'"
    case .embeddingLayout(let path, let reason):
      return "\(path): not a textual-inversion embedding: \(reason)"
    case .embeddingWidth(let path, let width, let expected):
      return "\(path): the embedding's vectors are \(width) wide but this model's text encoder uses \(expected) (an embedding for another model?)"
    case .tokenTaken(let path, let token):
      return "\(path): the trigger word '\(token)' (the file name) is already a token; rename the file"
    }
  }
}
