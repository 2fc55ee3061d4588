import Foundation
import SDTensor

/// A textual-inversion embedding, loaded as diffusers' `load_textual_inversion(file, token=stem)` does
/// (`loaders/textual_inversion.py`): the trigger word is the file's stem (A1111's rule); its vectors
/// become new tokens `stem`, `stem_1`, … appended to the tokenizer and as rows to the text encoder's
/// token-embedding table (`resize_token_embeddings`, then one row per vector).
///
/// Files: `.safetensors` holding one tensor — diffusers' `learned_embeds.safetensors` (`{token: [width]}`)
/// or A1111's `emb_params` `[vectors, width]` — or A1111's `string_to_param.*` flattened; or SDXL's pair
/// `clip_l` `[n, 768]` and `clip_g` `[n, 1280]`, which diffusers loads with two calls (its SDXL
/// textual-inversion docs: `clip_g` into `text_encoder_2`/`tokenizer_2`, `clip_l` into
/// `text_encoder`/`tokenizer`, the same token), and which only an SDXL model takes (the refiner, bigG
/// alone, takes its `clip_g`). Pickled `.pt`/`.bin` files are refused unread, like pickled checkpoints.
///
/// Differences from diffusers, both stricter: a trigger word that is already a token once lower-cased
/// (`Cat.safetensors`) is refused, since it would take over that word everywhere; and a multi-vector
/// trigger expands in any letter case (see `CLIPTokenizer.adding(tokens:)`).
public struct TextualInversion: Sendable {
  public let path: String
  /// The trigger word: the file name without its extension.
  public let token: String
  /// `[vectors, width]`: the file's one tensor, or an SDXL file's `clip_l` (for CLIP-L, the first encoder).
  public let vectors: Tensor
  /// An SDXL file's `clip_g` `[vectors, width]` (for OpenCLIP bigG, the second encoder); nil otherwise.
  public let clipG: Tensor?

  /// Whether this is an SDXL (`clip_l` + `clip_g`) embedding.
  public var isXL: Bool { clipG != nil }

  /// The vectors the text encoder `component` gets.
  public func vectors(for component: AdapterComponent) -> Tensor? {
    component == .textEncoder2 ? clipG : vectors
  }

  /// `token`, `token_1`, …: one token per vector (diffusers' `_extend_tokens_and_embeddings`).
  public var tokens: [String] { [token] + (1..<max(vectors.dim(0), 1)).map { "\(token)_\($0)" } }

  public init(url: URL) throws {
    let file = try SafeTensorsFile(url: url)
    path = file.path
    token = url.deletingPathExtension().lastPathComponent
    let names = file.names
    if names.contains("clip_l") || names.contains("clip_g") {
      guard Set(names) == ["clip_l", "clip_g"] else {
        let listed = names.sorted().joined(separator: ", ")
        throw AdapterError.embeddingLayout(path: path, reason: "an SDXL embedding needs exactly clip_l and clip_g, found \(listed)")
      }
      let clipL = try Self.vectors("clip_l", in: file), clipG = try Self.vectors("clip_g", in: file)
      guard clipL.dim(0) == clipG.dim(0) else {
        throw AdapterError.embeddingLayout(
          path: path, reason: "clip_l has \(clipL.dim(0)) vectors but clip_g \(clipG.dim(0)); an SDXL embedding gives both the same count")
      }
      (vectors, self.clipG) = (clipL, clipG)
      return
    }
    let key: String
    if names.count == 1 {
      key = names[0]
    } else if let flattened = names.first(where: { $0.hasPrefix("string_to_param.") }) {
      key = flattened
    } else {
      let listed = names.prefix(4).joined(separator: ", ") + (names.count > 4 ? ", …" : "")
      throw AdapterError.embeddingLayout(path: path, reason: "expected one tensor, found \(names.count) (\(listed))")
    }
    vectors = try Self.vectors(key, in: file)
    clipG = nil
  }

  /// Tensor `key` as `[vectors, width]` (a `[width]` tensor is one vector), finite.
  static func vectors(_ key: String, in file: SafeTensorsFile) throws -> Tensor {
    let shape = try LoRAFile.floatShape(key, in: file)
    guard (shape.count == 1 || shape.count == 2), !shape.contains(0) else {
      throw AdapterError.embeddingLayout(path: file.path, reason: "tensor '\(key)' has shape \(shape), expected [width] or [vectors, width]")
    }
    let tensor = try file.tensor(key)
    guard tensor.data.allSatisfy(\.isFinite) else {
      throw AdapterError.embeddingLayout(path: file.path, reason: "tensor '\(key)' holds non-finite values")
    }
    return shape.count == 1 ? tensor.reshaped([1, shape[0]]) : tensor
  }

  /// The key of the token-embedding table in a text encoder's store.
  public static let tableKey = "text_model.embeddings.token_embedding.weight"

  /// Adds `embeddings` to the text encoder `component` about to be built from `store` with `config`, and
  /// to its tokenizer: new ids from `tokenizer.vocabularySize` on; the table keeps its first
  /// `vocabularySize` rows and gains one row per vector (diffusers resizes it to `len(tokenizer) + n`).
  /// Each embedding gives the vectors it has for `component` (`vectors(for:)`); whether it suits the
  /// model at all is the caller's check.
  public static func apply(
    _ embeddings: [TextualInversion], component: AdapterComponent = .textEncoder, tokenizer: CLIPTokenizer,
    config: CLIPTextConfig, store: WeightStore
  ) throws -> (tokenizer: CLIPTokenizer, config: CLIPTextConfig) {
    let parts = embeddings.compactMap { e in e.vectors(for: component).map { (embedding: e, vectors: $0) } }
    guard !parts.isEmpty else { return (tokenizer, config) }
    let width = config.encoder.width
    guard let table = store.shape(of: tableKey), table.count == 2, table[1] == width, table[0] >= tokenizer.vocabularySize else {
      throw CheckpointError.missingTensor(key: tableKey, file: store.sourceDescription)
    }
    var taken = Set<String>()
    for (embedding, vectors) in parts {
      guard vectors.dim(1) == width else {
        throw AdapterError.embeddingWidth(path: embedding.path, width: vectors.dim(1), expected: width)
      }
      for token in embedding.tokens {
        let content = CLIPTokenizer.normalizedContent(token)
        guard !content.trimmingCharacters(in: .whitespaces).isEmpty, !tokenizer.isToken(token), taken.insert(content).inserted
        else { throw AdapterError.tokenTaken(path: embedding.path, token: token) }
      }
    }
    let (adapted, _) = tokenizer.adding(tokens: parts.map(\.embedding.tokens))
    let kept = tokenizer.vocabularySize
    let rows = Tensor.concat(parts.map(\.vectors), axis: 0)  // [new tokens, width]
    store.transform(tableKey, shape: [kept + rows.dim(0), width]) { table in
      Tensor.concat([table.slice(axis: 0, 0..<kept), rows], axis: 0)  // [kept + new, width]
    }
    var adaptedConfig = config
    adaptedConfig.vocabSize = kept + rows.dim(0)
    return (adapted, adaptedConfig)
  }
}
