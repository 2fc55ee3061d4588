import Foundation
import SDImage
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

@testable import SDPipeline

/// diffusers' `StableDiffusionSafetyChecker` on sd1-tiny-safety (scripts/fixtures/pipelines.py
/// `safety`): the feature extractor's image, the embedding and cosine similarities, the flags
/// (#0 by a concept, #2 only through the +0.01 special-care adjustment, #1 and #3 clean) and the
/// blacked-out outputs.
@Suite struct CLIPRankSafetyTests {
  static func checker() throws -> SafetyChecker {
    try SafetyChecker(folder: Fixtures.url("models/sd1-tiny-safety").path)
  }
  static func input(_ i: Int) throws -> RGBImage {
    try ImageFile.read(path: Fixtures.url("reference/inputs/safety_\(i).png").path)
  }
  static func reference() throws -> SafeTensorsFile {
    try SafeTensorsFile(url: Fixtures.url("reference/safety/checker.safetensors"))
  }
  static func expectedFlags() throws -> [Bool] {
    let json = try JSONSerialization.jsonObject(with: Fixtures.data("reference/safety/checker.json")) as! [String: Any]
    return (json["results"] as! [[String: Any]]).map { $0["has_nsfw_concept"] as! Bool }
  }

  func expectClose(_ ours: [Float], _ ref: [Float], _ what: String) {
    let err = Compare.maxAbsDiff(ours, ref), tolerance = Compare.componentTolerance(ref)
    #expect(err <= tolerance, "\(what): max error \(err) > \(tolerance)")
  }

  @Test(arguments: 0..<4)
  func featureExtractorImageIsBitExact(i: Int) throws {
    let ours = try Self.checker().processor.processedImage(try Self.input(i))
    let ref = try ImageFile.read(path: Fixtures.url("reference/safety/processed_safety_\(i).png").path)
    #expect(ours.pixels == ref.pixels)
  }

  @Test func embeddingsAndCosinesMatchDiffusers() throws {
    let checker = try Self.checker(), ref = try Self.reference()
    let reports = checker.reports(try (0..<4).map(Self.input))
    for i in 0..<4 {
      expectClose(reports[i].imageEmbeds, try ref.tensor("image_embeds_\(i)").data, "image_embeds_\(i)")
      expectClose(reports[i].specialCosine, try ref.tensor("special_cos_\(i)").data, "special_cos_\(i)")
      expectClose(reports[i].conceptCosine, try ref.tensor("concept_cos_\(i)").data, "concept_cos_\(i)")
    }
  }

  @Test func flagsAndBlackedOutImagesMatchDiffusers() throws {
    let checker = try Self.checker(), ref = try Self.reference()
    let inputs = try (0..<4).map(Self.input)
    #expect(try Self.expectedFlags() == [true, false, true, false])
    #expect(checker.check(inputs) == (try Self.expectedFlags()))
    let (outputs, flags) = checker.filter(inputs)
    #expect(flags == (try Self.expectedFlags()))
    for i in 0..<4 {
      // The reference output is the float image ([H, W, 3], PNG / 255) or zeros.
      let expected = try ref.tensor("output_\(i)").data.map { UInt8(($0 * 255).rounded()) }
      #expect(outputs[i].pixels.count == expected.count && zip(outputs[i].pixels, expected).allSatisfy { $0 == $1 }, "output \(i)")
      #expect(outputs[i].width == inputs[i].width && outputs[i].height == inputs[i].height)
    }
  }

  @Test func aSingleImageIsJudgedAlone() throws {
    let checker = try Self.checker()
    #expect(checker.check([try Self.input(2)]) == [true])
    #expect(checker.check([try Self.input(3)]) == [false])
    #expect(checker.check([]) == [])
  }

  @Test func presentOnlyWhereTheFolderHasOne() throws {
    #expect(try SafetyChecker.load(ifPresentIn: Fixtures.url("models/sd1-tiny").path) == nil)
    #expect(try SafetyChecker.load(ifPresentIn: Fixtures.url("models/sd1-tiny-safety").path) != nil)
    // The safety_checker/ folder itself works too.
    _ = try SafetyChecker(folder: Fixtures.url("models/sd1-tiny-safety/safety_checker").path)
    #expect(throws: ModelLoadError.self) { try SafetyChecker(folder: "/nonexistent/model") }
  }

  @Test func decisionFollowsDiffusersRoundingAndAdjustment() {
    let flagged = SafetyChecker.flagged
    // round(x, 3) > 0 needs x·1000 > 0.5 in float32 (numpy: round(float32(0.0005), 3) == 0.0,
    // round(float32(0.00050001), 3) == 0.001).
    #expect(!flagged([0], [0.0005], [1], [0]))
    #expect(flagged([0], [0.000_500_01], [1], [0]))
    #expect(!flagged([0], [0.2], [1], [0.3]))
    // A special-care hit adds 0.01 to every concept score after it.
    #expect(flagged([0.5], [0.295], [0.4], [0.3]))
    #expect(!flagged([0.4], [0.295], [0.4], [0.3]))
    // ... and to the special-care scores after it (no effect on the flag by itself).
    #expect(!flagged([0.5, 0.395], [0], [0.4, 0.4], [1]))
  }
}
