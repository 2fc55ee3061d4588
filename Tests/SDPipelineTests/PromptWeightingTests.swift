import Foundation
import SDModels
import SDPipeline
import SDTensor
import SDTestSupport
import Testing

/// `--prompt-weighting a1111` against the reference implementation of A1111's rules in
/// scripts/fixtures/prompt_weighting.py: the parser's pieces and weights exactly (weights are stored
/// as `float.hex()`), the chunks' token ids and multipliers exactly, and the weighted text-encoder
/// states to 1e-4 × max(1, max |ref|).
@Suite struct PromptWeightingTests {
  struct ParserCase: Sendable, CustomStringConvertible {
    let prompt: String
    /// (text, hex weight); nil when the reference raised.
    let parsed: [[String]]?
    var description: String { prompt.debugDescription }
  }

  struct ChunkCase: Sendable, CustomStringConvertible {
    let prompt: String
    let ids: [[Int]]
    let multipliers: [[String]]
    var description: String { String(prompt.prefix(60)).debugDescription }
  }

  static let parserJSON: [String: Any] = {
    guard let data = try? Fixtures.data("reference/prompt_weighting/parser.json"),
      let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any]
    else { return [:] }
    return object
  }()

  static func parserCases() -> [ParserCase] {
    (parserJSON["cases"] as? [[String: Any]] ?? []).map { c in
      ParserCase(
        prompt: c["prompt"] as! String,
        parsed: (c["parsed"] as? [[Any]])?.map { [$0[0] as! String, $0[1] as! String] })
    }
  }

  static func chunkCases() -> [ChunkCase] {
    (parserJSON["chunks"] as? [[String: Any]] ?? []).map { c in
      let chunks = c["chunks"] as! [[String: Any]]
      return ChunkCase(
        prompt: c["prompt"] as! String, ids: chunks.map { $0["ids"] as! [Int] },
        multipliers: chunks.map { $0["multipliers"] as! [String] })
    }
  }

  /// Python's `float.hex()` text → the same Double.
  static func double(hex: String) -> Double? { Double(hex) }

  @Test func referenceCoversFortyPrompts() {
    #expect(Self.parserCases().count >= 40)
    #expect(Self.parserCases().contains { $0.parsed == nil })
    #expect(Self.chunkCases().count >= 40)
    #expect(Self.double(hex: "0x1.199999999999ap+0") == 1.1)
    #expect(Self.double(hex: "-0x1.0000000000000p+0") == -1)
  }

  @Test(arguments: parserCases())
  func parserMatchesReference(_ c: ParserCase) throws {
    guard let expected = c.parsed else {
      #expect(throws: PromptWeightingError.self) { try PromptAttention.parse(c.prompt) }
      return
    }
    let pieces = try PromptAttention.parse(c.prompt)
    #expect(pieces.map(\.text) == expected.map { $0[0] })
    #expect(pieces.map(\.weight) == expected.map { Self.double(hex: $0[1]) ?? .nan }, "\(pieces)")
  }

  static let tokenizer = Result { try CLIPTokenizer(folder: Fixtures.url("models/sd1-tiny/tokenizer")) }

  @Test(arguments: chunkCases())
  func chunksMatchReference(_ c: ChunkCase) throws {
    let chunks = PromptChunks.make(try PromptAttention.parse(c.prompt), tokenizer: try Self.tokenizer.get())
    #expect(chunks.map(\.ids) == c.ids)
    #expect(chunks.map(\.multipliers) == c.multipliers.map { $0.map { Self.double(hex: $0) ?? .nan } })
  }

  struct ConditioningCase: Sendable, CustomStringConvertible {
    let name: String
    let json: [String: any Sendable]
    var description: String { name }
  }

  /// `xl`: the SDXL cases (both encoders; `"xl": true` in the index), else the SD 1.x/2.x ones.
  static func conditioningCases(xl: Bool = false) -> [ConditioningCase] {
    guard let data = try? Fixtures.data("reference/prompt_weighting/conditioning/index.json"),
      let index = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
      let cases = index["cases"] as? [[String: Any]]
    else { return [] }
    return cases.filter { ($0["xl"] as? Bool ?? false) == xl }.compactMap { c in
      guard let name = c["name"] as? String,
        let data = try? Fixtures.data("reference/prompt_weighting/conditioning/\(name).json"),
        let json = try? JSONSerialization.jsonObject(with: data) as? [String: any Sendable]
      else { return nil }
      return ConditioningCase(name: name, json: json)
    }
  }

  @Test func conditioningFixturesArePresent() {
    #expect(Self.conditioningCases().count >= 7)
  }

  @Test(arguments: conditioningCases())
  func conditioningMatchesReference(_ c: ConditioningCase) throws {
    let json = c.json
    let model = try ModelBundle.load(Fixtures.url("models/\(json["model"] as! String)").path)
    let conditioning = TextConditioning(tokenizer: model.tokenizer, encoder: model.textEncoder)
    let negative = json["negative_prompt"] as? String
    let (context, _) = try conditioning.weightedContext(
      prompt: json["prompt"] as! String, negativePrompt: negative ?? "", guidance: negative != nil,
      clipSkip: json["clip_skip"] as! Int, longPrompt: json["long_prompt"] as! Bool)
    let reference = try SafeTensorsFile(url: Fixtures.url("reference/prompt_weighting/conditioning/\(c.name).safetensors"))
      .tensor("context")
    #expect(context.shape == reference.shape)
    guard context.shape == reference.shape else { return }
    let error = Compare.maxAbsDiff(context.data, reference.data)
    let tolerance = Compare.componentTolerance(reference.data)
    #expect(error <= tolerance, "\(c.name): max error \(error) > \(tolerance)")
    // The chunks behind it, exactly.
    let chunks = json["chunks"] as! [String: Any]
    let cond = chunks["cond"] as! [[String: Any]]
    var ours = try conditioning.weightedChunks(json["prompt"] as! String)
    if !(json["long_prompt"] as! Bool) { ours = Array(ours.prefix(1)) }
    #expect(ours.prefix(cond.count).map(\.ids) == cond.map { $0["ids"] as! [Int] })
  }

  @Test func xlConditioningFixturesArePresent() {
    #expect(Self.conditioningCases(xl: true).count >= 5)
  }

  static let xlModel = Result { try ModelBundle.load(Fixtures.url("models/sdxl-tiny").path) }

  /// SDXL: both encoders' weighted states (joined along the channels) and the unweighted pooled vector.
  @Test(arguments: conditioningCases(xl: true))
  func xlConditioningMatchesReference(_ c: ConditioningCase) throws {
    let json = c.json
    let model = try Self.xlModel.get()
    var options = GenerationOptions(prompt: json["prompt"] as! String)
    options.promptWeighting = .a1111
    options.clipSkip = json["clip_skip"] as! Int
    options.longPrompt = json["long_prompt"] as! Bool
    if let negative = json["negative_prompt"] as? String { (options.negativePrompt, options.negativePromptGiven) = (negative, true) }
    let (context, pooled, _) = try XLTextConditioning(towers: model.textTowers).prepare(
      options, guidance: json["guidance"] as! Bool, forceZeros: true)
    let file = try SafeTensorsFile(url: Fixtures.url("reference/prompt_weighting/conditioning/\(c.name).safetensors"))
    for (name, ours) in [("context", context), ("pooled", pooled)] {
      let reference = try file.tensor(name)
      #expect(ours.shape == reference.shape, "\(c.name) \(name)")
      guard ours.shape == reference.shape else { continue }
      let error = Compare.maxAbsDiff(ours.data, reference.data)
      let tolerance = Compare.componentTolerance(reference.data)
      #expect(error <= tolerance, "\(c.name) \(name): max error \(error) > \(tolerance)")
    }
  }

  /// Weights of 1 everywhere (no brackets, no BREAK, one chunk) give exactly the unweighted states.
  @Test func unweightedPromptIsUnchanged() throws {
    let model = try ModelBundle.load(Fixtures.url("models/sd1-tiny").path)
    let conditioning = TextConditioning(tokenizer: model.tokenizer, encoder: model.textEncoder)
    let prompt = "a photo of an astronaut riding a horse on mars"
    let plain = conditioning.context(prompt: prompt, negativePrompt: "blurry", guidance: true, clipSkip: 0, longPrompt: false)
    let (weighted, _) = try conditioning.weightedContext(
      prompt: prompt, negativePrompt: "blurry", guidance: true, clipSkip: 0, longPrompt: false)
    #expect(plain == weighted)
  }

  /// The same for SDXL: context and pooled, with a negative prompt and with zeros for none.
  @Test func xlUnweightedPromptIsUnchanged() throws {
    let conditioning = XLTextConditioning(towers: try Self.xlModel.get().textTowers)
    for negative in [nil, "blurry"] as [String?] {
      var options = GenerationOptions(prompt: "a photo of an astronaut riding a horse on mars")
      if let negative { (options.negativePrompt, options.negativePromptGiven) = (negative, true) }
      let plain = try conditioning.prepare(options, guidance: true, forceZeros: true)
      options.promptWeighting = .a1111
      let weighted = try conditioning.prepare(options, guidance: true, forceZeros: true)
      #expect(plain.context == weighted.context && plain.pooled == weighted.pooled)
    }
  }

  @Test func truncationIsReported() throws {
    let tokenizer = try Self.tokenizer.get()
    let chunks = PromptChunks.make(try PromptAttention.parse("a cat BREAK a dog"), tokenizer: tokenizer)
    #expect(chunks.count == 2 && chunks[0].length == 2 && chunks[1].length == 2)
    let model = try ModelBundle.load(Fixtures.url("models/sd1-tiny").path)
    let conditioning = TextConditioning(tokenizer: model.tokenizer, encoder: model.textEncoder)
    let (context, warnings) = try conditioning.weightedContext(
      prompt: "a cat BREAK a dog", negativePrompt: "", guidance: false, clipSkip: 0, longPrompt: false)
    #expect(context.shape == [1, 77, 32])
    #expect(warnings.count == 1 && warnings[0].contains("[a dog]"), "\(warnings)")
  }
}

@Suite struct PromptTagTests {
  @Test func loraTagsAreFoundAndRemoved() throws {
    let prompt = "<lora:style:0.6>a cat, <lora:detail> on a sofa <hypernet:x:1> <lora:neg:-1.5>"
    #expect(try PromptTags.loras(in: prompt) == [.init(name: "style", scale: 0.6), .init(name: "detail", scale: 1),
      .init(name: "neg", scale: -1.5)])
    #expect(PromptTags.removingLoRAs(from: prompt) == "a cat,  on a sofa <hypernet:x:1> ")
    #expect(PromptTags.removingLoRAs(from: "no tags (here:1.2)") == "no tags (here:1.2)")
  }

  @Test func unsupportedTagsAreRefused() {
    #expect(throws: PromptWeightingError.self) { try PromptTags.loras(in: "<lora:a:0.5:0.8>") }
    #expect(throws: PromptWeightingError.self) { try PromptTags.loras(in: "<lora:a:te=0.5>") }
    #expect(throws: PromptWeightingError.self) { try PromptTags.loras(in: "<lora:a:strong>") }
    #expect(throws: PromptWeightingError.self) { try PromptTags.loras(in: "<lora::1>") }
  }
}
