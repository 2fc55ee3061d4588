import Foundation
import SDImage
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// CLIP ranking end to end from the committed PNG files against transformers 5.24
/// (scripts/fixtures/pipelines.py `clip_ranking`: clip-tiny, inputs/clip_*.png, two prompts):
/// preprocessing (bit-exact uint8 image, pixel_values), the vision and text towers, embeddings and
/// `logits_per_image` within 1e-4 × max(1, max|ref|), and the ranking.
@Suite struct CLIPRankParityTests {
  static let images = ["clip_224x224.png", "clip_200x300.png", "clip_160x100.png", "clip_50x50.png"]

  static func ranker() throws -> CLIPRanker { try CLIPRanker(folder: Fixtures.url("models/clip-tiny").path) }
  static func reference() throws -> SafeTensorsFile { try SafeTensorsFile(url: Fixtures.url("reference/clip/ranking.safetensors")) }
  static func input(_ name: String) throws -> RGBImage { try ImageFile.read(path: Fixtures.url("reference/inputs/\(name)").path) }
  static func meta() throws -> [String: Any] {
    try JSONSerialization.jsonObject(with: Fixtures.data("reference/clip/ranking.json")) as! [String: Any]
  }

  func expectClose(_ ours: Tensor, _ ref: Tensor, _ what: String) {
    #expect(ours.shape == ref.shape, "\(what): shape \(ours.shape) vs \(ref.shape)")
    guard ours.shape == ref.shape else { return }
    let err = Compare.maxAbsDiff(ours.data, ref.data), tolerance = Compare.componentTolerance(ref.data)
    #expect(err <= tolerance, "\(what): max error \(err) > \(tolerance)")
  }

  @Test(arguments: images)
  func resizedAndCroppedImageIsBitExact(name: String) throws {
    let ours = CLIPImageProcessor.openAI.processedImage(try Self.input(name))
    let ref = try ImageFile.read(path: Fixtures.url("reference/clip/processed_\(name)").path)
    #expect(ours.width == 224 && ours.height == 224 && ours.channels == 3)
    let differing = zip(ours.pixels, ref.pixels).filter { $0 != $1 }.count
    #expect(ours.pixels.count == ref.pixels.count && differing == 0, "\(name): \(differing) bytes differ from Pillow's")
  }

  @Test func pixelValuesMatchTheProcessor() throws {
    let processor = try CLIPImageProcessor(configURL: Fixtures.url("models/clip-tiny/preprocessor_config.json"))
    #expect(processor == CLIPImageProcessor.openAI)
    let pixels = processor.pixelValues(try Self.images.map(Self.input))  // [4, 3, 224, 224]
    #expect(pixels.shape == [4, 3, 224, 224])
    let ref = try Self.reference()
    // pixel_values[:, :, ::16, ::16]
    var sub = [Float]()
    for n in 0..<4 {
      for c in 0..<3 {
        for y in stride(from: 0, to: 224, by: 16) {
          for x in stride(from: 0, to: 224, by: 16) { sub.append(pixels.data[((n * 3 + c) * 224 + y) * 224 + x]) }
        }
      }
    }
    let refSub = try ref.tensor("pixel_values_subsampled").data
    #expect(Compare.maxAbsDiff(sub, refSub) <= 1e-6, "subsampled pixel_values differ by \(Compare.maxAbsDiff(sub, refSub))")
    var sums = [Float]()
    for plane in 0..<12 {
      sums.append(Float(pixels.data[plane * 50176..<(plane + 1) * 50176].reduce(0.0) { $0 + Double($1) }))
    }
    let refSums = try ref.tensor("pixel_values_channel_sum").data
    #expect(Compare.maxAbsDiff(sums, refSums) <= 1e-3 * max(1, Compare.maxAbs(refSums)), "channel sums \(sums) vs \(refSums)")
  }

  @Test func embeddingsAndLogitsMatchTransformers() throws {
    let ranker = try Self.ranker(), ref = try Self.reference()
    let meta = try Self.meta(), prompts = meta["prompts"] as! [String]
    let ids = prompts.map(ranker.tokenIds)
    #expect(ids == (meta["input_ids"] as! [[Int]]))
    let pixels = ranker.processor.pixelValues(try Self.images.map(Self.input))
    let vision = ranker.model.visionModel(pixels)
    expectClose(vision.pooled, try ref.tensor("vision_pooler_output"), "vision pooler_output")
    expectClose(ranker.model.imageFeatures(pixels), try ref.tensor("image_features"), "image_features")
    expectClose(ranker.imageFeatures(try Self.images.map(Self.input)), try ref.tensor("image_features"), "batched image_features")
    let out = ranker.model(ids: ids, pixels: pixels)
    expectClose(out.imageEmbeds, try ref.tensor("image_embeds"), "image_embeds")
    expectClose(out.textEmbeds, try ref.tensor("text_embeds"), "text_embeds")
    expectClose(out.logitsPerImage, try ref.tensor("logits_per_image"), "logits_per_image")
    let scale = Float(exp(Double(ranker.model.logitScale)))
    #expect(abs(scale - (try ref.tensor("logit_scale").data[0])) < 1e-5)
  }

  @Test func rankerScoresAndOrdersLikeTheReference() throws {
    var ranker = try Self.ranker()
    ranker.batchSize = 3  // exercises a partial last batch
    let ref = try Self.reference().tensor("logits_per_image")  // [4, 2]
    let meta = try Self.meta()
    let prompts = meta["prompts"] as! [String], expected = meta["ranking_per_prompt"] as! [[Int]]
    let images = try Self.images.map(Self.input)
    for (j, prompt) in prompts.enumerated() {
      let scores = ranker.scores(prompt: prompt, images: images)
      let column = (0..<4).map { ref.data[$0 * 2 + j] }
      #expect(Compare.maxAbsDiff(scores, column) <= Compare.componentTolerance(column), "\(prompt): \(scores) vs \(column)")
      #expect(ranker.ranking(prompt: prompt, images: images) == expected[j])
    }
    #expect(ranker.scores(prompt: "x", images: []) == [])
  }

  @Test func loadingErrorsNameThePath() throws {
    #expect(throws: ModelLoadError.self) { try CLIPRanker(folder: "/nonexistent/clip") }
    #expect(throws: ModelLoadError.self) { try CLIPRanker(folder: Fixtures.url("models/clip-tiny/config.json").path) }
    // A diffusers text encoder has no vision tower.
    let error = #expect(throws: ConfigError.self) { try CLIPRanker(folder: Fixtures.url("models/sd1-tiny/text_encoder").path) }
    #expect(error?.description.contains("vision_config") == true)
  }
}
