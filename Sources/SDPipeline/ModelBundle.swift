import Foundation
import SDModels
import SDTensor

/// The components of one Stable Diffusion model, loaded from a diffusers folder
/// (`model_index.json`, `unet/`, `vae/`, `text_encoder/`, `tokenizer/`, `scheduler/`) or from a
/// single-file CompVis/LDM `.safetensors` checkpoint. Every missing or mis-shaped tensor is an
/// error naming the key; unknown tensors are listed in `unusedKeys`.
public final class ModelBundle: @unchecked Sendable {
  /// What a load depends on besides the path. `Hashable`: `ModelCache` keys loaded models by the
  /// whole value, so a field added here takes part in the key (and must be `Hashable` too).
  public struct Options: Sendable, Hashable {
    /// Load the VAE encoder too (img2img, inpaint, the latent upscaler).
    public var needsEncoder = false
    /// Overrides the scheduler's `prediction_type` ("epsilon", "v_prediction").
    public var predictionType: String?
    /// The arithmetic the model's layers are built for (bf16 packs the weights at load).
    public var precision: Precision
    /// Another `AutoencoderKL` instead of the model's (a diffusers folder or a `.safetensors`).
    public var vae: String?
    /// A TAESD (`AutoencoderTiny`) instead of the model's VAE, for decoding and encoding.
    public var taesd: String?
    /// LoRAs merged into the weights and textual-inversion embeddings added, at load.
    public var adapters = ModelAdapters()

    public init(
      needsEncoder: Bool = false, predictionType: String? = nil, precision: Precision = .current, vae: String? = nil,
      taesd: String? = nil
    ) {
      self.needsEncoder = needsEncoder
      self.predictionType = predictionType
      self.precision = precision
      self.vae = vae
      self.taesd = taesd
    }
  }

  /// A short name for metadata: the folder or file name without extension.
  public let name: String
  /// The text encoders in diffusers' order: one for SD 1.x/2.x; CLIP-L then OpenCLIP-bigG for
  /// SDXL; bigG alone for the SDXL refiner.
  public let textTowers: [TextTower]
  /// The first tokenizer and text encoder.
  public var tokenizer: CLIPTokenizer { textTowers[0].tokenizer }
  public var textEncoder: CLIPTextModel { textTowers[0].encoder }
  /// SDXL's pipeline settings (a UNet with the text-time embedding); nil for SD 1.x/2.x.
  public let xl: XLSettings?
  public let unet: UNet
  /// The image ⇄ latent codec the pipelines use: the model's VAE, or what `Options.vae` /
  /// `Options.taesd` put in its place.
  public let autoencoder: any LatentAutoencoder
  /// The codec when it is an `AutoencoderKL` (nil with a TAESD); the upscalers need one.
  public var vae: AutoencoderKL? { autoencoder as? AutoencoderKL }
  /// The codec when it is a TAESD.
  public var taesd: AutoencoderTiny? { autoencoder as? AutoencoderTiny }
  /// The scheduler configuration the model ships (`scheduler/scheduler_config.json`), or SD's
  /// PNDM defaults for single files.
  public let schedulerConfig: JSONConfig
  /// One line describing the detected architecture (`sd1: …`).
  public let summary: String
  /// Tensors of the checkpoint no component used.
  public let unusedKeys: [String]
  /// Parameters each component loaded: text encoder, UNet, VAE.
  public let parameterCounts: [(String, Int)]
  /// One tokenizer and text encoder.
  public struct TextTower: Sendable {
    public let tokenizer: CLIPTokenizer
    public let encoder: CLIPTextModel
  }

  /// `model_index.json` of a diffusers folder (the pipeline `_class_name`, the x4 upscaler's
  /// `max_noise_level`); nil for single files.
  public let modelIndex: JSONConfig?
  /// `low_res_scheduler/scheduler_config.json` when the folder has one (the x4 upscaler's DDPM
  /// schedule for noising the low-resolution image).
  public let lowResSchedulerConfig: JSONConfig?
  /// The LoRAs and embeddings merged at load (`Options.adapters`).
  public let adapters: AppliedAdapters
  /// The text encoders' weights, whose file pages `releaseTextEncoderPages` lets go.
  private let textStores: [WeightStore]

  /// Drops the text encoders' 16-bit weights from resident memory once a prompt is encoded (see
  /// `buildNetworks`); the next encoding reads them back from the file or the page cache.
  func releaseTextEncoderPages() {
    for store in textStores { store.releaseResidentPages() }
  }

  static func parameters(_ store: WeightStore) -> Int {
    store.claimedKeys.reduce(0) { $0 + (store.shape(of: $1)?.reduce(1, *) ?? 0) }
  }

  public static func load(_ path: String, options: Options = Options()) throws -> ModelBundle {
    let url = URL(fileURLWithPath: path)
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ModelLoadError(path: path, problem: "no such file or folder")
    }
    if isDirectory.boolValue { return try ModelBundle(diffusersFolder: url, options: options) }
    let ext = url.pathExtension.lowercased()
    if ["ckpt", "pt", "pth", "bin", "pkl"].contains(ext) { throw CheckpointError.pickleRefused(path: path) }
    return try ModelBundle(singleFile: url, options: options)
  }

  init(diffusersFolder folder: URL, options: Options) throws {
    let index = folder.appendingPathComponent("model_index.json")
    guard FileManager.default.fileExists(atPath: index.path) else {
      throw ModelLoadError(path: folder.path, problem: "is not a diffusers model folder (no model_index.json)")
    }
    let modelIndex = try JSONConfig(url: index)
    self.modelIndex = modelIndex
    name = folder.lastPathComponent
    func component(_ sub: String) -> URL { folder.appendingPathComponent(sub) }
    let lowRes = component("low_res_scheduler/scheduler_config.json")
    lowResSchedulerConfig = FileManager.default.fileExists(atPath: lowRes.path) ? try JSONConfig(url: lowRes) : nil

    // model_index.json lists the text encoders; a null entry (the SDXL refiner's text_encoder) is absent.
    func listed(_ key: String) -> Bool { ((modelIndex.values[key] as? [Any])?.first).map { !($0 is NSNull) } ?? false }
    var slots: [TowerSlot] = []
    for (sub, tokenizerSub, part, projection) in [
      ("text_encoder", "tokenizer", AdapterComponent.textEncoder, false), ("text_encoder_2", "tokenizer_2", .textEncoder2, true),
    ] where listed(sub) || (sub == "text_encoder" && modelIndex.values[sub] == nil) {
      let config = try CLIPTextConfig(JSONConfig(url: component("\(sub)/config.json")))
      let store = try ComponentFiles.weights(in: component(sub), keyPrefix: "text_model.")
      slots.append(TowerSlot(
        tokenizer: try CLIPTokenizer(folder: component(tokenizerSub)), config: config, store: store, component: part,
        projection: projection))
    }
    let unetConfig = try UNetConfig(JSONConfig(url: component("unet/config.json")))
    let unetStore = try ComponentFiles.weights(in: component("unet"))
    xl = try XLSettings(unet: unetConfig, pipeline: modelIndex, source: index.path)
    textStores = slots.map(\.store)
    (textTowers, unet, adapters) = try Self.buildNetworks(
      slots: slots, unetConfig: unetConfig, unetStore: unetStore, options: options, unetLayout: LDMKeyRules.UNetLayout(unetConfig))

    let vaeConfig = try VAEConfig(JSONConfig(url: component("vae/config.json")))
    let (codec, vaeStore) = try Self.loadAutoencoder(options, model: vaeConfig) { try ComponentFiles.weights(in: component("vae")) }
    autoencoder = codec

    schedulerConfig = try Self.overriding(
      JSONConfig(url: component("scheduler/scheduler_config.json")), prediction: options.predictionType)
    parameterCounts = Self.counts(slots, unetStore, vaeStore)
    unusedKeys = (options.needsEncoder ? [vaeStore] : []).flatMap(\.unclaimedKeys)
      + slots.flatMap { $0.store.unclaimedKeys.filter { !$0.contains("position_ids") } } + unetStore.unclaimedKeys
    summary = (xl.map { "\($0.variant): " } ?? "")
      + Self.describe(text: slots.map(\.config), unet: unetConfig, vae: vaeConfig, prediction: schedulerConfig)
  }

  init(singleFile url: URL, options: Options) throws {
    let checkpoint = try SingleFileCheckpoint(url: url)
    name = url.deletingPathExtension().lastPathComponent
    (modelIndex, lowResSchedulerConfig) = (nil, nil)
    var slots: [TowerSlot] = []
    if let config = checkpoint.textConfig {
      slots.append(TowerSlot(
        tokenizer: try CLIPTokenizer.bundled(padToken: checkpoint.family == .sd2 ? "!" : "<|endoftext|>"),
        config: try CLIPTextConfig(config), store: try checkpoint.textEncoderWeights(), component: .textEncoder, projection: false))
    }
    if let config = checkpoint.textConfig2 {
      slots.append(TowerSlot(
        tokenizer: try CLIPTokenizer.bundled(padToken: "!"), config: try CLIPTextConfig(config),
        store: try checkpoint.textEncoder2Weights(), component: .textEncoder2, projection: true))
    }
    let unetConfig = try UNetConfig(checkpoint.unetConfig)
    let unetStore = try checkpoint.unetWeights()
    xl = try XLSettings(
      unet: unetConfig, pipeline: checkpoint.pipelineConfig ?? XLSettings.defaultPipeline(refiner: checkpoint.family == .sdxlRefiner),
      source: url.path)
    textStores = slots.map(\.store)
    (textTowers, unet, adapters) = try Self.buildNetworks(
      slots: slots, unetConfig: unetConfig, unetStore: unetStore, options: options, unetLayout: checkpoint.unetLayout)
    let vaeConfig = try VAEConfig(checkpoint.vaeConfig)
    let (codec, vaeStore) = try Self.loadAutoencoder(options, model: vaeConfig) { try checkpoint.vaeWeights() }
    autoencoder = codec
    schedulerConfig = Self.overriding(
      checkpoint.schedulerConfig ?? (checkpoint.family.isXL ? XLSettings.baseScheduler(source: url.path) : Self.stableDiffusionScheduler(source: url.path)),
      prediction: options.predictionType)
    parameterCounts = Self.counts(slots, unetStore, vaeStore)
    unusedKeys = (options.needsEncoder ? vaeStore.unclaimedKeys : []) + unetStore.unclaimedKeys
    summary = "\(checkpoint.family.rawValue): "
      + Self.describe(text: slots.map(\.config), unet: unetConfig, vae: vaeConfig, prediction: schedulerConfig)
  }

  /// A text encoder about to be built: its tokenizer, config, weights and LoRA component.
  struct TowerSlot {
    var tokenizer: CLIPTokenizer
    var config: CLIPTextConfig
    let store: WeightStore
    let component: AdapterComponent
    let projection: Bool
  }

  /// Applies the adapters to the opened stores, then builds the text encoders and the UNet.
  static func buildNetworks(
    slots: [TowerSlot], unetConfig: UNetConfig, unetStore: WeightStore, options: Options, unetLayout: LDMKeyRules.UNetLayout?
  ) throws -> ([TextTower], UNet, AppliedAdapters) {
    guard !slots.isEmpty else {
      throw ModelLoadError(path: unetStore.sourceDescription, problem: "the model has no text encoder")
    }
    // A text encoder runs once per prompt. With a 16-bit checkpoint it keeps its weights in the
    // mapped file in bf16 as in fp32 (fp32 arithmetic, no resident bf16 copy), so that its pages
    // can leave memory between encodings (`releaseTextEncoderPages`): SDXL's two hold 1.6 GB.
    for slot in slots { slot.store.precision = slot.store.holdsHalfPrecisionWeights ? .fp32 : options.precision }
    unetStore.precision = options.precision
    var built = slots
    let applied = try applyAdapters(options.adapters, slots: &built, unetStore: unetStore, unetLayout: unetLayout)
    let towers = try built.map {
      TextTower(tokenizer: $0.tokenizer, encoder: try CLIPTextModel(WeightScope($0.store), config: $0.config, withProjection: $0.projection))
    }
    return (towers, try UNet(WeightScope(unetStore), config: unetConfig), applied)
  }

  static func counts(_ slots: [TowerSlot], _ unet: WeightStore, _ vae: WeightStore) -> [(String, Int)] {
    slots.enumerated().map { ($0.offset == 0 ? "text encoder" : "text encoder \($0.offset + 1)", parameters($0.element.store)) }
      + [("UNet", parameters(unet)), ("VAE", parameters(vae))]
  }

  /// SD 1.5's `scheduler/scheduler_config.json` (runwayml/stable-diffusion-v1-5): what
  /// diffusers' `from_single_file` uses when the checkpoint says nothing else.
  static func stableDiffusionScheduler(source: String) -> JSONConfig {
    JSONConfig(values: [
      "_class_name": "PNDMScheduler", "beta_start": 0.00085, "beta_end": 0.012, "beta_schedule": "scaled_linear",
      "num_train_timesteps": 1000, "set_alpha_to_one": false, "skip_prk_steps": true, "steps_offset": 1,
      "clip_sample": false, "prediction_type": "epsilon",
    ], source: "\(source) (default scheduler)")
  }

  /// The A1111 name of the sampler the model's scheduler config selects.
  public var defaultSamplerName: String {
    let className = (try? schedulerConfig.string("_class_name")) ?? nil
    let kind = className.flatMap { SamplerKind(diffusersClassName: $0) }
    return ImageParameters.samplerName(kind, karras: false, defaultName: className ?? "PLMS")
  }

  static func overriding(_ config: JSONConfig, prediction: String?) -> JSONConfig {
    guard let prediction else { return config }
    var values = config.values
    values["prediction_type"] = prediction
    return JSONConfig(values: values, source: config.source)
  }

  static func describe(text: [CLIPTextConfig], unet: UNetConfig, vae: VAEConfig, prediction: JSONConfig) -> String {
    let projection = unet.useLinearProjection ? "linear proj" : "conv proj"
    let predictionType = (try? prediction.string("prediction_type", default: "epsilon")) ?? "epsilon"
    let texts = text.map { "\($0.encoder.layers)×\($0.encoder.width)" }.joined(separator: " + ")
    return "context \(unet.crossAttentionDim[0]), heads \(unet.attentionHeads), \(projection), "
      + "UNet in \(unet.inChannels), text \(texts), VAE ×\(vae.downFactor), \(predictionType)"
  }
}
