import SDTensor

/// The pre-LayerNorm transformer shared by CLIP's text and vision towers
/// (transformers `CLIPEncoderLayer`, `CLIPAttention`, `CLIPMLP`).
public struct CLIPAttention: Sendable {
  let qProj: Linear, kProj: Linear, vProj: Linear, outProj: Linear
  let heads: Int

  init(_ w: WeightScope, width: Int, heads: Int) throws {
    qProj = try Linear(w("q_proj"), in: width, out: width)
    kProj = try Linear(w("k_proj"), in: width, out: width)
    vProj = try Linear(w("v_proj"), in: width, out: width)
    outProj = try Linear(w("out_proj"), in: width, out: width)
    self.heads = heads
  }

  func callAsFunction(_ x: Tensor, causal: Bool) -> Tensor {
    // x: [B, T, width]; heads are split inside the attention kernel.
    let h = Attention.scaledDotProduct(q: qProj(x), k: kProj(x), v: vProj(x), heads: heads, causal: causal, precision: qProj.weight.precision)
    return outProj(h)  // [B, T, width]
  }
}

public struct CLIPEncoderLayer: Sendable {
  let layerNorm1: LayerNormLayer, selfAttn: CLIPAttention
  let layerNorm2: LayerNormLayer, fc1: Linear, fc2: Linear
  let activation: Activation

  init(_ w: WeightScope, config: CLIPEncoderConfig) throws {
    layerNorm1 = try LayerNormLayer(w("layer_norm1"), features: config.width, eps: config.layerNormEps)
    selfAttn = try CLIPAttention(w("self_attn"), width: config.width, heads: config.heads)
    layerNorm2 = try LayerNormLayer(w("layer_norm2"), features: config.width, eps: config.layerNormEps)
    fc1 = try Linear(w("mlp")("fc1"), in: config.width, out: config.intermediateSize)
    fc2 = try Linear(w("mlp")("fc2"), in: config.intermediateSize, out: config.width)
    activation = config.activation
  }

  func callAsFunction(_ x: Tensor, causal: Bool) -> Tensor {
    var h = x + selfAttn(layerNorm1(x), causal: causal)  // [B, T, width]
    var m = fc1(layerNorm2(h))  // [B, T, intermediate]
    m.apply(activation)
    h += fc2(m)  // [B, T, width]
    return h
  }
}

/// The sizes of one CLIP tower's transformer.
public struct CLIPEncoderConfig: Sendable, Equatable {
  public var width: Int
  public var layers: Int
  public var heads: Int
  public var intermediateSize: Int
  public var activation: Activation
  public var layerNormEps: Float

  public init(width: Int, layers: Int, heads: Int, intermediateSize: Int, activation: Activation, layerNormEps: Float) {
    self.width = width
    self.layers = layers
    self.heads = heads
    self.intermediateSize = intermediateSize
    self.activation = activation
    self.layerNormEps = layerNormEps
  }

  /// Reads `hidden_size`, `num_hidden_layers`, `num_attention_heads`, `intermediate_size`,
  /// `hidden_act`, `layer_norm_eps` with transformers' defaults for `defaults`.
  init(_ config: JSONConfig, defaults: CLIPEncoderConfig) throws {
    width = try config.int("hidden_size", default: defaults.width)
    layers = try config.int("num_hidden_layers", default: defaults.layers)
    heads = try config.int("num_attention_heads", default: defaults.heads)
    intermediateSize = try config.int("intermediate_size", default: defaults.intermediateSize)
    layerNormEps = try config.float("layer_norm_eps", default: defaults.layerNormEps)
    let act = try config.string("hidden_act")
    switch act {
    case nil: activation = defaults.activation
    case "quick_gelu": activation = .quickGELU
    case "gelu": activation = .gelu
    case "gelu_new", "gelu_pytorch_tanh": activation = .geluTanh
    case let other?: throw ConfigError(source: config.source, problem: "unsupported hidden_act \"\(other)\"")
    }
    guard width > 0, layers > 0, heads > 0, width % heads == 0, intermediateSize > 0 else {
      throw ConfigError(source: config.source, problem: "hidden_size \(width) is not divisible by \(heads) heads")
    }
  }
}

/// The stack of encoder layers; returns every intermediate state (transformers' `hidden_states`):
/// index 0 is the input embeddings, index i the output of layer i.
struct CLIPEncoder: Sendable {
  let layers: [CLIPEncoderLayer]

  init(_ w: WeightScope, config: CLIPEncoderConfig) throws {
    layers = try (0..<config.layers).map { try CLIPEncoderLayer(w("layers")($0), config: config) }
  }

  func callAsFunction(_ x: Tensor, causal: Bool) -> [Tensor] {
    var states = [x]
    for layer in layers { states.append(layer(states[states.count - 1], causal: causal)) }
    return states
  }
}
