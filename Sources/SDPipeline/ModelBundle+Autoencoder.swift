import Foundation
import SDModels
import SDTensor

extension ModelBundle {
  /// The image codec a model runs with: its own `AutoencoderKL`, another one (`--vae`: a
  /// diffusers folder or a single `.safetensors`), or a TAESD (`--taesd`: an `AutoencoderTiny`
  /// folder or madebyollin's `taesd_decoder.safetensors`), as diffusers' `pipe.vae = …` swaps it.
  /// The replacement must have the model's latent channels and down factor.
  /// - Returns: the codec and the store its weights came from (for parameter counts and unused keys).
  static func loadAutoencoder(
    _ options: Options, model: VAEConfig, modelWeights: () throws -> WeightStore
  ) throws -> (codec: any LatentAutoencoder, store: WeightStore) {
    let codec: any LatentAutoencoder, store: WeightStore, path: String
    if let taesd = options.taesd {
      (codec, store) = try loadTinyAutoencoder(taesd, needsEncoder: options.needsEncoder, precision: options.precision)
      path = taesd
    } else if let vae = options.vae {
      (codec, store) = try loadKLAutoencoder(vae, model: model, needsEncoder: options.needsEncoder, precision: options.precision)
      path = vae
    } else {
      store = try modelWeights()
      store.precision = options.precision
      return (try AutoencoderKL(WeightScope(store), config: model, loadEncoder: options.needsEncoder), store)
    }
    guard codec.latentChannels == model.latentChannels, codec.downFactor == model.downFactor else {
      throw ModelLoadError(
        path: path,
        problem: "has \(codec.latentChannels) latent channels and down factor \(codec.downFactor), but the model's VAE has \(model.latentChannels) and \(model.downFactor): it belongs to another model family")
    }
    return (codec, store)
  }

  /// A diffusers `AutoencoderKL` folder (or a pipeline folder's `vae/`), or one `.safetensors` file.
  static func loadKLAutoencoder(_ path: String, model: VAEConfig, needsEncoder: Bool, precision: Precision) throws
    -> (AutoencoderKL, WeightStore)
  {
    let config: VAEConfig, store: WeightStore
    if let folder = try componentFolder(path, expectedClass: "AutoencoderKL", otherOption: ("AutoencoderTiny", "--taesd")) {
      config = try VAEConfig(JSONConfig(url: folder.appendingPathComponent("config.json")))
      store = try ComponentFiles.weights(in: folder)
    } else {
      let checkpoint = try VAECheckpoint(url: URL(fileURLWithPath: path))
      // A lone VAE file does not know its model's latent scaling: it keeps the model's.
      let values = checkpoint.config.values.merging(["scaling_factor": model.scalingFactor]) { given, _ in given }
      config = try VAEConfig(JSONConfig(values: values, source: checkpoint.config.source))
      store = try checkpoint.weights()
    }
    store.precision = precision
    return (try AutoencoderKL(WeightScope(store), config: config, loadEncoder: needsEncoder), store)
  }

  /// A diffusers `AutoencoderTiny` folder, or madebyollin's decoder file (+ the encoder beside it).
  static func loadTinyAutoencoder(_ path: String, needsEncoder: Bool, precision: Precision) throws -> (AutoencoderTiny, WeightStore) {
    let config: TinyAutoencoderConfig, store: WeightStore
    if let folder = try componentFolder(path, expectedClass: "AutoencoderTiny", otherOption: ("AutoencoderKL", "--vae")) {
      config = try TinyAutoencoderConfig(JSONConfig(url: folder.appendingPathComponent("config.json")))
      store = try ComponentFiles.weights(in: folder)
    } else {
      let checkpoint = try TAESDCheckpoint(decoderURL: URL(fileURLWithPath: path))
      if needsEncoder && checkpoint.encoder == nil {
        throw ModelLoadError(
          path: path, problem: "is a TAESD decoder without its encoder (…encoder….safetensors beside it), which img2img and inpaint need")
      }
      config = try TinyAutoencoderConfig(checkpoint.config)
      store = try checkpoint.weights()
    }
    store.precision = precision
    return (try AutoencoderTiny(WeightScope(store), config: config, loadEncoder: needsEncoder), store)
  }

  /// The component folder `path` names (itself, or the `vae/` of a pipeline folder), or nil for
  /// a file. Refuses missing paths, pickles, and a folder of the other codec class.
  static func componentFolder(_ path: String, expectedClass: String, otherOption: (className: String, option: String)) throws -> URL? {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
      throw ModelLoadError(path: path, problem: "no such file or folder")
    }
    let url = URL(fileURLWithPath: path)
    guard isDirectory.boolValue else {
      if ["ckpt", "pt", "pth", "bin", "pkl"].contains(url.pathExtension.lowercased()) { throw CheckpointError.pickleRefused(path: path) }
      return nil
    }
    let fm = FileManager.default
    let folder = !fm.fileExists(atPath: url.appendingPathComponent("config.json").path)
      && fm.fileExists(atPath: url.appendingPathComponent("vae/config.json").path) ? url.appendingPathComponent("vae") : url
    let config = try JSONConfig(url: folder.appendingPathComponent("config.json"))
    if let name = try config.string("_class_name"), name != expectedClass {
      let hint = name == otherOption.className ? ": use \(otherOption.option) for it" : ""
      throw ModelLoadError(path: folder.path, problem: "holds \(Self.article(name)) \(name), not \(Self.article(expectedClass)) \(expectedClass)\(hint)")
    }
    return folder
  }
}

extension ModelBundle {
  /// "an AutoencoderKL", "a UNet2DConditionModel".
  static func article(_ word: String) -> String { "AEIOU".contains(word.first ?? "x") ? "an" : "a" }
}
