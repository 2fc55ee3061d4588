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

    public init(needsEncoder: Bool = false, predictionType: String? = nil, precision: Precision = .current) {
      self.needsEncoder = needsEncoder
      self.predictionType = predictionType
      self.precision = precision
    }
  }

  /// A short name for metadata: the folder or file name without extension.
  public let name: String
  public let tokenizer: CLIPTokenizer
  public let textEncoder: CLIPTextModel
  public let unet: UNet
  public let vae: AutoencoderKL
  /// The scheduler configuration the model ships (`scheduler/scheduler_config.json`), or SD's
  /// PNDM defaults for single files.
  public let schedulerConfig: JSONConfig
  /// One line describing the detected architecture (`sd1: …`).
  public let summary: String
  /// Tensors of the checkpoint no component used.
  public let unusedKeys: [String]
  /// Parameters each component loaded: text encoder, UNet, VAE.
  public let parameterCounts: [(String, Int)]
  /// `model_index.json` of a diffusers folder (the pipeline `_class_name`, the x4 upscaler's
  /// `max_noise_level`); nil for single files.
  public let modelIndex: JSONConfig?
  /// `low_res_scheduler/scheduler_config.json` when the folder has one (the x4 upscaler's DDPM
  /// schedule for noising the low-resolution image).
  public let lowResSchedulerConfig: JSONConfig?

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
    modelIndex = try JSONConfig(url: index)
    name = folder.lastPathComponent
    func component(_ sub: String) -> URL { folder.appendingPathComponent(sub) }
    let lowRes = component("low_res_scheduler/scheduler_config.json")
    lowResSchedulerConfig = FileManager.default.fileExists(atPath: lowRes.path) ? try JSONConfig(url: lowRes) : nil

    tokenizer = try CLIPTokenizer(folder: component("tokenizer"))
    let textConfig = try CLIPTextConfig(JSONConfig(url: component("text_encoder/config.json")))
    let textStore = try ComponentFiles.weights(in: component("text_encoder"), keyPrefix: "text_model.")
    textStore.precision = options.precision
    textEncoder = try CLIPTextModel(WeightScope(textStore), config: textConfig)

    let unetConfig = try UNetConfig(JSONConfig(url: component("unet/config.json")))
    let unetStore = try ComponentFiles.weights(in: component("unet"))
    unetStore.precision = options.precision
    unet = try UNet(WeightScope(unetStore), config: unetConfig)

    let vaeConfig = try VAEConfig(JSONConfig(url: component("vae/config.json")))
    let vaeStore = try ComponentFiles.weights(in: component("vae"))
    vaeStore.precision = options.precision
    vae = try AutoencoderKL(WeightScope(vaeStore), config: vaeConfig, loadEncoder: options.needsEncoder)

    schedulerConfig = try Self.overriding(
      JSONConfig(url: component("scheduler/scheduler_config.json")), prediction: options.predictionType)
    parameterCounts = [("text encoder", Self.parameters(textStore)), ("UNet", Self.parameters(unetStore)), ("VAE", Self.parameters(vaeStore))]
    unusedKeys = (options.needsEncoder ? [vaeStore] : []).flatMap(\.unclaimedKeys)
      + textStore.unclaimedKeys.filter { !$0.contains("position_ids") } + unetStore.unclaimedKeys
    summary = Self.describe(text: textConfig, unet: unetConfig, vae: vaeConfig, prediction: schedulerConfig)
  }

  init(singleFile url: URL, options: Options) throws {
    let checkpoint = try SingleFileCheckpoint(url: url)
    name = url.deletingPathExtension().lastPathComponent
    (modelIndex, lowResSchedulerConfig) = (nil, nil)
    tokenizer = try CLIPTokenizer.bundled(padToken: checkpoint.family == .sd1 ? "<|endoftext|>" : "!")
    let textConfig = try CLIPTextConfig(checkpoint.textConfig)
    let textStore = try checkpoint.textEncoderWeights()
    textStore.precision = options.precision
    textEncoder = try CLIPTextModel(WeightScope(textStore), config: textConfig)
    let unetConfig = try UNetConfig(checkpoint.unetConfig)
    let unetStore = try checkpoint.unetWeights()
    unetStore.precision = options.precision
    unet = try UNet(WeightScope(unetStore), config: unetConfig)
    let vaeConfig = try VAEConfig(checkpoint.vaeConfig)
    let vaeStore = try checkpoint.vaeWeights()
    vaeStore.precision = options.precision
    vae = try AutoencoderKL(WeightScope(vaeStore), config: vaeConfig, loadEncoder: options.needsEncoder)
    schedulerConfig = Self.overriding(
      checkpoint.schedulerConfig ?? Self.stableDiffusionScheduler(source: url.path), prediction: options.predictionType)
    parameterCounts = [("text encoder", Self.parameters(textStore)), ("UNet", Self.parameters(unetStore)), ("VAE", Self.parameters(vaeStore))]
    unusedKeys = (options.needsEncoder ? vaeStore.unclaimedKeys : []) + unetStore.unclaimedKeys
    summary = "\(checkpoint.family.rawValue): " + Self.describe(text: textConfig, unet: unetConfig, vae: vaeConfig, prediction: schedulerConfig)
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

  static func describe(text: CLIPTextConfig, unet: UNetConfig, vae: VAEConfig, prediction: JSONConfig) -> String {
    let projection = unet.useLinearProjection ? "linear proj" : "conv proj"
    let predictionType = (try? prediction.string("prediction_type", default: "epsilon")) ?? "epsilon"
    return "context \(unet.crossAttentionDim[0]), heads \(unet.attentionHeads), \(projection), "
      + "UNet in \(unet.inChannels), text \(text.encoder.layers)×\(text.encoder.width), "
      + "VAE ×\(vae.downFactor), \(predictionType)"
  }
}
