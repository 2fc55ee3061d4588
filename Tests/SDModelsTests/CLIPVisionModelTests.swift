import Foundation
import SDTensor
import SDTestSupport
import Testing

@testable import SDModels

/// CLIPModel / CLIPVisionModel loading and the pure scoring function, against transformers 5.24 on
/// the committed clip-tiny model (references: scripts/fixtures/pipelines.py `clip_ranking`). The
/// vision forward from PNG files is checked in SDPipelineTests/CLIPRankParityTests (it needs SDImage).
@Suite struct CLIPVisionModelTests {
  static func clipTiny() throws -> CLIPModel {
    let folder = Fixtures.url("models/clip-tiny")
    let config = try CLIPModelConfig(JSONConfig(url: folder.appendingPathComponent("config.json")))
    let store = try WeightStore(files: [SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors"))])
    return try CLIPModel(WeightScope(store), config: config)
  }

  static func reference() throws -> SafeTensorsFile {
    try SafeTensorsFile(url: Fixtures.url("reference/clip/ranking.safetensors"))
  }

  func expectClose(_ ours: Tensor, _ ref: Tensor, _ what: String) {
    #expect(ours.shape == ref.shape, "\(what): shape \(ours.shape) vs \(ref.shape)")
    guard ours.shape == ref.shape else { return }
    let err = Compare.maxAbsDiff(ours.data, ref.data), tolerance = Compare.componentTolerance(ref.data)
    #expect(err <= tolerance, "\(what): max error \(err) > \(tolerance)")
  }

  @Test func readsClipTinyConfig() throws {
    let config = try CLIPModelConfig(JSONConfig(url: Fixtures.url("models/clip-tiny/config.json")))
    #expect(config.projectionDim == 24)
    #expect(abs(config.logitScaleInit - 2.6592) < 1e-6)
    #expect(config.vision.imageSize == 224 && config.vision.patchSize == 32 && config.vision.gridSize == 7)
    #expect(config.vision.positions == 50)
    #expect(config.vision.encoder == CLIPEncoderConfig(
      width: 32, layers: 2, heads: 4, intermediateSize: 64, activation: .quickGELU, layerNormEps: 1e-5))
    #expect(config.text.encoder.width == 32 && config.text.eosTokenId == 2)
  }

  @Test func readsSafetyCheckerConfig() throws {
    let url = Fixtures.url("models/sd1-tiny-safety/safety_checker/config.json")
    let config = try CLIPModelConfig(JSONConfig(url: url))
    #expect(config.projectionDim == 16 && config.vision.patchSize == 14 && config.vision.positions == 257)
    #expect(config.vision.encoder.intermediateSize == 48)
  }

  @Test func missingKeysTakeTransformersDefaults() throws {
    let config = try CLIPModelConfig(JSONConfig(values: [:], source: "empty"))
    #expect(config.vision == CLIPVisionConfig.vitB32)
    #expect(config.projectionDim == 512)
    #expect(config.text.encoder.width == 512 && config.text.encoder.layers == 12)
  }

  @Test func rejectsImpossibleVisionConfigs() {
    for values: [String: Any] in [["patch_size": 0], ["image_size": 16, "patch_size": 32], ["num_channels": 4]] {
      #expect(throws: ConfigError.self) { try CLIPVisionConfig(JSONConfig(values: values, source: "bad")) }
    }
  }

  @Test func loadsEveryTensorOfClipTiny() throws {
    let folder = Fixtures.url("models/clip-tiny")
    let config = try CLIPModelConfig(JSONConfig(url: folder.appendingPathComponent("config.json")))
    let store = try WeightStore(files: [SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors"))])
    let model = try CLIPModel(WeightScope(store), config: config)
    #expect(store.unclaimedKeys.isEmpty, "unused tensors: \(store.unclaimedKeys)")
    #expect(abs(model.logitScale - 2.66015625) < 1e-6)  // 2.6592 stored as float16
  }

  @Test func missingVisionTensorNamesItsKey() throws {
    let folder = Fixtures.url("models/clip-tiny")
    let config = try CLIPModelConfig(JSONConfig(url: folder.appendingPathComponent("config.json")))
    let file = try SafeTensorsFile(url: folder.appendingPathComponent("model.safetensors"))
    let store = try WeightStore(files: [file]) { $0 == "vision_model.pre_layrnorm.weight" ? nil : $0 }
    let error = #expect(throws: CheckpointError.self) { try CLIPModel(WeightScope(store), config: config) }
    #expect("\(error.map { "\($0)" } ?? "")".contains("vision_model.pre_layrnorm.weight"))
  }

  @Test func textTowerMatchesTransformers() throws {
    let model = try Self.clipTiny(), ref = try Self.reference()
    let ids = try ref.tensor("text_input_ids")
    let rows = (0..<ids.dim(0)).map { b in (0..<ids.dim(1)).map { Int(ids.data[b * ids.dim(1) + $0]) } }
    expectClose(model.textModel(rows).pooled, try ref.tensor("text_pooler_output"), "text pooler_output")
    let features = model.textFeatures(rows)
    expectClose(features, try ref.tensor("text_features"), "text_features")
    expectClose(CLIPScorer.l2Normalized(features), try ref.tensor("text_embeds"), "text_embeds")
  }

  @Test func visionTowerRunsOnAnyBatch() throws {
    let model = try Self.clipTiny()
    var pixels = Tensor(zeros: [3, 3, 224, 224])
    for i in pixels.data.indices { pixels.data[i] = Float((i * 7919) % 255) / 127 - 1 }
    let out = model.visionModel(pixels)
    #expect(out.lastHiddenState.shape == [3, 50, 32] && out.pooled.shape == [3, 32])
    // Batching does not mix images: image 1 alone gives the same pooled output.
    let single = model.visionModel(pixels.slice(axis: 0, 1..<2)).pooled
    #expect(Compare.maxAbsDiff(single.data, Array(out.pooled.data[32..<64])) < 1e-5)
    #expect(model.imageFeatures(pixels).shape == [3, 24])
  }

  @Test func scorerOnReferenceFeaturesGivesLogitsPerImage() throws {
    let ref = try Self.reference()
    let logits = CLIPScorer.logitsPerImage(
      imageFeatures: try ref.tensor("image_features"), textFeatures: try ref.tensor("text_features"),
      logitScale: try Self.clipTiny().logitScale)
    expectClose(logits, try ref.tensor("logits_per_image"), "logits_per_image")
    expectClose(CLIPScorer.l2Normalized(try ref.tensor("image_features")), try ref.tensor("image_embeds"), "image_embeds")
  }

  @Test func scorerOnHandMadeVectors() {
    // image 0 = (3, 4) → (0.6, 0.8); image 1 = (0, 2) → (0, 1); text = (1, 0) and (0, 5) → (0, 1).
    let images = Tensor(shape: [2, 2], data: [3, 4, 0, 2])
    let texts = Tensor(shape: [2, 2], data: [1, 0, 0, 5])
    let logits = CLIPScorer.logitsPerImage(imageFeatures: images, textFeatures: texts, logitScale: log(100))
    #expect(logits.shape == [2, 2])
    for (ours, expected) in zip(logits.data, [Float(60), 80, 0, 100]) { #expect(abs(ours - expected) < 1e-4) }
    // logit_scale 0: plain cosine similarity.
    let cosine = CLIPScorer.logitsPerImage(imageFeatures: images, textFeatures: images, logitScale: 0)
    for (ours, expected) in zip(cosine.data, [Float(1), 0.8, 0.8, 1]) { #expect(abs(ours - expected) < 1e-6) }
    let zero = CLIPScorer.l2Normalized(Tensor(shape: [1, 2], data: [0, 0]))
    #expect(zero.data.allSatisfy { $0.isNaN })
  }

  @Test func rankingIsDescendingAndStable() {
    #expect(CLIPScorer.ranking([1, 3, 2]) == [1, 2, 0])
    #expect(CLIPScorer.ranking([2, 5, 2, 5]) == [1, 3, 0, 2])
    #expect(CLIPScorer.ranking([.nan, -1, 4]) == [2, 1, 0])
    #expect(CLIPScorer.ranking([]) == [])
  }
}
