import Foundation
import SDImage
import SDModels
import SDTensor

/// diffusers `StableDiffusionSafetyChecker` (pipelines/stable_diffusion/safety_checker.py, `forward`),
/// run as `StableDiffusionPipeline.run_safety_checker` does on the 8-bit output images:
///
/// 1. the `feature_extractor/` processor (`CLIPImageProcessor`), then the CLIP vision tower and
///    `visual_projection` → image embedding;
/// 2. cosine similarity (`F.normalize`, ε 1e-12) with the 3 "special care" and the 17 concept embeddings;
/// 3. per image, in float32 as diffusers' numpy loop: special score `round(cos − threshold + adj, 3)`;
///    the first one above 0 sets `adj = 0.01` (for the special concepts after it too); an image is flagged
///    when any concept score `round(cos − threshold + adj, 3)` is above 0;
/// 4. flagged images are replaced by black ones.
public struct SafetyChecker: Sendable {
  public let vision: CLIPVisionModel
  let visualProjection: Linear
  /// `[concepts, P]` and `[special, P]`.
  let conceptEmbeds: Tensor, specialCareEmbeds: Tensor
  /// `concept_embeds_weights` / `special_care_embeds_weights`: the thresholds.
  public let conceptThresholds: [Float], specialCareThresholds: [Float]
  public let processor: CLIPImageProcessor

  /// Loads a diffusers model folder's `safety_checker/` (config.json + safetensors weights) and
  /// `feature_extractor/preprocessor_config.json` (OpenAI CLIP defaults when absent). `folder` may
  /// also be the `safety_checker/` folder itself.
  public init(folder path: String) throws {
    var folder = try FolderCheck.folder(path, what: "a diffusers model folder with safety_checker/")
    let sub = folder.appendingPathComponent("safety_checker")
    if FileManager.default.fileExists(atPath: sub.appendingPathComponent("config.json").path) { folder = sub }
    let json = try JSONConfig(url: folder.appendingPathComponent("config.json"))
    let config = try CLIPModelConfig(json)
    let w = WeightScope(try ComponentFiles.weights(in: folder))
    let preprocessor = folder.deletingLastPathComponent().appendingPathComponent("feature_extractor/preprocessor_config.json")
    let processor = FileManager.default.fileExists(atPath: preprocessor.path)
      ? try CLIPImageProcessor(configURL: preprocessor) : CLIPImageProcessor.openAI
    try self.init(w, config: config, processor: processor, source: folder.path)
  }

  /// The checker of a diffusers model folder, or nil when it has none (`safety_checker/config.json`
  /// absent, as in most community models and with `safety_checker=None`).
  public static func load(ifPresentIn modelFolder: String) throws -> SafetyChecker? {
    let config = URL(fileURLWithPath: modelFolder).appendingPathComponent("safety_checker/config.json")
    guard FileManager.default.fileExists(atPath: config.path) else { return nil }
    return try SafetyChecker(folder: modelFolder)
  }

  /// `w`: the root of a `StableDiffusionSafetyChecker` checkpoint (the vision tower under
  /// `vision_model.vision_model.*` as transformers 4 saved it, or `vision_model.*`).
  public init(_ w: WeightScope, config: CLIPModelConfig, processor: CLIPImageProcessor, source: String) throws {
    let side = config.vision.imageSize
    guard processor.outputSize == CLIPImageProcessor.PixelSize(width: side, height: side) else {
      throw ModelLoadError(path: source, problem: "the feature extractor does not make \(side)×\(side) images")
    }
    let nested = w("vision_model")("vision_model")
    vision = try CLIPVisionModel(
      nested.contains("embeddings.class_embedding") ? nested : w("vision_model"), config: config.vision)
    let p = config.projectionDim
    visualProjection = try Linear(w("visual_projection"), in: config.vision.encoder.width, out: p, bias: false)
    let concepts = w.shape(of: "concept_embeds")?.first ?? 17
    let special = w.shape(of: "special_care_embeds")?.first ?? 3
    conceptEmbeds = try w.tensor("concept_embeds", shape: [concepts, p])
    specialCareEmbeds = try w.tensor("special_care_embeds", shape: [special, p])
    conceptThresholds = try w.tensor("concept_embeds_weights", shape: [concepts]).data
    specialCareThresholds = try w.tensor("special_care_embeds_weights", shape: [special]).data
    self.processor = processor
  }

  /// What the checker saw in one image.
  public struct Report: Sendable {
    /// `visual_projection(pooled)`: `[P]`.
    public let imageEmbeds: [Float]
    /// Cosine similarity with each special-care embedding and each concept embedding.
    public let specialCosine: [Float], conceptCosine: [Float]
    /// diffusers' `has_nsfw_concept`.
    public let flagged: Bool
  }

  /// One report per image, in order.
  public func reports(_ images: [RGBImage]) -> [Report] {
    guard !images.isEmpty else { return [] }
    let embeds = visualProjection(vision(processor.pixelValues(images)).pooled)  // [N, P]
    let special = Self.cosine(embeds, specialCareEmbeds), concept = Self.cosine(embeds, conceptEmbeds)
    let p = embeds.shape[1], ns = specialCareEmbeds.shape[0], nc = conceptEmbeds.shape[0]
    return images.indices.map { i in
      let s = Array(special.data[i * ns..<(i + 1) * ns]), c = Array(concept.data[i * nc..<(i + 1) * nc])
      return Report(
        imageEmbeds: Array(embeds.data[i * p..<(i + 1) * p]), specialCosine: s, conceptCosine: c,
        flagged: Self.flagged(special: s, concept: c, specialThresholds: specialCareThresholds, conceptThresholds: conceptThresholds))
    }
  }

  /// diffusers' `has_nsfw_concepts`, one per image.
  public func check(_ images: [RGBImage]) -> [Bool] { reports(images).map(\.flagged) }

  /// The images with every flagged one replaced by black (same size), and the flags.
  public func filter(_ images: [RGBImage]) -> (images: [RGBImage], flagged: [Bool]) {
    let flags = check(images)
    let out = zip(images, flags).map { image, flagged in
      flagged ? RGBImage(width: image.width, height: image.height, channels: image.channels, repeating: 0) : image
    }
    return (out, flags)
  }

  /// The decision loop of `StableDiffusionSafetyChecker.forward` for one image, in float32 with
  /// numpy's `round(x, 3)` (x·1000 in float32, rounded half to even) before comparing with 0.
  static func flagged(special: [Float], concept: [Float], specialThresholds: [Float], conceptThresholds: [Float]) -> Bool {
    func positive(_ cos: Float, _ threshold: Float, _ adjustment: Float) -> Bool {
      let score = (cos - threshold) + adjustment
      return (score * 1000).rounded(.toNearestOrEven) > 0
    }
    var adjustment: Float = 0
    for (cos, threshold) in zip(special, specialThresholds) where positive(cos, threshold, adjustment) {
      adjustment = 0.01
    }
    return zip(concept, conceptThresholds).contains { positive($0, $1, adjustment) }
  }

  /// diffusers `cosine_distance`: rows of `a` `[N, P]` and `b` `[M, P]` each divided by
  /// `max(‖row‖, 1e-12)` (`F.normalize`), then `a · bᵀ`: `[N, M]`.
  static func cosine(_ a: Tensor, _ b: Tensor) -> Tensor {
    func normalized(_ t: Tensor) -> Tensor {
      let (n, d) = (t.shape[0], t.shape[1])
      var out = t
      for i in 0..<n {
        var sum: Float = 0
        for j in 0..<d { sum += t.data[i * d + j] * t.data[i * d + j] }
        let norm = max(sum.squareRoot(), 1e-12)
        for j in 0..<d { out.data[i * d + j] = t.data[i * d + j] / norm }
      }
      return out
    }
    return normalized(a).matmul(normalized(b), transposeB: true)  // [N, M]
  }
}
